"""The offline till (ADR 20): what the cashier page keeps in the browser to sell without the
server (the store's catalog with prices, barcodes and shelf stock, the clerk's methods and limits,
their open shift), and applying the cash and card sales it queued once it is back.

The money of an offline sale was already taken, so a sale that passes the checks of its shape and
scope is always recorded: an order at the prices the till charged, its products taken off the
shelf in the same transaction (as many as are there, never below zero) and the payment at the
time it happened, in the shift that was open then. What no longer matched when it arrived is
flagged for the manager (a price that changed, stock that ran out, a limit or switch of the clerk).
It does not own the till's online sales (staff.counter) nor the shift's arithmetic.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import StockLevel
from inventory.services import level_for as stock_level_for
from inventory.services import stock_move
from orders.models import ZERO, Channel, OrderKind
from orders.services import LineSpec, money, order_create, order_note, payment_collect
from staff import policies
from staff.counter import OFFLINE_MAX_AGE, collected_today_by, counter_methods, shelf_of, shift_current
from staff.models import OfflineSale, Shift, StaffProfile

# Only what needs no server: the drawer and a card terminal that works on its own.
OFFLINE_METHODS = ("cash", "card")
# A tablet's clock may run a little ahead of the server's.
CLOCK_SKEW = datetime.timedelta(minutes=5)
MAX_LINES = 100
MAX_QUANTITY = 999


# --- What the till keeps in the browser ---------------------------------------------------------
def offline_methods(user) -> list[str]:
    """The offline methods this clerk may take (their method switches, among the till's methods)."""
    online = {code for code, _label in counter_methods(user)}
    return [method for method in OFFLINE_METHODS if method in online]


def till_snapshot(*, user, site) -> dict:
    """Everything the till needs to sell at `site` without the server: the products on the store's
    shelf (price, SKU, barcodes, how many), the clerk's offline methods and limits, what they
    collected today, and their open shift there. Refused (and logged) outside their stores."""
    from catalog.models import Product, ProductBarcode

    policies.require(user, policies.COLLECT, site)
    shelf = shelf_of(site)
    levels = (
        StockLevel.objects.filter(location=shelf, product__is_active=True)
        .select_related("product")
        .prefetch_related(Prefetch("product__barcodes", queryset=ProductBarcode.objects.order_by("pk")))
        .order_by("product__name", "product_id")
    )
    products = []
    for level in levels:
        product: Product = level.product
        products.append(
            {
                "id": product.pk,
                "name": product.name,
                "sku": product.sku,
                "barcode": product.barcode,
                "barcodes": [extra.code for extra in product.barcodes.all()],
                "price": str(product.sale_price),
                "on_shelf": level.quantity,
            }
        )
    per_collection, per_day = policies.collect_limits(user)
    shift = shift_current(user, site)
    return {
        "site": site.pk,
        "taken_at": timezone.now().isoformat(),
        "products": products,
        "methods": offline_methods(user),
        "limits": {
            "per_collection": str(per_collection) if per_collection is not None else None,
            "per_day": str(per_day) if per_day is not None else None,
            "collected_today": str(collected_today_by(user)),
        },
        "shift": {"id": shift.pk, "opened_at": shift.opened_at.isoformat()} if shift else None,
    }


# --- Applying a queued sale ---------------------------------------------------------------------
@dataclass
class OfflineLine:
    product: object
    quantity: int
    unit_price: Decimal


@dataclass
class Applied:
    sale: OfflineSale
    created: bool


def flag_message(flag: dict) -> str:
    """A flag in the reader's language (stored as a kind and its numbers, translated when shown)."""
    labels = {
        "price_changed": _("%(product)s was sold at %(charged)s; the catalog price is %(price)s."),
        "stock_out": _("%(product)s: %(wanted)d sold, only %(taken)d were on the shelf."),
        "not_sold": _("%(product)s is no longer sold."),
        "method": _("The clerk may not collect with %(method)s."),
        "collect_switch": _("The clerk may not collect payments."),
        "limit": _("%(amount)s is above the clerk's limit of %(limit)s per collection."),
        "daily_limit": _("%(amount)s took the clerk over their limit of %(limit)s a day."),
        "shift_closed": _("The shift was closed before the sale arrived; the cash is not in its count."),
    }
    template = labels.get(flag.get("kind"))
    if template is None:
        return str(flag.get("kind", ""))
    try:
        return template % flag
    except (KeyError, TypeError, ValueError):
        return template


def _fingerprint(*, actor, site, shift, happened_at, method, lines, amount, tendered, reference) -> str:
    body = {
        "clerk": actor.pk,
        "site": site.pk,
        "shift": shift.pk if shift else None,
        "happened_at": happened_at.isoformat(),
        "method": method,
        "lines": [[line.product.pk, line.quantity, str(money(line.unit_price))] for line in lines],
        "amount": str(amount),
        "tendered": str(tendered) if tendered is not None else None,
        "reference": reference,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _repeat(existing: OfflineSale, actor, fingerprint: str) -> Applied:
    if existing.clerk_id != actor.pk or existing.fingerprint != fingerprint:
        raise ValidationError({"client_id": _("This sale id was already used for a different sale.")})
    return Applied(sale=existing, created=False)


def _check_shape(*, site, shift, happened_at, method, lines, amount, tendered, reference, now):
    """Refusals of what no till could have sent (400, nothing stored)."""
    if method not in OFFLINE_METHODS:
        raise ValidationError({"method": _("Only cash and card sales can be made offline.")})
    if not lines:
        raise ValidationError({"lines": _("Add at least one item.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("At most %(n)d lines in one sale.") % {"n": MAX_LINES}})
    for index, line in enumerate(lines, start=1):
        if (
            isinstance(line.quantity, bool)
            or not isinstance(line.quantity, int)
            or not 1 <= line.quantity <= MAX_QUANTITY
        ):
            raise ValidationError(
                {"lines": _("Line %(n)d: the quantity must be 1 to %(max)d.") % {"n": index, "max": MAX_QUANTITY}}
            )
        if money(line.unit_price) <= 0:
            raise ValidationError({"lines": _("Line %(n)d: enter a price above zero.") % {"n": index}})
    if len({line.product.pk for line in lines}) != len(lines):
        raise ValidationError({"lines": _("Each product once per sale, with its quantity.")})
    total = money(sum((money(line.unit_price) * line.quantity for line in lines), ZERO))
    if money(amount) != total:
        raise ValidationError(
            {"amount": _("The amount (%(a)s) is not the lines' total (%(t)s).") % {"a": amount, "t": total}}
        )
    if happened_at > now + CLOCK_SKEW:
        raise ValidationError({"happened_at": _("The sale's time cannot be in the future.")})
    if happened_at < now - OFFLINE_MAX_AGE:
        raise ValidationError({"happened_at": _("Sales older than 7 days cannot be entered here.")})
    if method == "cash":
        if shift is None:
            raise ValidationError({"shift": _("A cash sale needs the shift it was taken in.")})
        if tendered is None or money(tendered) < money(amount):
            raise ValidationError({"tendered": _("The cash tendered is less than the amount.")})
    if method == "card" and not (reference or "").strip():
        raise ValidationError({"reference": _("Enter the card terminal's reference.")})
    if shift is not None:
        if happened_at < shift.opened_at - CLOCK_SKEW or (
            shift.closed_at is not None and happened_at > shift.closed_at + CLOCK_SKEW
        ):
            raise ValidationError({"happened_at": _("The sale's time is outside the shift.")})


def _check_scope(*, actor, site, shift) -> None:
    """A clerk sends sales of their own stores and their own shift there (403, logged)."""
    if not policies.works_at(actor, site):
        policies.deny(
            user=actor,
            action="offline.sync",
            message=_("You do not work at %(site)s.") % {"site": site},
            obj=site,
        )
    if shift is not None and (shift.clerk_id != actor.pk or shift.site_id != site.pk):
        policies.deny(
            user=actor,
            action="offline.sync",
            message=_("This is not your shift at %(site)s.") % {"site": site},
            obj=site,
        )


def _switch_flags(actor, site, method, amount) -> list[dict]:
    flags = []
    if not policies.allowed(actor, policies.COLLECT, site):
        flags.append({"kind": "collect_switch"})
    if not policies.may_collect_with(actor, method):
        flags.append({"kind": "method", "method": method})
    per_collection, per_day = policies.collect_limits(actor)
    if per_collection is not None and amount > per_collection:
        flags.append({"kind": "limit", "amount": str(amount), "limit": str(per_collection)})
    if per_day is not None:
        profile = policies.profile_of(actor)
        StaffProfile.objects.select_for_update().filter(pk=profile.pk).first()  # the day's total, serialised
        if collected_today_by(actor) + amount > per_day:
            flags.append({"kind": "daily_limit", "amount": str(amount), "limit": str(per_day)})
    return flags


def offline_sale_apply(
    *,
    actor,
    client_id,
    site,
    shift: Shift | None,
    happened_at: datetime.datetime,
    method: str,
    lines: list[OfflineLine],
    amount,
    tendered=None,
    reference: str = "",
) -> Applied:
    """Record a sale the till made offline, once per `client_id`: a resend of the same sale gets
    the first result and changes nothing; the same id with other content is refused."""
    client_id = uuid.UUID(str(client_id))
    amount = money(amount)
    reference = (reference or "").strip()[:100]
    now = timezone.now()
    _check_scope(actor=actor, site=site, shift=shift)
    fingerprint = _fingerprint(
        actor=actor,
        site=site,
        shift=shift,
        happened_at=happened_at,
        method=method,
        lines=lines,
        amount=amount,
        tendered=money(tendered) if tendered not in (None, "") else None,
        reference=reference,
    )
    existing = OfflineSale.objects.filter(client_id=client_id).first()
    if existing is not None:
        return _repeat(existing, actor, fingerprint)
    _check_shape(
        site=site,
        shift=shift,
        happened_at=happened_at,
        method=method,
        lines=lines,
        amount=amount,
        tendered=tendered,
        reference=reference,
        now=now,
    )
    try:
        with transaction.atomic():
            sale = _apply(
                actor=actor,
                client_id=client_id,
                fingerprint=fingerprint,
                site=site,
                shift=shift,
                happened_at=happened_at,
                method=method,
                lines=lines,
                amount=amount,
                tendered=money(tendered) if tendered not in (None, "") else None,
                reference=reference,
            )
    except IntegrityError:
        # Two sends of the same sale at once: the second waited for the first and lost the id.
        existing = OfflineSale.objects.filter(client_id=client_id).first()
        if existing is None:
            raise
        return _repeat(existing, actor, fingerprint)
    if sale.order and sale.order.payments.exists():
        from staff.anomalies import anomaly_check_later

        anomaly_check_later("payment", sale.order.payments.first().pk)
    return Applied(sale=sale, created=True)


def _apply(*, actor, client_id, fingerprint, site, shift, happened_at, method, lines, amount, tendered, reference):
    sale = OfflineSale.objects.create(  # claims the id first: a concurrent resend waits here
        client_id=client_id,
        fingerprint=fingerprint,
        region_id=site.region_id,
        site=site,
        clerk=actor,
        method=method,
        amount=amount,
        happened_at=happened_at,
    )
    flags: list[dict] = []
    for line in lines:
        product = line.product
        if not product.is_active:
            flags.append({"kind": "not_sold", "product": product.name})
        elif money(line.unit_price) != money(product.sale_price):
            flags.append(
                {
                    "kind": "price_changed",
                    "product": product.name,
                    "charged": str(money(line.unit_price)),
                    "price": str(money(product.sale_price)),
                }
            )
    flags += _switch_flags(actor, site, method, amount)
    order = order_create(
        kind=OrderKind.COUNTER,
        actor=actor,
        site=site,
        channel=Channel.COUNTER,
        lines=[
            LineSpec(
                description=str(line.product)[:200],
                unit_price=money(line.unit_price),  # what the customer paid, not today's price
                quantity=line.quantity,
                product=line.product,
                cost_price=line.product.cost_price or ZERO,
            )
            for line in lines
        ],
        idempotency_key=f"offline:{client_id}",
        note=_("Sold while the till was offline"),
    )
    shelf = shelf_of(site)
    for line in sorted(lines, key=lambda line: line.product.pk):  # one lock order for every till
        level = stock_level_for(location=shelf, product=line.product)
        locked = StockLevel.objects.select_for_update().get(pk=level.pk)
        taken = min(locked.quantity, line.quantity)
        if taken:
            stock_move(level=locked, quantity=-taken, reason="sale", actor=actor, reference=order.number)
        if taken < line.quantity:
            flags.append({"kind": "stock_out", "product": line.product.name, "wanted": line.quantity, "taken": taken})
    drawer = None
    if shift is not None:
        drawer = Shift.objects.select_for_update().get(pk=shift.pk)  # a closing shift counts it, or it waits
        if drawer.closed_at is not None:
            drawer = None
            if method == "cash":
                flags.append({"kind": "shift_closed"})
    data = {"offline": True, "till": True, "client_id": str(client_id)}
    if method == "cash":
        data.update(tendered=str(tendered), change=str(tendered - amount))
    payment = payment_collect(
        order=order,
        provider=method,
        amount=amount,
        actor=actor,
        reference=reference,
        idempotency_key=f"offline:{client_id}",
        data=data,
        shift=drawer,
        collected_at=happened_at,
        offline=True,
    )
    order_note(
        order=order,
        actor=actor,
        action="offline.synced",
        reason=_("Sold while the till was offline"),
        data={"client_id": str(client_id), "happened_at": happened_at.isoformat(), "flags": flags},
    )
    order.refresh_from_db()
    sale.order = order
    sale.shift = drawer
    sale.flags = flags
    sale.status = OfflineSale.Status.FLAGGED if flags else OfflineSale.Status.SYNCED
    sale.answer = {
        "client_id": str(client_id),
        "sale": sale.pk,
        "order": order.pk,
        "number": order.number,
        "status": sale.status,
        "payment": payment.pk,
        "flags": [flag["kind"] for flag in flags],
    }
    sale.save(update_fields=["order", "shift", "flags", "status", "answer"])
    return sale


def offline_sale_resolve(*, actor, sale: OfflineSale, resolution: str) -> OfflineSale:
    """The manager has looked at a flagged offline sale and says what was done about it. Audited."""
    from core.services import audit_record
    from staff.counter import _manages

    if not _manages(actor, sale.site):
        policies.deny(
            user=actor,
            action="offline.resolve",
            message=_("Only a manager of %(site)s may resolve its offline sales.") % {"site": sale.site},
            obj=sale,
        )
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Say what was done about it.")})
    with transaction.atomic():
        locked = OfflineSale.objects.select_for_update().get(pk=sale.pk)
        if locked.status != OfflineSale.Status.FLAGGED:
            raise ValidationError(_("Only a flagged offline sale can be resolved."))
        locked.status = OfflineSale.Status.RESOLVED
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.resolution = resolution[:255]
        locked.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
        audit_record(
            actor=actor,
            action="offline_sale.resolve",
            obj=locked,
            changes={"resolution": locked.resolution, "flags": [flag.get("kind") for flag in locked.flags]},
            region=locked.region,
        )
    return locked
