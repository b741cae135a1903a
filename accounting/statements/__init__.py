"""Parsers of the payment providers' own statement files, one module per provider.

Each parser turns the file's bytes into `ParsedLine`s in our terms (payment, refund, fee) and
refuses, with the file line named, anything it cannot read: a file of another provider, a row
with the wrong number of fields, an amount or a time that is not one, a summary that disagrees
with the rows. Nothing here touches the database (accounting.reconciliation imports)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

CENT = Decimal("0.01")


class StatementError(ValueError):
    """The file cannot be imported; the message says why and, for a row, which line."""


@dataclass
class ParsedLine:
    line_no: int  # the line of the file, counting from 1
    kind: str  # StatementLine.Kind value
    occurred_at: datetime.datetime
    amount: Decimal
    fee: Decimal = Decimal("0.00")
    merchant_reference: str = ""  # our reference (out_trade_no / client_reference_id)
    provider_reference: str = ""  # the provider's own id of the transaction
    refund_reference: str = ""  # our refund's number, when the provider gives it back
    raw: dict = field(default_factory=dict)

    @property
    def day(self) -> datetime.date:
        return timezone.localtime(self.occurred_at).date()


def line_error(line_no: int, message: str) -> StatementError:
    return StatementError(_("Line %(line)s: %(problem)s") % {"line": line_no, "problem": message})


def parse_money(text: str, line_no: int, column: str) -> Decimal:
    cleaned = (text or "").strip().replace(",", "")
    try:
        value = Decimal(cleaned)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise line_error(
            line_no, _("%(column)s is not an amount: %(value)r.") % {"column": column, "value": text}
        ) from None
    if value != value.quantize(CENT):
        raise line_error(
            line_no, _("%(column)s has more than two decimals: %(value)s.") % {"column": column, "value": text}
        )
    return value.quantize(CENT)


def parse_local_time(text: str, line_no: int, column: str) -> datetime.datetime:
    """A "YYYY-MM-DD HH:MM:SS" time in the deployment's time zone (China's providers write
    Beijing time)."""
    try:
        naive = datetime.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise line_error(
            line_no, _("%(column)s is not a time: %(value)r.") % {"column": column, "value": text}
        ) from None
    return timezone.make_aware(naive)


def parser_for(provider: str):
    from accounting.statements import alipay, stripe, wechat

    return {"wechat": wechat.parse, "alipay": alipay.parse, "stripe": stripe.parse}[provider]


def looks_like(content: bytes) -> str | None:
    """Which provider's statement `content` looks like, to say so when the wrong one was chosen."""
    from accounting.statements import alipay, stripe, wechat

    for code, module in (("wechat", wechat), ("alipay", alipay), ("stripe", stripe)):
        if module.recognise(content):
            return code
    return None
