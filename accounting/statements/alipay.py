"""Alipay's account statement (账务明细), the `signcustomer` bill of the daily download
(alipay.data.dataservice.bill.downloadurl.query) or the merchant site's export: a CSV in GBK,
comment lines starting with # before the header (#支付宝账务明细查询, #账号, #起始日期…) and after
the rows (#…账务明细列表结束, #收入合计：N笔，共X元, #支出合计：…, #导出时间), and fields padded
with spaces or tabs. Each money movement is its own row: a payment (在线支付 / 交易) as income, a
refund (交易退款) as an expense, and the service fee (收费 / 服务费) as a separate expense row
carrying the same 商户订单号 (income when a refund gives it back)."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

from django.utils.translation import gettext as _

from accounting.statements import ParsedLine, StatementError, line_error, parse_local_time, parse_money

HEADER_MARK = "账务流水号"
REQUIRED = ("账务流水号", "业务流水号", "商户订单号", "发生时间", "收入金额（+元）", "支出金额（-元）", "业务类型")
PAYMENT_TYPES = ("在线支付", "交易", "交易付款")
REFUND_TYPES = ("交易退款", "退款")
FEE_TYPES = ("收费", "服务费", "交易服务费")
TOTAL = re.compile(r"#(收入|支出)合计[:：]\s*(\d+)\s*笔[,，]\s*共\s*([-\d.,]+)\s*元")


def _text(content: bytes) -> str | None:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if HEADER_MARK in text:
            return text
    return None


def recognise(content: bytes) -> bool:
    text = _text(content)
    return bool(text) and any(
        line.strip().startswith("#支付宝") or line.startswith(HEADER_MARK) for line in text.splitlines()[:10]
    )


def parse(content: bytes) -> list[ParsedLine]:
    text = _text(content)
    if text is None:
        raise StatementError(
            _(
                "This is not an Alipay account statement (账务明细): no header row naming 账务流水号 was found in GBK or UTF-8."
            )
        )
    raw_lines = text.splitlines()
    header_at = next((i for i, line in enumerate(raw_lines) if line.strip().startswith(HEADER_MARK)), None)
    header = [column.strip() for column in next(csv.reader([raw_lines[header_at]]))]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise line_error(header_at + 1, _("the header lacks %(columns)s.") % {"columns": ", ".join(missing)})
    lines: list[ParsedLine] = []
    totals: dict[str, tuple[int, int, Decimal]] = {}
    counted = {"收入": [0, Decimal(0)], "支出": [0, Decimal(0)]}
    for position, line in enumerate(raw_lines[header_at + 1 :], start=header_at + 2):
        if not line.strip():
            continue
        if line.startswith("#"):
            match = TOTAL.match(line.replace(" ", ""))
            if match:
                totals[match.group(1)] = (position, int(match.group(2)), abs(Decimal(match.group(3).replace(",", ""))))
            continue
        row = [cell.strip() for cell in next(csv.reader([line]))]
        if len(row) != len(header):
            raise line_error(
                position,
                _("%(found)s fields where the header has %(expected)s.") % {"found": len(row), "expected": len(header)},
            )
        cells = dict(zip(header, row, strict=True))
        income = parse_money(cells["收入金额（+元）"] or "0", position, "收入金额（+元）")
        expense = abs(parse_money(cells["支出金额（-元）"] or "0", position, "支出金额（-元）"))
        if income and expense:
            raise line_error(position, _("a row is either income or expense, not both."))
        if income:
            counted["收入"][0] += 1
            counted["收入"][1] += income
        if expense:
            counted["支出"][0] += 1
            counted["支出"][1] += expense
        at = parse_local_time(cells["发生时间"], position, "发生时间")
        kind_text = cells["业务类型"]
        common = {
            "line_no": position,
            "occurred_at": at,
            "merchant_reference": cells["商户订单号"],
            "provider_reference": cells["业务流水号"],
            "raw": cells,
        }
        if kind_text in PAYMENT_TYPES and income:
            lines.append(ParsedLine(kind="payment", amount=income, **common))
        elif kind_text in REFUND_TYPES:
            refund_no = re.search(r"\bR\d+\b", cells.get("备注", ""))
            lines.append(
                ParsedLine(
                    kind="refund",
                    amount=expense or income,
                    refund_reference=refund_no.group(0) if refund_no else "",
                    **common,
                )
            )
        elif kind_text in FEE_TYPES:
            # A fee charged is an expense; a fee given back with a refund is income.
            lines.append(ParsedLine(kind="fee", amount=Decimal("0.00"), fee=expense or -income, **common))
        else:
            lines.append(ParsedLine(kind="other", amount=income or expense, **common))
    for side, (position, count, amount) in totals.items():
        if (count, amount) != (counted[side][0], counted[side][1]):
            raise line_error(
                position,
                _("the footer counts %(count)s rows and %(amount)s but the rows add up to %(rows)s and %(sum)s.")
                % {"count": count, "amount": amount, "rows": counted[side][0], "sum": counted[side][1]},
            )
    if not totals:
        raise StatementError(
            _("The Alipay account statement ends without its #收入合计 / #支出合计 footer: the file is cut short.")
        )
    return lines
