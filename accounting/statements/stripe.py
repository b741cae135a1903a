"""Stripe's balance transactions: the Dashboard's CSV export (id, Type, Source, Amount, Fee, Net,
Currency, Created (UTC), … with amounts in major units, metadata as "<key> (metadata)"), the
itemized balance report (balance_transaction_id, created_utc, gross, fee, net,
reporting_category, source_id, payment_intent_id, payment_metadata[<key>]), or the API's
`GET /v1/balance_transactions` list as JSON (amounts in the currency's minor unit, `created` in
Unix seconds, `source` an id or an expanded object). Charges are payments; refunds are negative
amounts with a `re_…` source; the fee column is Stripe's fee."""

from __future__ import annotations

import csv
import datetime
import io
import json
from decimal import Decimal

from django.utils.translation import gettext as _

from accounting.statements import CENT, ParsedLine, StatementError, line_error, parse_money

# ISO 4217 currencies Stripe counts without minor units (its "zero-decimal currencies").
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "ugx",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
PAYMENT_TYPES = {"charge", "payment"}
REFUND_TYPES = {"refund", "payment_refund"}
REFERENCE_KEY = "reference"  # the metadata key our checkout sessions carry (wallet/online.py)

COLUMNS = {
    "id": ("id", "balance_transaction_id"),
    "type": ("type", "reporting_category"),
    "source": ("source", "source_id"),
    "amount": ("amount", "gross"),
    "fee": ("fee",),
    "currency": ("currency",),
    "created": ("created (utc)", "created_utc", "created"),
    "intent": ("payment_intent_id", "payment intent id", "paymentintent id"),
    "reference": (f"{REFERENCE_KEY} (metadata)", f"payment_metadata[{REFERENCE_KEY}]"),
}


def recognise(content: bytes) -> bool:
    try:
        text = content.decode("utf-8-sig").lstrip()
    except UnicodeDecodeError:
        return False
    if text.startswith("{"):
        return '"balance_transaction"' in text or '"object": "list"' in text or '"object":"list"' in text
    first = text.split("\n", 1)[0].lower()
    return (
        ("balance_transaction_id" in first or first.startswith(('"id"', "id,"))) and "fee" in first and "net" in first
    )


def _kind(type_text: str, amount: Decimal) -> str:
    if type_text in PAYMENT_TYPES:
        return "payment"
    if type_text in REFUND_TYPES:
        return "refund"
    return "other"


def _from_minor(value, currency: str, line_no: int, column: str) -> Decimal:
    if not isinstance(value, int) or isinstance(value, bool):
        raise line_error(
            line_no,
            _("%(column)s is not a whole number of minor units: %(value)r.") % {"column": column, "value": value},
        )
    exponent = 0 if currency in ZERO_DECIMAL else 2
    return (Decimal(value).scaleb(-exponent)).quantize(CENT)


def _parse_json(text: str) -> list[ParsedLine]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise line_error(error.lineno, _("the JSON is broken: %(error)s.") % {"error": error.msg}) from None
    items = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise StatementError(_("This is not a list of Stripe balance transactions."))
    lines = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict) or item.get("object", "balance_transaction") != "balance_transaction":
            raise line_error(position, _("item %(n)s is not a balance transaction.") % {"n": position})
        currency = str(item.get("currency") or "").lower()
        amount = _from_minor(item.get("amount"), currency, position, "amount")
        fee = _from_minor(item.get("fee", 0), currency, position, "fee")
        try:
            at = datetime.datetime.fromtimestamp(int(item["created"]), tz=datetime.UTC)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise line_error(
                position, _("created is not a time: %(value)r.") % {"value": item.get("created")}
            ) from None
        source = item.get("source") or ""
        intent, reference = "", ""
        if isinstance(source, dict):
            intent = source.get("payment_intent") or ""
            reference = (source.get("metadata") or {}).get(REFERENCE_KEY, "")
            source = source.get("id", "")
        kind = _kind(str(item.get("type", "")), amount)
        lines.append(
            ParsedLine(
                line_no=position,
                kind=kind,
                occurred_at=at,
                amount=abs(amount),
                fee=fee,
                merchant_reference=reference,
                provider_reference=intent or source,
                refund_reference=source if kind == "refund" else "",
                raw={key: item.get(key) for key in ("id", "type", "amount", "fee", "net", "currency", "created")},
            )
        )
    return lines


def _parse_csv(text: str) -> list[ParsedLine]:
    rows = list(csv.reader(io.StringIO(text)))
    header = [column.strip().lower() for column in rows[0]]
    where = {}
    for name, options in COLUMNS.items():
        where[name] = next((header.index(option) for option in options if option in header), None)
    missing = [name for name in ("id", "type", "amount", "fee", "created") if where[name] is None]
    if missing:
        raise line_error(1, _("the header lacks %(columns)s.") % {"columns": ", ".join(missing)})
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise line_error(
                number,
                _("%(found)s fields where the header has %(expected)s.") % {"found": len(row), "expected": len(header)},
            )

        def get(name, row=row):
            return row[where[name]].strip() if where[name] is not None else ""

        amount = parse_money(get("amount"), number, "Amount")
        fee = parse_money(get("fee") or "0", number, "Fee")
        created = get("created")
        try:
            at = datetime.datetime.strptime(
                created[:19], "%Y-%m-%d %H:%M:%S" if " " in created else "%Y-%m-%dT%H:%M:%S"
            )
        except ValueError:
            raise line_error(number, _("Created (UTC) is not a time: %(value)r.") % {"value": created}) from None
        kind = _kind(get("type").lower(), amount)
        source = get("source")
        lines.append(
            ParsedLine(
                line_no=number,
                kind=kind,
                occurred_at=at.replace(tzinfo=datetime.UTC),
                amount=abs(amount),
                fee=fee,
                merchant_reference=get("reference"),
                provider_reference=get("intent") or source,
                refund_reference=source if kind == "refund" else "",
                raw=dict(zip(header, row, strict=True)),
            )
        )
    return lines


def parse(content: bytes) -> list[ParsedLine]:
    if not recognise(content):
        raise StatementError(
            _(
                "This is not a Stripe balance transactions export: a CSV naming id, Amount, Fee and Net, or the API's JSON list."
            )
        )
    text = content.decode("utf-8-sig").lstrip()
    return _parse_json(text) if text.startswith("{") or text.startswith("[") else _parse_csv(text)
