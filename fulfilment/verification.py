"""Checks a delivery order passes before it is released to a warehouse (docs/adr/0032).

`delivery_holds` returns the reasons to hold an order for a person, each a {"code", "message"}
(and the untranslated sentence with its values, so `hold_message` shows it in the reader's
language): an empty list means the order may be released. The checks read only; the caller stores
the holds.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.region_settings import region_setting
from orders.models import OrderLine, OrderStatus

HOLD_CODES = ("address", "phone", "product", "price", "duplicate", "stock")


def phone_valid(phone: str) -> bool:
    """A Chinese mobile or landline (a number in another country needs its +country code)."""
    try:
        number = phonenumbers.parse(phone or "", "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _hold(code: str, text: str, params: dict | None = None) -> dict:
    """`text` is the sentence untranslated (gettext_noop) and `params` its values as plain strings;
    a list value is a list of untranslated words (the missing address fields)."""
    params = params or {}
    hold = {"code": code, "text": text, "params": params}
    return {**hold, "message": hold_message(hold)}


def hold_message(hold: dict) -> str:
    """A stored hold in the active language (holds are checked in whichever language the order
    arrived in: the partner API's, the import's, the demo's)."""
    text = hold.get("text")
    if not text:
        return hold.get("message", "")
    params = {
        key: ", ".join(_(word) for word in value) if isinstance(value, list) else value
        for key, value in (hold.get("params") or {}).items()
    }
    try:
        return _(text) % params
    except (KeyError, TypeError, ValueError):
        return hold.get("message", "")


def delivery_holds(delivery, *, lines=None) -> list[dict]:
    """Every reason to hold `delivery`'s order, in the order an operator fixes them."""
    from fulfilment.allocation import warehouse_levels

    order = delivery.order
    lines = list(lines if lines is not None else OrderLine.objects.filter(order=order).select_related("product"))
    holds: list[dict] = []
    missing = [
        label
        for label, value in (
            (gettext_noop("recipient"), delivery.recipient_name),
            (gettext_noop("province"), delivery.province),
            (gettext_noop("city"), delivery.city),
            (gettext_noop("street address"), delivery.address),
        )
        if not (value or "").strip()
    ]
    if missing:
        holds.append(
            _hold("address", gettext_noop("The address is incomplete: %(fields)s missing."), {"fields": missing})
        )
    elif len(delivery.address.strip()) < 4:
        holds.append(_hold("address", gettext_noop("The street address is too short to deliver to.")))
    if not phone_valid(delivery.phone):
        holds.append(
            _hold("phone", gettext_noop("The phone number %(phone)s is not a valid number."), {"phone": delivery.phone})
        )
    if not lines:
        holds.append(_hold("product", gettext_noop("The order has no lines.")))
    tolerance = Decimal(region_setting("fulfilment.price_tolerance", order.region_id)) / 100
    for line in lines:
        product = line.product
        if product is None:
            holds.append(
                _hold("product", gettext_noop("%(line)s is not a catalog product."), {"line": line.description})
            )
            continue
        if not product.is_active:
            holds.append(_hold("product", gettext_noop("%(product)s is no longer sold."), {"product": str(product)}))
        catalog = product.sale_price
        if abs(line.unit_price - catalog) > catalog * tolerance:
            holds.append(
                _hold(
                    "price",
                    gettext_noop(
                        "%(product)s is priced %(price)s, more than %(tolerance)s%% from the catalog's %(catalog)s."
                    ),
                    {
                        "product": str(product),
                        "price": str(line.unit_price),
                        "tolerance": f"{(tolerance * 100).normalize():f}",  # 20, not 2E+1
                        "catalog": str(catalog),
                    },
                )
            )
    duplicate = _duplicate_of(delivery, lines)
    if duplicate is not None:
        holds.append(
            _hold(
                "duplicate",
                gettext_noop("Same recipient, phone and items as order %(number)s."),
                {"number": duplicate.order.number},
            )
        )
    wanted = Counter()
    for line in lines:
        if line.product_id:
            wanted[line.product_id] += line.quantity
    if wanted:
        available = dict(
            warehouse_levels(order)
            .filter(product_id__in=wanted)
            .values_list("product_id")
            .annotate(free=Sum(F("quantity") - F("reserved")))
        )
        for line in lines:
            if line.product_id and available.get(line.product_id, 0) < wanted[line.product_id]:
                holds.append(
                    _hold(
                        "stock",
                        gettext_noop("Not enough %(product)s in any warehouse: %(free)s available, %(wanted)s wanted."),
                        {
                            "product": str(line.product),
                            "free": str(available.get(line.product_id, 0)),
                            "wanted": str(wanted[line.product_id]),
                        },
                    )
                )
                wanted[line.product_id] = 0  # one hold per product
    return holds


def _duplicate_of(delivery, lines):
    """Another live delivery order for the same recipient and phone with the same lines within the
    region's duplicate window, or None."""
    from fulfilment.models import Delivery

    hours = region_setting("fulfilment.duplicate_hours", delivery.order.region_id)
    if not hours:
        return None
    mine = sorted((line.product_id, line.quantity) for line in lines)
    since = timezone.now() - timedelta(hours=hours)
    candidates = (
        Delivery.objects.filter(
            phone=delivery.phone,
            recipient_name=delivery.recipient_name,
            order__created_at__gte=since,
        )
        .exclude(pk=delivery.pk)
        .exclude(order__status=OrderStatus.CANCELLED)
        .select_related("order")
    )
    for other in candidates:
        theirs = sorted(OrderLine.objects.filter(order=other.order).values_list("product_id", "quantity"))
        if theirs == mine:
            return other
    return None
