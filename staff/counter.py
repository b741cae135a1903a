"""The store counter: shifts, walk-in sales, collecting payments and requesting refunds.

A refund within the clerk's limits (per refund and per day) is done at once. Above them it becomes
a RefundApproval for the store manager, or — above the managers' own limit — the regional
administrator; no money moves until someone allowed to approve it does. The daily limit is checked
under a lock on the clerk's profile row, so two tills cannot both spend the last of it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import notification_send
from inventory.models import StockLevel, StockLocation
from inventory.services import InsufficientStock, stock_move
from inventory.services import level_for as stock_level_for
from orders.models import ZERO, Channel, Order, OrderKind, OrderStatus, Payment, Refund
from orders.payments import provider_get
from orders.services import (
    LineSpec,
    lock_order,
    money,
    order_create,
    order_note,
    order_transition,
    payment_collect,
    refund_create,
)
from staff import policies
from staff.models import RefundApproval, Shift, StaffProfile, User
from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER

OFFLINE_MAX_AGE = datetime.timedelta(days=7)
IN_PERSON_REFERENCE_REQUIRED = {"card"}


# --- Shifts ----------------------------------------------------------------------------------
def shift_open(*, actor, site, opening_float) -> Shift:
    policies.require(actor, policies.COLLECT, site)
    opening_float = money(opening_float)
    if opening_float < 0:
        raise ValidationError({"opening_float": _("The cash float cannot be negative.")})
    with transaction.atomic():
        if Shift.objects.filter(clerk=actor, closed_at__isnull=True).exists():
            raise ValidationError(_("You already have an open shift; close it first."))
        shift = Shift.objects.create(site=site, clerk=actor, opening_float=opening_float)
        from core.services import audit_record

        audit_record(
            actor=actor, action="shift.open", obj=shift, changes={"float": str(opening_float)}, region=site.region
        )
    return shift


def shift_current(user, site=None) -> Shift | None:
    queryset = Shift.objects.filter(clerk=user, closed_at__isnull=True).select_related("site")
    if site is not None:
        queryset = queryset.filter(site=site)
    return queryset.first()


def shift_expected(shift: Shift) -> Decimal:
    """Float + cash collected in the shift − cash refunded out of the drawer in the shift."""
    cash_in = Payment.objects.filter(shift=shift, provider="cash", status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    cash_out = Refund.objects.filter(shift=shift, payment__provider="cash", status=Refund.Status.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    return money(shift.opening_float + (cash_in or ZERO) - (cash_out or ZERO))


def shift_close(*, actor, shift: Shift, counted_amount, note: str = "") -> Shift:
    """Record the counted cash, the expected amount, the variance and who closed the shift."""
    if shift.clerk_id != actor.pk and not _manages(actor, shift.site):
        policies.deny(
            user=actor, action="shift.close", message=_("Only the clerk or a manager may close this shift."), obj=shift
        )
    counted = money(counted_amount)
    if counted < 0:
        raise ValidationError({"counted_amount": _("The counted amount cannot be negative.")})
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        if locked.closed_at is not None:
            raise ValidationError(_("This shift is already closed."))
        expected = shift_expected(locked)
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.expected_amount = expected
        locked.counted_amount = counted
        locked.variance = counted - expected
        locked.note = note[:255]
        locked.save()
        from core.services import audit_record

        audit_record(
            actor=actor,
            action="shift.close",
            obj=locked,
            changes={"expected": str(expected), "counted": str(counted), "variance": str(locked.variance)},
            region=locked.site.region,
        )
        from staff.anomalies import anomaly_check_later

        anomaly_check_later("shift", locked.pk)
    return locked


def _manages(user, site) -> bool:
    if policies.has_role(user, PLATFORM_ADMIN):
        return True
    if policies.has_role(user, REGIONAL_ADMIN, STORE_MANAGER):
        return policies.works_at(user, site)
    return False


# --- Sales and collections -------------------------------------------------------------------
@dataclass
class SaleLine:
    """A line of a walk-in sale: a catalog product (by object or a scanned code), or a free-text
    line (a service) with a typed price, which needs the SELL_SERVICES switch."""

    product: object | None
    quantity: int = 1
    description: str = ""
    unit_price: Decimal | None = None
    code: str = ""


def product_find(code: str):
    """The active product a scanned or typed code names: its barcode, an extra barcode or its SKU."""
    from catalog.models import Product

    code = (code or "").strip()
    if not code:
        return None
    products = Product.objects.filter(is_active=True)
    return (
        products.filter(barcode=code).first()
        or products.filter(barcodes__code=code).first()
        or products.filter(sku__iexact=code).first()
    )


def shelf_of(site):
    """The store's shelf: the stock location the till sells from (one per store, made on first use)."""
    return _location(site, StockLocation.Kind.SHELF, _("Shelf"))


def damaged_of(site):
    """Where returned goods that cannot be sold again go."""
    return _location(site, StockLocation.Kind.DAMAGED, _("Damaged goods"))


def _location(site, kind, name):
    location = (
        StockLocation.objects.filter(site=site, kind=kind, device__isnull=True, is_active=True).order_by("pk").first()
    )
    if location is None:
        location = StockLocation.objects.create(site=site, kind=kind, name=str(name)[:120])
    return location


def products_search(*, site, query: str, limit: int = 20) -> list[dict]:
    """Products for the till's search box, by name, SKU or barcode, with what is on the shelf."""
    from catalog.models import Product

    query = (query or "").strip()
    if not query:
        return []
    found = (
        Product.objects.filter(is_active=True)
        .filter(Q(name__icontains=query) | Q(sku__iexact=query) | Q(barcode=query) | Q(barcodes__code=query))
        .distinct()
        .order_by("name")[:limit]
    )
    exact = product_find(query)
    shelf = shelf_of(site)
    stock = dict(
        StockLevel.objects.filter(location=shelf, product__in=[p.pk for p in found]).values_list(
            "product_id", "quantity"
        )
    )
    return [
        {
            "id": product.pk,
            "name": product.name,
            "sku": product.sku,
            "barcode": product.barcode,
            "price": str(product.sale_price),
            "on_shelf": stock.get(product.pk, 0),
            "exact": exact is not None and exact.pk == product.pk,
        }
        for product in found
    ]


def _resolve(lines: list[SaleLine], actor, site) -> list[SaleLine]:
    """Scanned codes become products; the same product twice becomes one line (scan twice, two of it)."""
    merged: dict[int, SaleLine] = {}
    result: list[SaleLine] = []
    for index, line in enumerate(lines, start=1):
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            raise ValidationError({"lines": _("Line %(n)d: the quantity must be at least 1.") % {"n": index}})
        product = line.product
        if product is None and line.code:
            product = product_find(line.code)
            if product is None:
                raise ValidationError(
                    {"lines": _("No product has the barcode or SKU %(code)s.") % {"code": line.code.strip()}},
                    code="unknown_barcode",
                )
        if product is not None:
            if not product.is_active:
                raise ValidationError({"lines": _("%(product)s is no longer sold.") % {"product": product}})
            if product.pk in merged:
                merged[product.pk].quantity += line.quantity
                continue
            merged[product.pk] = SaleLine(product=product, quantity=line.quantity)
            result.append(merged[product.pk])
            continue
        policies.require(actor, policies.SELL_SERVICES, site)
        result.append(line)
    return result


def counter_sale_create(*, actor, site, lines: list[SaleLine], customer=None, note: str = "") -> Order:
    """A walk-in sale at the counter: a COUNTER order for catalog products (priced from the catalog,
    taken off the store's shelf in the same transaction, never below zero) and free-text lines.
    Promotions and the member's discount are applied before anything is paid."""
    policies.require(actor, policies.COLLECT, site)
    lines = _resolve(list(lines), actor, site)
    specs = []
    for index, line in enumerate(lines, start=1):
        if line.product is not None:
            price = line.product.sale_price
        else:
            price = line.unit_price
        if price is None or money(price) <= 0:
            raise ValidationError({"lines": _("Line %(n)d: enter a price above zero.") % {"n": index}})
        description = str(line.product) if line.product else line.description
        if not (description or "").strip():
            raise ValidationError({"lines": _("Line %(n)d: describe what is sold.") % {"n": index}})
        specs.append(
            LineSpec(
                description=description[:200],
                unit_price=money(price),
                quantity=line.quantity,
                product=line.product,
                cost_price=getattr(line.product, "cost_price", ZERO) or ZERO,
            )
        )
    if not specs:
        raise ValidationError({"lines": _("Add at least one item.")})
    from members.promotions import promotions_apply

    with transaction.atomic():
        order = order_create(
            kind=OrderKind.COUNTER,
            actor=actor,
            site=site,
            customer=customer,
            channel=Channel.COUNTER,
            lines=specs,
            note=note,
        )
        sold = [spec for spec in specs if spec.product is not None]
        if sold:
            shelf = shelf_of(site)
            for spec in sorted(sold, key=lambda spec: spec.product.pk):  # one lock order for every till
                level = stock_level_for(location=shelf, product=spec.product)
                try:
                    stock_move(level=level, quantity=-spec.quantity, reason="sale", actor=actor, reference=order.number)
                except InsufficientStock:
                    left = StockLevel.objects.filter(pk=level.pk).values_list("quantity", flat=True).first() or 0
                    raise ValidationError(
                        {
                            "lines": _("Only %(left)d of %(product)s left on the shelf; %(wanted)d asked for.")
                            % {"left": left, "product": spec.product, "wanted": spec.quantity}
                        },
                        code="not_enough_stock",
                    ) from None
        promotions_apply(order=order, actor=actor)
    order.refresh_from_db()
    return order


def _stock_back(order: Order, actor, *, line_quantities: list[tuple], location, reason: str) -> None:
    for line, quantity in line_quantities:
        level = stock_level_for(location=location, product=line.product)
        stock_move(level=level, quantity=quantity, reason=reason, actor=actor, reference=order.number)


def counter_void(*, actor, order: Order, reason: str) -> Order:
    """Cancel an unpaid counter order, with the reason; what it took off the shelf goes back."""
    order = Order.objects.select_related("site", "region").get(pk=order.pk)
    policies.require(actor, policies.COLLECT, order.site, obj=order)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the order is voided.")})
    with transaction.atomic():
        locked = lock_order(order)
        if locked.kind != OrderKind.COUNTER:
            raise ValidationError(_("Only counter sales are voided here."))
        if locked.status != OrderStatus.NEW or locked.paid_amount > 0:
            raise ValidationError(_("Only an unpaid order can be voided; refund a paid one."))
        if Payment.objects.filter(order=locked, status=Payment.Status.PENDING).exists():
            raise ValidationError(_("A payment is still waiting for the customer; wait for it or let it expire."))
        order_transition(
            order=locked,
            to_status=OrderStatus.CANCELLED,
            actor=actor,
            reason=reason[:255],
            action="voided",
            locked=True,
        )
        lines = [(line, line.quantity) for line in locked.lines.filter(product__isnull=False).select_related("product")]
        if lines and locked.site_id:
            _stock_back(locked, actor, line_quantities=lines, location=shelf_of(locked.site), reason="return")
    return locked


RETURN_DESTINATIONS = ("shelf", "damaged")


def returned_quantity(order: Order, line) -> int:
    return sum(
        int(event.data.get("quantity", 0))
        for event in order.events.filter(action="line.returned")
        if event.data.get("line") == line.pk
    )


def counter_return(*, actor, order: Order, line_id: int, quantity: int, destination: str, reason: str) -> RefundOutcome:
    """A customer brings back part of a paid line: the items go back on the shelf or into the
    damaged-goods location (the clerk chooses), and the line's share of what was paid is refunded
    under the clerk's refund limits (above them it waits for approval, as any refund)."""
    order = Order.objects.select_related("site", "region").get(pk=order.pk)
    policies.require(actor, policies.REFUND, order.site, obj=order)
    if destination not in RETURN_DESTINATIONS:
        raise ValidationError({"destination": _("Choose where the items go: the shelf or damaged goods.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the items are returned.")})
    line = order.lines.select_related("product").filter(pk=line_id).first()
    if line is None:
        raise ValidationError({"line": _("This order has no such line.")})
    if line.product_id is None:
        raise ValidationError({"line": _("Only catalog products are returned; refund a service instead.")})
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationError({"quantity": _("Return at least one item.")})
    if order.paid_amount <= 0 or order.site is None:
        raise ValidationError(_("Only a paid store order takes returns."))
    with transaction.atomic():
        locked = lock_order(order)
        left = line.quantity - returned_quantity(locked, line)
        if quantity > left:
            raise ValidationError({"quantity": _("Only %(left)d of this line can still be returned.") % {"left": left}})
        share = line.unit_price * quantity
        if locked.subtotal > 0 and locked.total != locked.subtotal:
            share = share * locked.total / locked.subtotal
        amount = min(money(share), locked.refundable_amount)
        location = shelf_of(locked.site) if destination == "shelf" else damaged_of(locked.site)
        _stock_back(locked, actor, line_quantities=[(line, quantity)], location=location, reason="return")
        outcome = RefundOutcome()
        if amount > 0:
            outcome = refund_request(actor=actor, order=locked, amount=amount, reason=reason)
        order_note(
            order=locked,
            actor=actor,
            action="line.returned",
            reason=reason.strip()[:255],
            data={
                "line": line.pk,
                "quantity": quantity,
                "destination": destination,
                "amount": str(amount),
                "refund": outcome.refund.pk if outcome.refund else None,
                "approval": outcome.approval.pk if outcome.approval else None,
            },
        )
    return outcome


def counter_methods(user=None) -> list[tuple[str, str]]:
    """What a till can take: in-person methods (cash, the card terminal), providers that show the
    customer a QR code to pay with their phone, and the member's wallet and points. With `user`,
    only the kinds their profile allows (seed 004: cash, card, QR, wallet, points per clerk)."""
    methods = []
    from orders.payments import provider_choices

    for code, label in provider_choices():
        provider = provider_get(code)
        if (
            provider.collected_in_person
            or getattr(provider, "shows_qr", False)
            or getattr(provider, "at_counter", False)
        ):
            if user is None or policies.may_collect_with(user, code):
                methods.append((code, label))
    return methods


def collected_today_by(user) -> Decimal:
    """What `user` collected today (succeeded, or pending with the customer)."""
    total = Payment.objects.filter(
        collected_by=user,
        status__in=[Payment.Status.SUCCEEDED, Payment.Status.PENDING],
        created_at__gte=_day_start(),
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _check_method_and_amount(actor, order: Order, method: str, amount: Decimal) -> None:
    """The clerk's method switches and per-collection limit: refused (and logged) before anything."""
    if not policies.may_collect_with(actor, method):
        policies.deny(
            user=actor,
            action="collect.method",
            message=_("You may not collect with %(method)s.") % {"method": dict(counter_methods()).get(method, method)},
            obj=order,
            data={"method": method},
        )
    per_collection, _per_day = policies.collect_limits(actor)
    if per_collection is not None and amount > per_collection:
        policies.deny(
            user=actor,
            action="collect.limit",
            message=_("%(amount)s is above your limit of %(limit)s per collection.")
            % {"amount": amount, "limit": per_collection},
            obj=order,
            data={"amount": str(amount)},
        )


def _check_daily_limit(actor, amount: Decimal) -> None:
    """Inside the collection's transaction: the day's total is read under a lock on the clerk's
    profile, so two tills cannot both take the last of it."""
    _per_collection, per_day = policies.collect_limits(actor)
    if per_day is None:
        return
    profile = policies.profile_of(actor)
    StaffProfile.objects.select_for_update().filter(pk=profile.pk).first()
    already = collected_today_by(actor)
    if already + amount > per_day:
        raise policies.StaffPermissionDenied(
            _("%(amount)s would take you over your limit of %(limit)s a day (%(left)s left today).")
            % {"amount": amount, "limit": per_day, "left": max(per_day - already, ZERO)}
        )


@dataclass
class Collection:
    payment: Payment
    change: Decimal


def counter_collect(
    *,
    actor,
    order: Order,
    method: str,
    amount=None,
    tendered=None,
    reference: str = "",
    offline_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
) -> Collection:
    """Collect at the counter. Cash needs an open shift at the store and the amount tendered
    (the change is worked out and recorded); card needs the terminal's reference; QR goes through
    the online providers and stays pending until their callback. `offline_at` enters a collection
    made while the system was unreachable, at its original time, flagged as offline."""
    order = Order.objects.select_related("site", "region").get(pk=order.pk)  # never judge a stale copy
    site = order.site
    if site is None:
        raise ValidationError(_("This order does not belong to a store."))
    policies.require(actor, policies.COLLECT, site, obj=order)
    if method not in {code for code, _label in counter_methods()}:
        raise ValidationError({"method": _("Unknown payment method.")})
    provider = provider_get(method)
    amount = money(amount) if amount not in (None, "") else order.balance_due
    _check_method_and_amount(actor, order, method, amount)
    shift = shift_current(actor, site)
    change = ZERO
    data: dict = {}
    if method == "cash":
        if shift is None:
            raise ValidationError(_("Open a shift with your cash float before taking cash."))
        tendered = money(tendered) if tendered not in (None, "") else amount
        if tendered < amount:
            raise ValidationError(
                {
                    "tendered": _("The cash tendered (%(t)s) is less than the amount (%(a)s).")
                    % {"t": tendered, "a": amount}
                }
            )
        change = tendered - amount
        data = {"tendered": str(tendered), "change": str(change)}
    elif method in IN_PERSON_REFERENCE_REQUIRED and not reference.strip():
        raise ValidationError({"reference": _("Enter the card terminal's reference.")})
    if offline_at is not None:
        if not provider.collected_in_person:
            raise ValidationError({"method": _("Only cash and card collections can be entered afterwards.")})
        now = timezone.now()
        if offline_at > now:
            raise ValidationError({"offline_at": _("The original time cannot be in the future.")})
        if offline_at < now - OFFLINE_MAX_AGE:
            raise ValidationError({"offline_at": _("Collections older than 7 days cannot be entered here.")})
        data["offline"] = True
    # Taken at a till: a member's wallet or points need their payment code (members.paycodes).
    data["till"] = True
    # A repeated idempotency key returns the first payment and takes nothing more.
    repeat = bool(idempotency_key) and Payment.objects.filter(idempotency_key=idempotency_key).exists()
    try:
        with transaction.atomic():
            if not repeat:
                _check_daily_limit(actor, amount)
            payment = payment_collect(
                order=order,
                provider=method,
                amount=amount,
                actor=actor,
                reference=reference.strip(),
                idempotency_key=idempotency_key,
                data=data,
                shift=shift,
                collected_at=offline_at,
                offline=offline_at is not None,
            )
    except policies.StaffPermissionDenied as refusal:
        policies.deny(
            user=actor, action="collect.daily_limit", message=refusal.message, obj=order, data={"amount": str(amount)}
        )
    if payment.status == Payment.Status.SUCCEEDED:
        from staff.anomalies import anomaly_check_later

        anomaly_check_later("payment", payment.pk)
    return Collection(payment=payment, change=change)


# --- Refunds ---------------------------------------------------------------------------------
@dataclass
class RefundOutcome:
    refund: Refund | None = None
    approval: RefundApproval | None = None

    @property
    def needs_approval(self) -> bool:
        return self.approval is not None


def _day_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def refunded_today_by(user) -> Decimal:
    """What `user` refunded today on their own authority (approved refunds do not count)."""
    total = Refund.objects.filter(
        requested_by=user,
        status__in=[Refund.Status.SUCCEEDED, Refund.Status.PENDING],
        created_at__gte=_day_start(),
        approval__isnull=True,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _validate_refund(order: Order, amount: Decimal, reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the money is refunded.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    pending = (
        RefundApproval.objects.filter(order=order, status=RefundApproval.Status.PENDING).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    if amount + pending > order.refundable_amount:
        raise ValidationError(
            {
                "amount": _("At most %(max)s can be refunded (%(pending)s already waits for approval).")
                % {"max": order.refundable_amount - pending, "pending": pending}
            }
        )


def _approval_level(site, amount: Decimal, requester) -> str:
    """A store manager of the site whose own limit covers the amount, else the region."""
    if site is None:
        return RefundApproval.Level.REGIONAL
    managers = StaffProfile.objects.filter(
        sites=site, user__is_active=True, user__groups__name=STORE_MANAGER, can_refund=True
    ).exclude(user=requester)
    if managers.filter(Q(refund_limit__isnull=True) | Q(refund_limit__gte=amount)).exists():
        return RefundApproval.Level.MANAGER
    return RefundApproval.Level.REGIONAL


def approvers_for(approval: RefundApproval) -> list[User]:
    from core.scoping import user_can_reach

    candidates = User.objects.filter(is_active=True).exclude(pk=approval.requested_by_id)
    if approval.level == RefundApproval.Level.MANAGER and approval.site_id:
        managers = candidates.filter(
            groups__name=STORE_MANAGER, profile__sites=approval.site_id, profile__can_refund=True
        )
        return [u for u in managers.distinct() if may_approve(u, approval)]
    regionals = candidates.filter(groups__name=REGIONAL_ADMIN).distinct()
    return [u for u in regionals if user_can_reach(u, approval.region, "view") and may_approve(u, approval)]


def may_approve(user, approval: RefundApproval) -> bool:
    if not (user.is_active and user.pk != approval.requested_by_id):
        return False
    if policies.has_role(user, PLATFORM_ADMIN):
        return True
    from core.scoping import user_can_reach

    if policies.has_role(user, REGIONAL_ADMIN):
        return user_can_reach(user, approval.order, "view")
    if approval.level == RefundApproval.Level.MANAGER and policies.has_role(user, STORE_MANAGER):
        if approval.site is None or not policies.works_at(user, approval.site):
            return False
        if not policies.allowed(user, policies.REFUND, approval.site):
            return False
        limit, _daily = policies.refund_limits(user)
        return limit is None or approval.amount <= limit
    return False


def refund_request(*, actor, order: Order, amount, reason: str, payment: Payment | None = None) -> RefundOutcome:
    """Refund at once within the requester's limits; otherwise ask for approval (no money moves)."""
    amount = money(amount)
    order = Order.objects.select_related("site", "region").get(pk=order.pk)  # never judge a stale copy
    policies.require(actor, policies.REFUND, order.site, obj=order)
    if order.site is None and not _reaches(actor, order):
        policies.deny(user=actor, action=policies.REFUND, message=_("This order is outside your scope."), obj=order)
    _validate_refund(order, amount, reason)
    per_refund, per_day = policies.refund_limits(actor)
    with transaction.atomic():
        profile = policies.profile_of(actor)
        if profile is not None and (per_refund is not None or per_day is not None):
            StaffProfile.objects.select_for_update().filter(pk=profile.pk).first()  # serialise the day's total
        within = per_refund is None or amount <= per_refund
        if within and per_day is not None:
            within = refunded_today_by(actor) + amount <= per_day
        shift = shift_current(actor, order.site) if order.site else None
        if within:
            refund = refund_create(order=order, amount=amount, actor=actor, reason=reason, payment=payment, shift=shift)
            if refund.status == Refund.Status.SUCCEEDED:
                from staff.anomalies import anomaly_check_later

                anomaly_check_later("refund", refund.pk)
            return RefundOutcome(refund=refund)
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _validate_refund(locked, amount, reason)
        approval = RefundApproval.objects.create(
            order=locked,
            payment=payment,
            region_id=locked.region_id,
            site_id=locked.site_id,
            amount=amount,
            reason=reason.strip()[:255],
            level=_approval_level(locked.site, amount, actor),
            requested_by=actor,
        )
        limit_text = {
            "per_refund": str(per_refund) if per_refund is not None else None,
            "per_day": str(per_day) if per_day is not None else None,
        }
        order_note(
            order=locked,
            actor=actor,
            action="refund.requested",
            reason=approval.reason,
            data={"approval": approval.pk, "amount": str(amount), "level": approval.level, "limits": limit_text},
        )
        for approver in approvers_for(approval):
            notification_send(
                template="refund_approval_requested",
                recipient=approver,
                context={"approval": approval},
                region=locked.region,
            )
    return RefundOutcome(approval=approval)


def _reaches(user, obj) -> bool:
    from core.scoping import user_can_reach

    return user_can_reach(user, obj, "view")


def refund_approval_decide(*, actor, approval: RefundApproval, approve: bool, reason: str = "") -> RefundApproval:
    """Approve (the money moves now, attributed to the approver) or reject (it never moves).
    A decided request, or one's own, is refused."""
    if approval.requested_by_id == actor.pk:
        policies.deny(
            user=actor,
            action="refund.approve",
            message=_("You cannot decide on your own refund request."),
            obj=approval,
        )
    if approval.status != RefundApproval.Status.PENDING:
        raise ValidationError(
            _("This request was already %(status)s.") % {"status": approval.get_status_display().lower()}
        )
    if not may_approve(actor, approval):
        policies.deny(
            user=actor,
            action="refund.approve",
            message=_("You may not decide on this refund (it needs a %(level)s).")
            % {"level": approval.get_level_display().lower()},
            obj=approval,
        )
    if not approve and not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the refund is rejected.")})
    with transaction.atomic():
        locked = RefundApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.status != RefundApproval.Status.PENDING:
            raise ValidationError(
                _("This request was already %(status)s.") % {"status": locked.get_status_display().lower()}
            )
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = (reason or "").strip()[:255]
        if approve:
            locked.status = RefundApproval.Status.APPROVED
            refund = refund_create(
                order=locked.order,
                amount=locked.amount,
                actor=actor,
                reason=locked.reason,
                payment=locked.payment,
                shift=shift_current(locked.requested_by, locked.site) if locked.site else None,
            )
            locked.refund = refund
        else:
            locked.status = RefundApproval.Status.REJECTED
        locked.save()
        order_note(
            order=locked.order,
            actor=actor,
            action="refund.approved" if approve else "refund.rejected",
            reason=locked.decision_reason or locked.reason,
            data={
                "approval": locked.pk,
                "amount": str(locked.amount),
                "requested_by": locked.requested_by.get_username(),
                "refund": locked.refund_id,
            },
        )
        notification_send(
            template="refund_approval_decided", recipient=locked.requested_by, context={"approval": locked}
        )
        if approve and locked.refund and locked.refund.status == Refund.Status.SUCCEEDED:
            from staff.anomalies import anomaly_check_later

            anomaly_check_later("refund", locked.refund.pk)
    return locked


# --- Members at the till ---------------------------------------------------------------------
def member_enrol(*, actor, site, phone: str, name: str = ""):
    """Enrol a walk-in customer as a member, at the till (the MEMBERS switch). Audited."""
    from core.services import audit_record
    from members.models import Customer
    from members.services import customer_by_phone, phone_normalise

    policies.require(actor, policies.MEMBERS, site)
    e164 = phone_normalise(phone)
    if customer_by_phone(e164) is not None:
        raise ValidationError({"phone": _("%(phone)s is already a member.") % {"phone": e164}})
    with transaction.atomic():
        customer = Customer.objects.create(phone=e164, name=(name or "").strip()[:100], home_region=site.region)
        audit_record(
            actor=actor,
            action="member.enrol",
            obj=customer,
            changes={"phone": e164, "site": site.pk},
            region=site.region,
        )
    return customer


def member_points_adjust(*, actor, site, customer, points: int, reason: str):
    """Add or take away a member's points with a reason (the MEMBERS switch); never below zero.
    Audited, and a points entry like every other change of points."""
    import uuid

    from django.db.models import F

    from core.services import audit_record
    from members.models import Customer, PointsEntry

    policies.require(actor, policies.MEMBERS, site)
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise ValidationError({"points": _("Give a whole, non-zero number of points.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the points change.")})
    with transaction.atomic():
        changed = Customer.objects.filter(pk=customer.pk, points__gte=max(-points, 0)).update(
            points=F("points") + points
        )
        if not changed:
            current = Customer.objects.filter(pk=customer.pk).values_list("points", flat=True).first() or 0
            raise ValidationError(
                {"points": _("%(name)s has only %(points)d points.") % {"name": customer, "points": current}}
            )
        entry = PointsEntry.objects.create(
            customer=customer, delta=points, reason="adjusted", key=f"adjust:{uuid.uuid4().hex}"
        )
        audit_record(
            actor=actor,
            action="member.points_adjust",
            obj=customer,
            changes={"points": points, "reason": reason[:255], "site": site.pk},
            region=site.region,
        )
    return entry


# --- The store's settings at the till --------------------------------------------------------
def store_hours_set(*, actor, site, opening_time, closing_time):
    """The store's opening hours (what "activity outside opening hours" is judged by), changed
    from the till by staff with the "settings" switch. Audited."""
    from core.services import audit_record

    policies.require(actor, policies.SETTINGS, site)
    if (opening_time is None) != (closing_time is None):
        raise ValidationError({"closing_time": _("Give both the opening and the closing time, or neither.")})
    if opening_time is not None and opening_time >= closing_time:
        raise ValidationError({"closing_time": _("The store must close after it opens.")})
    before = {"opens": str(site.opening_time or ""), "closes": str(site.closing_time or "")}
    with transaction.atomic():
        type(site).objects.filter(pk=site.pk).update(opening_time=opening_time, closing_time=closing_time)
        site.opening_time, site.closing_time = opening_time, closing_time
        audit_record(
            actor=actor,
            action="store.hours",
            obj=site,
            changes={"before": before, "after": {"opens": str(opening_time or ""), "closes": str(closing_time or "")}},
            region=site.region,
        )
    return site
