"""Writes on the order spine: create, transition, pay, refund.

`order_transition` is the only way a status changes. It checks TRANSITIONS, locks the row,
writes exactly one OrderEvent in the same transaction and announces the change after commit.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from orders.events import OrderChanged, announce, announce_money, refund_hooks, transition_hooks
from orders.models import (
    KIND_PREFIX,
    ZERO,
    ActorKind,
    Channel,
    Order,
    OrderEvent,
    OrderKind,
    OrderLine,
    OrderSequence,
    OrderStatus,
    Payment,
    Refund,
)
from orders.payments import provider_get

S = OrderStatus
TRANSITIONS: dict[str, set[str]] = {
    S.NEW: {S.PAID, S.CONFIRMED, S.CANCELLED, S.EXPIRED},
    S.PAID: {S.FULFILLING, S.COMPLETED, S.REFUNDED, S.CONFIRMED},
    S.FULFILLING: {S.COMPLETED, S.FAILED},
    S.FAILED: {S.REFUNDED},
    S.COMPLETED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.EXPIRED: set(),
    S.REFUNDED: set(),
    # Delivery orders: released after verification (paid on a platform or in our shop, or cash on
    # delivery), reserved at a warehouse, picked and packed by scans, shipped, delivered, returned.
    S.CONFIRMED: {S.ALLOCATED, S.CANCELLED},
    S.ALLOCATED: {S.PICKING, S.CONFIRMED, S.CANCELLED},
    S.PICKING: {S.PACKED, S.ALLOCATED, S.CANCELLED},
    S.PACKED: {S.SHIPPED, S.CANCELLED},
    S.SHIPPED: {S.DELIVERED, S.RETURNED},
    S.DELIVERED: {S.COMPLETED, S.RETURNED},
    S.RETURNED: {S.REFUNDED},
}
TIMESTAMP_ON = {S.PAID: "paid_at", S.COMPLETED: "completed_at"}
CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Quantise to cents (banker's rounding is not what receipts use: half-up)."""
    from decimal import ROUND_HALF_UP

    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class TransitionNotAllowed(ValidationError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a customer, a device or the system."""

    kind: str
    label: str
    user: object | None = None

    @classmethod
    def of(cls, who) -> Actor:
        if isinstance(who, Actor):
            return who
        if who is None:
            return cls.system()
        if getattr(who, "is_authenticated", False):
            return cls(kind=ActorKind.USER, label=who.get_username(), user=who)
        model_name = getattr(getattr(who, "_meta", None), "model_name", "")
        if model_name == "device":
            return cls(kind=ActorKind.DEVICE, label=f"device:{who.serial_number}")
        if model_name == "customer":
            return cls(kind=ActorKind.CUSTOMER, label=f"customer:{who.phone}")
        if model_name == "partnerclient":
            return cls(kind=ActorKind.PARTNER, label=f"partner:{who.key_prefix}")
        return cls(kind=ActorKind.SYSTEM, label=str(who))

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=label)


# --- Numbers ---------------------------------------------------------------------------------
def order_number_next(*, kind: str, day: datetime.date | None = None) -> str:
    """Kind letter + YYMMDD + at least 4 digits; one atomic upsert, so concurrent callers never
    share a number. Inside a transaction the counter's row lock is held until it ends, so every
    order of that kind and day waits for it; called outside one, the upsert commits at once and a
    busy caller (a machine sale) holds nobody up, at the price of a gap when the order is refused."""
    day = day or timezone.localdate()
    prefix = KIND_PREFIX[OrderKind(kind)]
    table = OrderSequence._meta.db_table
    with sql.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, day, last) VALUES (%s, %s, 1) "
            f"ON CONFLICT (prefix, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [prefix, day],
        )
        (sequence,) = cursor.fetchone()
    return f"{prefix}{day:%y%m%d}{sequence:04d}"


# --- Creating --------------------------------------------------------------------------------
@dataclass
class LineSpec:
    description: str
    unit_price: Decimal
    quantity: int = 1
    product: object | None = None
    cost_price: Decimal = ZERO


_EVENT_COLUMNS = (
    "order_id",
    "at",
    "actor_kind",
    "actor_user_id",
    "actor_label",
    "action",
    "from_status",
    "to_status",
    "reason",
    "data",
)


_EVENT_AT = OrderEvent._meta.get_field("at")
_EVENT_DATA = OrderEvent._meta.get_field("data")


@functools.cache
def _event_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(OrderEvent._meta.db_table)} ({', '.join(map(quote, _EVENT_COLUMNS))}) "
        f"VALUES ({', '.join(['%s'] * len(_EVENT_COLUMNS))})"
    )


def _event(order: Order, actor: Actor, action: str, *, from_status="", to_status="", reason="", data=None) -> None:
    """Append to the operation log. Every change of every order writes one, so this is the hottest
    insert there is: one prepared INSERT with the fields' own database preparation, not a model
    save (no instance, no signals; the log is append-only and nothing listens to its saves)."""
    db = transaction.get_connection()
    values = [
        order.pk,
        _EVENT_AT.get_db_prep_save(timezone.now(), db),
        actor.kind,
        getattr(actor.user, "pk", None),
        actor.label[:150],
        action[:40],
        from_status,
        to_status,
        reason[:255],
        _EVENT_DATA.get_db_prep_save(data or {}, db),
    ]
    with sql.cursor(db) as cursor:
        cursor.execute(_event_sql(db.vendor), values)


def _announce_on_commit(order: Order, from_status: str, action: str) -> None:
    change = OrderChanged(
        order_id=order.pk,
        number=order.number,
        kind=order.kind,
        region_id=order.region_id,
        site_id=order.site_id,
        device_id=order.device_id,
        from_status=from_status,
        to_status=order.status,
        action=action,
        customer_id=order.customer_id,
        discounted=order.discount_total > 0,
        partner_id=order.partner_id,
    )
    transaction.on_commit(lambda: announce(change), robust=True)


def order_create(
    *,
    kind: str,
    actor,
    region=None,
    site=None,
    device=None,
    customer=None,
    channel: str = Channel.CONSOLE,
    lines: Iterable[LineSpec] = (),
    idempotency_key: str | None = None,
    external_reference: str = "",
    note: str = "",
    discount: Decimal = ZERO,
    number: str | None = None,
    partner=None,
) -> Order:
    """Create an order with its lines. With an idempotency key, a repeat returns the first order.
    `number` is one the caller took from `order_number_next` beforehand (see vend_start).
    `partner` is the API partner creating it (it sees the order and gets its webhooks)."""
    actor = Actor.of(actor)
    if idempotency_key:
        existing = Order.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    if device is not None and site is None:
        site = device.site
    if site is not None and region is None:
        region = site.region
    if region is None:
        raise ValidationError({"region": _("An order needs a region, a site or a device.")})
    lines = list(lines)
    for line in lines:
        if line.quantity <= 0:
            raise ValidationError({"quantity": _("Quantity must be at least 1.")})
        if money(line.unit_price) < 0:
            raise ValidationError({"unit_price": _("Price cannot be negative.")})
    subtotal = sum((money(line.unit_price) * line.quantity for line in lines), ZERO)
    discount = money(discount)
    if discount < 0 or discount > subtotal:
        raise ValidationError({"discount": _("The discount must be between zero and the subtotal.")})
    try:
        # A savepoint only where a lost race is recovered from (an idempotency key).
        with transaction.atomic(savepoint=bool(idempotency_key)):
            order = Order(
                number=number or order_number_next(kind=kind),
                kind=kind,
                status=S.NEW,
                customer=customer,
                region=region,
                site=site,
                device=device,
                channel=channel,
                currency=settings.CURRENCY,
                subtotal=subtotal,
                discount_total=discount,
                total=subtotal - discount,
                created_by=actor.user,
                external_reference=external_reference,
                idempotency_key=idempotency_key or None,
                note=note,
                partner=partner,
            )
            sql.insert(order)
            sql.insert(
                *(
                    OrderLine(
                        order=order,
                        product=line.product,
                        description=line.description[:200],
                        quantity=line.quantity,
                        unit_price=money(line.unit_price),
                        cost_price=money(line.cost_price),
                        line_total=money(line.unit_price) * line.quantity,
                    )
                    for line in lines
                )
            )
            _event(order, actor, "created", to_status=S.NEW, data={"total": str(order.total)})
            _announce_on_commit(order, "", "created")
    except IntegrityError:
        if idempotency_key:
            # A concurrent request with the same key won the race: return its order.
            existing = Order.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return order


# --- Transitions -----------------------------------------------------------------------------
@transaction.atomic
def order_add_line(*, order: Order, line: LineSpec, actor, action: str = "line.added") -> Order:
    """Add a charge to an unpaid order (usage-billed orders such as leases are priced at the end).
    Only a NEW order changes; the change is in the operation log."""
    actor = Actor.of(actor)
    locked = lock_order(order)
    if locked.status != S.NEW:
        raise ValidationError(_("Only an unpaid order can be repriced."))
    if line.quantity <= 0 or money(line.unit_price) < 0:
        raise ValidationError(_("A line needs a positive quantity and a price of zero or more."))
    total = money(line.unit_price) * line.quantity
    OrderLine.objects.create(
        order=locked,
        product=line.product,
        description=line.description[:200],
        quantity=line.quantity,
        unit_price=money(line.unit_price),
        cost_price=money(line.cost_price),
        line_total=total,
    )
    Order.objects.filter(pk=locked.pk).update(subtotal=F("subtotal") + total, total=F("total") + total)
    locked.refresh_from_db()
    _event(locked, actor, action, from_status=locked.status, to_status=locked.status, data={"amount": str(total)})
    return locked


@transaction.atomic
def order_line_change(*, order: Order, line_id: int, quantity: int, actor, action: str = "line.changed") -> Order:
    """Change the quantity of one line of an order not yet released (0 removes the line); the totals
    follow and the change is in the operation log. Fulfilment edits delivery orders with it."""
    actor = Actor.of(actor)
    locked = lock_order(order)
    if locked.status != S.NEW or locked.paid_amount > 0:
        raise ValidationError(_("Only an order not yet released or paid can change its lines."))
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValidationError({"quantity": _("Give a whole quantity of zero or more.")})
    line = OrderLine.objects.filter(order=locked, pk=line_id).first()
    if line is None:
        raise ValidationError(_("This line is not on the order."))
    before = line.quantity
    if quantity == before:
        return locked
    if quantity == 0:
        line.delete()
    else:
        line.quantity = quantity
        line.line_total = line.unit_price * quantity
        line.save(update_fields=["quantity", "line_total"])
    subtotal = sum((row.line_total for row in OrderLine.objects.filter(order=locked)), ZERO)
    discount = min(locked.discount_total, subtotal)
    Order.objects.filter(pk=locked.pk).update(subtotal=subtotal, discount_total=discount, total=subtotal - discount)
    locked.refresh_from_db()
    _event(
        locked,
        actor,
        action,
        from_status=locked.status,
        to_status=locked.status,
        data={"line": line_id, "description": line.description, "from": before, "to": quantity},
    )
    return locked


def order_discount_add(*, order: Order, amount: Decimal, actor, action: str, data: dict | None = None) -> Order:
    """Take `amount` off an unpaid order (a coupon, a promotion). Call inside a transaction."""
    amount = money(amount)
    locked = lock_order(order)
    if locked.status != S.NEW or locked.paid_amount > 0:
        raise ValidationError(_("Discounts apply only to orders not paid yet."))
    if amount <= 0:
        raise ValidationError({"amount": _("The discount must be more than zero.")})
    amount = min(amount, locked.total)
    Order.objects.filter(pk=locked.pk).update(discount_total=F("discount_total") + amount, total=F("total") - amount)
    locked.refresh_from_db(fields=["discount_total", "total"])
    _event(
        locked,
        Actor.of(actor),
        action,
        from_status=locked.status,
        to_status=locked.status,
        data={"discount": str(amount), **(data or {})},
    )
    return locked


_ORDER = sql.Columns(Order)


@functools.cache
def _lock_order_sql(vendor: str, lock: bool) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {_ORDER.sql_for(connection)} FROM {quote(Order._meta.db_table)} "
        f"WHERE {quote(Order._meta.pk.column)} = %s{' FOR UPDATE' if lock else ''}"
    )


def lock_order(order_or_pk) -> Order:
    """The order, read afresh with its row locked until the caller's transaction ends (every
    payment, refund and transition takes it: one prepared SELECT ... FOR UPDATE)."""
    pk = getattr(order_or_pk, "pk", order_or_pk)
    db = transaction.get_connection()
    lock = db.features.has_select_for_update
    if lock and db.get_autocommit():
        raise TransactionManagementError("lock_order needs the caller's transaction.")
    with sql.cursor(db) as cursor:
        cursor.execute(_lock_order_sql(db.vendor, lock), [pk])
        row = cursor.fetchone()
    if row is None:
        raise Order.DoesNotExist(f"No order {pk}.")
    return _ORDER.load(row, connection=db)


def transition_allowed(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())


def order_transition(
    *,
    order: Order,
    to_status: str,
    actor,
    reason: str = "",
    data: dict | None = None,
    action: str = "status",
    locked: bool = False,
) -> Order:
    """Move `order` to `to_status`: one event, the transition hooks, an announcement after commit.

    `locked=True` says the caller already holds the row lock inside its transaction (it got `order`
    from `lock_order`): no second lock and no savepoint. A refused transition writes nothing."""
    actor = Actor.of(actor)
    if locked:
        if not connection.in_atomic_block:
            raise TransactionManagementError("order_transition(locked=True) needs the caller's transaction.")
        return _transition(order, to_status, actor, reason, data, action)
    with transaction.atomic():
        current = _transition(lock_order(order), to_status, actor, reason, data, action)
    order.status = current.status
    for field in ("updated_at", *TIMESTAMP_ON.values()):
        setattr(order, field, getattr(current, field))
    return current


# The transitions under way in this context, by order: the one that started writes the row once,
# after its hooks (which may move the order on, as a paid vending sale goes on to FULFILLING).
_UNDER_WAY: contextvars.ContextVar[dict | None] = contextvars.ContextVar("order_transitions", default=None)


def _transition(
    order: Order, to_status: str, actor: Actor, reason: str, data: dict | None, action: str, also_save=()
) -> Order:
    under_way = _UNDER_WAY.get()
    nested = bool(under_way) and order.pk in under_way
    if nested and under_way[order.pk][0] is not order:
        raise TransactionManagementError(
            "A transition hook moves the order instance it was given, not a copy read from the database."
        )
    from_status = order.status
    if not transition_allowed(from_status, to_status):
        raise TransitionNotAllowed(
            _("Order %(number)s cannot go from %(from)s to %(to)s.")
            % {"number": order.number, "from": from_status, "to": to_status}
        )
    if nested:
        fields, token = under_way[order.pk][1], None
    else:
        fields = []
        token = _UNDER_WAY.set({**(under_way or {}), order.pk: (order, fields)})
    try:
        order.status = to_status
        fields += ["status", "updated_at", *also_save]
        if to_status in TIMESTAMP_ON:
            setattr(order, TIMESTAMP_ON[to_status], timezone.now())
            fields.append(TIMESTAMP_ON[to_status])
        _event(order, actor, action, from_status=from_status, to_status=to_status, reason=reason, data=data)
        _announce_on_commit(order, from_status, action)
        for hook in transition_hooks():
            hook(order, from_status, actor)
    finally:
        if token is not None:
            _UNDER_WAY.reset(token)
    if nested:
        return order  # the transition that started the chain writes the row
    # One UPDATE for the whole chain: the status (and stamps) the hooks left the order in. Every
    # status change is still its own event, in order, in the same transaction. A non-HOT update
    # (status is indexed) writes every index of the table again, so a second one costs as much.
    sql.update(order, fields)
    return order


def order_note(*, order: Order, actor, action: str, reason: str = "", data: dict | None = None) -> None:
    """Record something that happened to an order without changing its status."""
    _event(order, Actor.of(actor), action, from_status=order.status, to_status=order.status, reason=reason, data=data)


# --- Payments --------------------------------------------------------------------------------
@transaction.atomic
def payment_collect(
    *,
    order: Order,
    provider: str,
    amount: Decimal,
    actor,
    reference: str = "",
    idempotency_key: str | None = None,
    data: dict | None = None,
    shift=None,
    collected_at: datetime.datetime | None = None,
    offline: bool = False,
) -> Payment:
    """Take a payment for an order; once fully paid the order moves to PAID.

    A repeated idempotency key returns the first payment and changes nothing. `collected_at` and
    `offline` record a collection made while the system was unreachable, entered afterwards.
    """
    actor = Actor.of(actor)
    amount = money(amount)
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.amount != amount or existing.order_id != order.pk:
                raise ValidationError(_("This payment key was already used for a different payment."))
            return existing
    method = provider_get(provider)
    locked = lock_order(order)
    if locked.status != S.NEW:
        raise ValidationError(
            _("Order %(number)s is %(status)s and takes no payment.")
            % {"number": locked.number, "status": locked.get_status_display()}
        )
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount > locked.balance_due:
        raise ValidationError(
            {"amount": _("The amount is more than the %(due)s still due.") % {"due": locked.balance_due}}
        )
    payment = Payment(
        order=locked,
        provider=provider,
        amount=amount,
        idempotency_key=idempotency_key or None,
        collected_by=actor.user,
        reference=reference,
        data=data or {},
        shift=shift,
        collected_at=collected_at or timezone.now(),
        offline=offline,
    )
    if method.settles_unsaved:
        result = method.collect(payment=payment, reference=reference, data=data)
        if result.succeeded and not result.pending:
            _payment_settle(payment, result.reference or reference, result.fee)
            sql.insert(payment)
            return _payment_succeeded(order=locked, payment=payment, actor=actor)
        sql.insert(payment)
    else:
        sql.insert(payment)
        result = method.collect(payment=payment, reference=reference, data=data)
    if result.pending:
        payment.reference = result.reference or reference
        payment.data = {**payment.data, **result.data}  # e.g. the QR code the customer scans
        payment.save(update_fields=["reference", "data"])
        _event(
            locked,
            actor,
            "payment.pending",
            from_status=locked.status,
            to_status=locked.status,
            data={"provider": provider, "amount": str(amount), "payment": payment.pk},
        )
        return payment
    if not result.succeeded:
        payment.status = Payment.Status.FAILED
        payment.save(update_fields=["status"])
        _event(
            locked,
            actor,
            "payment.failed",
            from_status=locked.status,
            to_status=locked.status,
            reason=result.message,
            data={"provider": provider, "amount": str(amount)},
        )
        return payment
    _payment_settle(payment, result.reference or reference, result.fee)
    payment.save(update_fields=["status", "reference", "fee", "succeeded_at"])
    return _payment_succeeded(order=locked, payment=payment, actor=actor)


def payment_fee(method: str, amount: Decimal, region=None) -> Decimal:
    """The fee of `amount` paid by `method` at the rate set for `region` (the operators' setting
    "fees.<method>", inherited down the region tree; PAYMENT_FEE_RATES is the default)."""
    from core.region_settings import REGISTRY, region_setting

    key = f"fees.{method}"
    rate = region_setting(key, region) if key in REGISTRY else Decimal(0)
    return (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def _payment_settle(payment: Payment, reference: str, fee: Decimal | None) -> None:
    """A payment settles: the provider's own fee when it reports one, else the method's rate in
    the order's region, is recorded on it."""
    payment.status = Payment.Status.SUCCEEDED
    payment.reference = reference
    payment.fee = money(fee) if fee else payment_fee(payment.provider, payment.amount, payment.order.region_id)
    payment.succeeded_at = timezone.now()


def _payment_succeeded(*, order: Order, payment: Payment, actor: Actor) -> Payment:
    """A settled payment counts towards `order` (locked by the caller); fully paid, it becomes PAID
    in the same UPDATE."""
    order.paid_amount += payment.amount
    fully_paid = order.paid_amount >= order.total and order.status == S.NEW
    if not fully_paid:
        sql.update(order, ["paid_amount"])
    _event(
        order,
        actor,
        "payment",
        from_status=order.status,
        to_status=order.status,
        data={
            "provider": payment.provider,
            "amount": str(payment.amount),
            "payment": payment.pk,
            "reference": payment.reference,
        },
    )
    announce_money(
        order=order,
        kind="payment",
        amount=payment.amount,
        provider=payment.provider,
        actor_label=actor.label,
        pk=payment.pk,
        offline=payment.offline,
    )
    if fully_paid:
        _transition(order, S.PAID, actor, "", {"payment": payment.pk}, "status", also_save=("paid_amount",))
    return payment


@transaction.atomic
def payment_confirm(*, payment: Payment, actor, reference: str = "", fee: Decimal = ZERO) -> Payment:
    """Confirm a pending payment (an asynchronous provider's callback). Exactly once."""
    actor = Actor.of(actor)
    locked_order = lock_order(payment.order_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return payment
    if payment.status != Payment.Status.PENDING:
        raise ValidationError(_("This payment is %(status)s.") % {"status": payment.get_status_display()})
    _payment_settle(payment, reference or payment.reference, fee)
    payment.save(update_fields=["status", "reference", "fee", "succeeded_at"])
    return _payment_succeeded(order=locked_order, payment=payment, actor=actor)


# --- Refunds ---------------------------------------------------------------------------------
@transaction.atomic
def refund_create(
    *,
    order: Order,
    amount: Decimal,
    actor,
    reason: str,
    payment: Payment | None = None,
    idempotency_key: str | None = None,
    shift=None,
) -> Refund:
    """Refund part or all of what was paid, through the provider that took the money."""
    actor = Actor.of(actor)
    amount = money(amount)
    if idempotency_key:
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.amount != amount or existing.order_id != order.pk:
                raise ValidationError(_("This refund key was already used for a different refund."))
            return existing
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the money is refunded.")})
    locked = lock_order(order)
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount > locked.refundable_amount:
        raise ValidationError({"amount": _("At most %(max)s can be refunded.") % {"max": locked.refundable_amount}})
    if payment is None:
        payment = _refundable_payment(locked, amount)
    elif payment.order_id != locked.pk or payment.status != Payment.Status.SUCCEEDED:
        raise ValidationError({"payment": _("Choose a successful payment of this order.")})
    already = sum((r.amount for r in payment.refunds.filter(status=Refund.Status.SUCCEEDED)), ZERO)
    if amount > payment.amount - already:
        raise ValidationError(
            {"amount": _("At most %(max)s can be refunded from this payment.") % {"max": payment.amount - already}}
        )
    refund = Refund.objects.create(
        order=locked,
        payment=payment,
        amount=amount,
        reason=reason,
        requested_by=actor.user,
        idempotency_key=idempotency_key or None,
        shift=shift,
    )
    result = _refund_through(locked, refund, actor, provider_get(payment.provider))
    if not result.succeeded:
        refund.status = Refund.Status.FAILED
        refund.save(update_fields=["status"])
        _event(
            locked,
            actor,
            "refund.failed",
            from_status=locked.status,
            to_status=locked.status,
            reason=result.message,
            data={"amount": str(amount), "refund": refund.pk},
        )
        return refund
    refund.status = Refund.Status.SUCCEEDED
    refund.reference = result.reference
    refund.succeeded_at = timezone.now()
    refund.save(update_fields=["status", "reference", "succeeded_at"])
    Order.objects.filter(pk=locked.pk).update(refunded_amount=F("refunded_amount") + amount)
    locked.refresh_from_db(fields=["refunded_amount"])
    _event(
        locked,
        actor,
        "refund",
        from_status=locked.status,
        to_status=locked.status,
        reason=reason,
        data={"amount": str(amount), "refund": refund.pk, "provider": payment.provider},
    )
    announce_money(
        order=locked, kind="refund", amount=amount, provider=payment.provider, actor_label=actor.label, pk=refund.pk
    )
    # Listeners (the sales roll-ups) hear of every refund, also one that leaves the status as it is.
    _announce_on_commit(locked, locked.status, "refund")
    if locked.refunded_amount >= locked.paid_amount and transition_allowed(locked.status, S.REFUNDED):
        order_transition(order=locked, to_status=S.REFUNDED, actor=actor, reason=reason, locked=True)
    return refund


class _ProviderRefused(Exception):
    def __init__(self, result):
        super().__init__(result.message)
        self.result = result


def _refund_through(order: Order, refund: Refund, actor: Actor, provider):
    """The kind's refund hooks (a recharge takes its money out of the wallet), then the provider.
    A hook's refusal refuses the refund; a provider's failure rolls back what the hooks wrote (the
    one savepoint, only for kinds with hooks), so a failed refund has moved no money anywhere."""
    hooks = refund_hooks(order.kind)
    if not hooks:
        return provider.refund(refund=refund)
    try:
        with transaction.atomic():
            for hook in hooks:
                hook(order=order, refund=refund, actor=actor)
            result = provider.refund(refund=refund)
            if not result.succeeded:
                raise _ProviderRefused(result)
    except _ProviderRefused as refused:
        return refused.result
    return result


def _refundable_payment(order: Order, amount: Decimal) -> Payment:
    for payment in order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-created_at"):
        already = sum((r.amount for r in payment.refunds.filter(status=Refund.Status.SUCCEEDED)), ZERO)
        if payment.amount - already >= amount:
            return payment
    raise ValidationError({"amount": _("No single payment of this order covers this amount.")})
