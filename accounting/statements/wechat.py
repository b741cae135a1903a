"""WeChat Pay's trade bill (交易账单), as downloaded from the merchant platform or the
`/v3/bill/tradebill` download URL: UTF-8 CSV, a header row, detail rows in which every field
starts with a backtick (so Excel keeps long numbers as text), then a summary header row
(总交易单数,…) and one summary row. Times are Beijing time; amounts are in yuan. Payments have
交易状态 SUCCESS; refunds REFUND (with 商户退款单号 / 微信退款单号 and 退款金额); the fee column
(手续费) holds the fee of a payment and, on a refund row, the fee given back."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from accounting.statements import ParsedLine, StatementError, line_error, parse_local_time, parse_money

REQUIRED = ("交易时间", "微信订单号", "商户订单号", "交易状态", "手续费")
SUMMARY_FIRST = "总交易单数"


def _text(content: bytes) -> str | None:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def recognise(content: bytes) -> bool:
    text = _text(content)
    if not text:
        return False
    first = text.lstrip().split("\n", 1)[0]
    return all(column in first for column in REQUIRED)


def _cell(value: str) -> str:
    value = value.strip()
    return value[1:] if value.startswith("`") else value


def parse(content: bytes) -> list[ParsedLine]:
    text = _text(content)
    if text is None or not recognise(content):
        raise StatementError(
            _(
                "This is not a WeChat Pay trade bill: its first line should name the columns 交易时间, 微信订单号, 商户订单号, 交易状态 and 手续费."
            )
        )
    rows = list(csv.reader(io.StringIO(text)))
    header = [column.strip().lstrip("\ufeff") for column in rows[0]]
    index = {name: position for position, name in enumerate(header)}
    amount_column = "订单金额" if "订单金额" in index else "应结订单金额"
    if amount_column not in index:
        raise StatementError(_("This WeChat Pay trade bill has no 订单金额 column."))
    lines: list[ParsedLine] = []
    summary = None
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        first = row[0].strip()
        if first == SUMMARY_FIRST:
            summary = (number, [c.strip() for c in row], rows[number] if number < len(rows) else None)
            break
        if not first.startswith("`"):
            raise line_error(number, _("a detail row's fields start with a backtick (`); this one does not."))
        if len(row) != len(header):
            raise line_error(
                number,
                _("%(found)s fields where the header has %(expected)s.") % {"found": len(row), "expected": len(header)},
            )
        cells = {name: _cell(row[position]) for name, position in index.items()}
        status = cells["交易状态"]
        at = parse_local_time(cells["交易时间"], number, "交易时间")
        fee = abs(parse_money(cells["手续费"] or "0", number, "手续费"))
        if status == "SUCCESS":
            lines.append(
                ParsedLine(
                    line_no=number,
                    kind="payment",
                    occurred_at=at,
                    amount=parse_money(cells[amount_column], number, amount_column),
                    fee=fee,
                    merchant_reference=cells["商户订单号"],
                    provider_reference=cells["微信订单号"],
                    raw=cells,
                )
            )
        elif status == "REFUND":
            refund_column = "申请退款金额" if cells.get("申请退款金额") else "退款金额"
            lines.append(
                ParsedLine(
                    line_no=number,
                    kind="refund",
                    occurred_at=at,
                    amount=abs(parse_money(cells.get(refund_column, ""), number, refund_column)),
                    fee=fee,
                    merchant_reference=cells["商户订单号"],
                    provider_reference=cells.get("微信退款单号", ""),
                    refund_reference=cells.get("商户退款单号", ""),
                    raw=cells,
                )
            )
        else:  # REVOKED and the like: no money moved
            lines.append(
                ParsedLine(line_no=number, kind="other", occurred_at=at, amount=parse_money("0", number, ""), raw=cells)
            )
    if summary is None or summary[2] is None:
        raise StatementError(
            _("The WeChat Pay trade bill ends without its summary rows (总交易单数, …): the file is cut short.")
        )
    number, summary_header, values = summary
    values = [_cell(value) for value in values]
    if len(values) != len(summary_header):
        raise line_error(number + 1, _("the summary row does not match its header."))
    totals = dict(zip(summary_header, values, strict=True))
    try:
        count = int(totals.get(SUMMARY_FIRST, ""))
    except ValueError:
        raise line_error(number + 1, _("总交易单数 is not a number.")) from None
    if count != len(lines):
        raise line_error(
            number + 1,
            _("the summary counts %(summary)s transactions but the file lists %(rows)s.")
            % {"summary": count, "rows": len(lines)},
        )
    return lines
