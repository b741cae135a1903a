"""The vending sale on the order spine.

sale (stock taken under a conditional update, idempotent on the machine's request id)
→ payment (any provider) → a dispense command to the machine → the machine's report:
succeeded → completed; failed or expired → failed, the payment refunded in full and the item put
back. An unpaid sale that is cancelled or times out gives its item back too.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product
from core import sql
from devices.models import Device, DeviceCommand
from devices.services import command_send, open_fault_exists_sql
from inventory.models import StockLevel, StockLocation
from inventory.services import level_for, stock_move
from orders.models import Channel, Order, OrderKind, OrderStatus
from orders.services import (
    Actor,
    LineSpec,
    lock_order,
    order_create,
    order_number_next,
    order_transition,
    refund_create,
)
from vending.models import Slot, Vend

logger = logging.getLogger(__name__)
S = OrderStatus
DISPENSE_TTL_SECONDS = 120
UNPAID_TIMEOUT = datetime.timedelta(minutes=5)


@transaction.atomic
def slot_create(
    *,
    device: Device,
    code: str,
    product,
    capacity: int,
    par_level=None,
    low_threshold: int | None = None,
    price=None,
    actor=None,
) -> Slot:
    code = (code or "").strip()
    if not code or len(code) > 20:
        raise ValidationError({"code": _("Give a slot code of at most 20 characters.")})
    if device.kind != Device.Kind.VENDING:
        raise ValidationError({"device": _("Slots belong to vending machines.")})
    if not isinstance(capacity, int) or capacity <= 0:
        raise ValidationError({"capacity": _("Capacity must be a positive whole number.")})
    if Slot.objects.filter(device=device, code=code).exists():
        raise ValidationError({"code": _("This machine already has slot %(code)s.") % {"code": code}})
    location, _created = StockLocation.objects.get_or_create(
        device=device,
        code=code,
        defaults={"kind": StockLocation.Kind.SLOT, "site": device.site, "name": f"{device.name} {code}"},
    )
    level = level_for(
        location=location,
        product=product,
        capacity=capacity,
        par_level=par_level or capacity,
        low_threshold=low_threshold,
    )
    return Slot.objects.create(device=device, code=code, product=product, price=price, level=level)


def vend_start(
    *, device: Device, slot_code: str, request_id: str, actor=None, customer=None, channel: str = Channel.MACHINE
) -> Vend:
    """Create a sale for one item of a slot. The same request id from the same machine returns the
    same sale; with different contents it is refused. Sold out, a faulty slot or an inactive
    product are refused with the reason, and nothing is written."""
    request_id = (request_id or "").strip()
    if not request_id or len(request_id) > 64:
        raise ValidationError({"request_id": _("Give the machine's request id (at most 64 characters).")})
    existing = _vend_for_request(device, request_id)  # a repeat is rare
    if existing:
        return _same_request(existing, slot_code, customer)
    slot = _slot_for_sale(device, slot_code)
    if slot is None:
        raise ValidationError({"slot": _("This machine has no slot %(code)s.") % {"code": slot_code}})
    if not slot.product.is_active:
        raise ValidationError({"slot": _("%(product)s is no longer sold.") % {"product": slot.product}})
    if slot.faulty:
        raise ValidationError(
            {"slot": _("Slot %(code)s has an open fault and is not sold from.") % {"code": slot.code}}
        )
    # Outside a transaction the number commits at once: concurrent sales never queue behind the
    # day's counter for the length of each other's transactions (a refused sale leaves a gap).
    number = None if transaction.get_connection().in_atomic_block else order_number_next(kind=OrderKind.VENDING)
    try:
        with transaction.atomic():
            order = order_create(
                number=number,
                kind=OrderKind.VENDING,
                actor=actor or device,
                device=device,
                customer=customer,
                channel=channel,
                lines=[
                    LineSpec(
                        description=slot.product.name,
                        unit_price=slot.sale_price,
                        product=slot.product,
                        cost_price=slot.product.cost_price,
                    )
                ],
            )
            stock_move(level=slot.level, quantity=-1, reason="sale", actor=actor or device, reference=order.number)
            # The dispense command's id is reserved with the sale; the command itself is queued once paid.
            vend = Vend(order=order, device=device, slot=slot, request_id=request_id, command_id=uuid.uuid4())
            sql.insert(vend)
            return vend
    except IntegrityError:
        existing = _vend_for_request(device, request_id)
        if existing:
            return _same_request(existing, slot_code, customer)
        raise


# What a sale reads on every vend, in two prepared statements instead of two ORM queries (core.sql):
# the slot, the few product fields a sale needs (the rest load on access) and the open-fault question.
_SLOT = sql.Columns(Slot, ("id", "device", "code", "product", "price", "level", "is_active"), alias="s")
_PRODUCT = sql.Columns(Product, ("id", "sku", "name", "cost_price", "sale_price", "supplier", "is_active"), alias="p")
_LEVEL = sql.Columns(StockLevel, ("id",))
_DEVICE = sql.Columns(Device, ("id",))
_VEND = sql.Columns(Vend, ("id", "device", "command_id"), alias="v")


def _slot_for_sale(device: Device, code: str) -> Slot | None:
    """The active slot `code` of `device` with its product, stock level (id only) and `faulty`."""
    with sql.cursor() as cursor:
        cursor.execute(
            f"SELECT {_SLOT.sql}, {_PRODUCT.sql}, "
            f"{open_fault_exists_sql(device_column='s.device_id', slot_column='s.code')} "
            "FROM vending_slot s JOIN catalog_product p ON p.id = s.product_id "
            "WHERE s.device_id = %s AND s.code = %s AND s.is_active",
            [device.pk, code],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    slot = _SLOT.load(row)
    slot.device = device
    slot.product = _PRODUCT.load(row, _SLOT.width)
    slot.level = _LEVEL.load([slot.level_id])
    slot.faulty = bool(row[-1])
    return slot


def _vend_for_request(device: Device, request_id: str) -> Vend | None:
    """The sale this machine already made for `request_id`, if any (one indexed lookup of the id;
    the sale itself is read only when there is one)."""
    with sql.cursor() as cursor:
        cursor.execute("SELECT id FROM vending_vend WHERE device_id = %s AND request_id = %s", [device.pk, request_id])
        row = cursor.fetchone()
    return Vend.objects.select_related("slot", "order").get(pk=row[0]) if row else None


def _same_request(vend: Vend, slot_code: str, customer) -> Vend:
    if vend.slot.code != slot_code or (customer is not None and vend.order.customer_id != customer.pk):
        raise ValidationError(
            {"request_id": _("This request id was already used for a different sale.")}, code="request_reused"
        )
    return vend


def _return_stock(vend: Vend, actor, reason: str) -> None:
    """Put the item back, once."""
    if Vend.objects.filter(pk=vend.pk, stock_returned=False).update(stock_returned=True):
        stock_move(
            level=vend.slot.level,
            quantity=1,
            reason="sale_reversed",
            actor=actor,
            reference=vend.order.number,
            note=reason,
        )


def vend_cancel(*, vend: Vend, actor, reason: str = "", expired: bool = False) -> Vend:
    """An unpaid sale is cancelled (or times out): the order closes and the item goes back."""
    with transaction.atomic():
        order = lock_order(vend.order_id)
        if order.status != S.NEW:
            raise ValidationError(_("Only an unpaid sale can be cancelled."))
        order_transition(
            order=order, to_status=S.EXPIRED if expired else S.CANCELLED, actor=actor, reason=reason, locked=True
        )
        _return_stock(vend, actor, reason or "cancelled")
    return vend


def vends_expire_unpaid(*, now=None) -> int:
    cutoff = (now or timezone.now()) - UNPAID_TIMEOUT
    expired = 0
    for vend in Vend.objects.filter(order__status=S.NEW, created_at__lt=cutoff).select_related("slot__level", "order"):
        try:
            vend_cancel(vend=vend, actor=Actor.system("timeout"), reason=_("not paid in time"), expired=True)
            expired += 1
        except ValidationError:
            continue  # paid meanwhile
    return expired


def vend_dispense_on_paid(order: Order, from_status: str, actor) -> None:
    """Transition hook: a vending sale that becomes paid is dispensed by a command to the machine,
    in the same transaction as the payment, so no crash leaves it paid and never dispensed. The
    order row is locked and PAID → FULFILLING happens once, so the command is queued once."""
    if order.kind != OrderKind.VENDING or order.status != S.PAID:
        return
    with sql.cursor() as cursor:
        cursor.execute(
            f"SELECT {_VEND.sql}, s.code FROM vending_vend v JOIN vending_slot s ON s.id = v.slot_id "
            "WHERE v.order_id = %s",
            [order.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return  # a vending order that is not a machine sale
    vend, slot_code = _VEND.load(row), row[-1]
    system = Actor.system("vending")
    command = command_send(
        device=_DEVICE.load([vend.device_id]),
        kind="dispense",
        payload={"slot": slot_code, "order": order.number},
        actor=system,
        reference=order.number,
        ttl_seconds=DISPENSE_TTL_SECONDS,
        command_id=vend.command_id,
    )
    order_transition(
        order=order,
        to_status=S.FULFILLING,
        actor=system,
        action="dispense.requested",
        data={"command": str(command.command_id)},
        locked=True,
    )


def vend_on_dispense_result(command: DeviceCommand) -> None:
    """Result handler for "dispense": completed, or failed with a full refund and the item back."""
    vend = Vend.objects.select_related("order", "slot__level", "device").filter(command_id=command.command_id).first()
    if vend is None:
        return
    device_actor = Actor.of(vend.device)
    with transaction.atomic():
        order = lock_order(vend.order_id)
        if order.status != S.FULFILLING:
            return  # already resolved
        if command.status == DeviceCommand.Status.SUCCEEDED:
            order_transition(
                order=order, to_status=S.COMPLETED, actor=device_actor, action="dispense.succeeded", locked=True
            )
            from vending.restock import low_stock_check

            level = vend.slot.level
            transaction.on_commit(lambda: low_stock_check(level), robust=True)
            return
        reason = (
            _("the machine did not report in time")
            if command.status == DeviceCommand.Status.EXPIRED
            else _("the machine could not dispense")
        )
        order_transition(
            order=order,
            to_status=S.FAILED,
            actor=device_actor,
            action="dispense.failed",
            reason=reason,
            data={"result": command.result},
            locked=True,
        )
        if order.paid_amount > order.refunded_amount:
            refund_create(
                order=order,
                amount=order.paid_amount - order.refunded_amount,
                actor=Actor.system("auto-refund"),
                reason=reason,
                idempotency_key=f"dispense-refund:{order.pk}",
            )
        _return_stock(vend, Actor.system("auto-refund").label, reason)


# --- Paid at the machine ----------------------------------------------------------------------
# What a machine's own hardware took (MDB coin mech, bill validator, cashless reader) is recorded
# as the provider that settles it; online methods show a QR code or payment link on the screen.
HARDWARE_METHODS = {"coin": "cash", "bill": "cash", "card": "card"}
ONLINE_METHODS = ("alipay", "wechat", "stripe")


def vend_pay(*, vend: Vend, method: str, amount=None, reference: str = "", attempt: int = 1):
    """Take the payment for a machine's sale: the machine reports what its coin mech, bill
    validator or card reader took, or asks for an online payment and shows the QR code it gets
    back. Idempotent on (sale, method, reference, attempt): a machine that retries after a lost
    reply gets the same payment back. A sale takes one payment: while one is settled or waiting,
    another method is refused. Once paid, the dispense command follows (vend_dispense_on_paid)."""
    from orders.models import Payment
    from orders.payments import UnknownProvider, provider_get
    from orders.services import money, payment_collect

    if method not in HARDWARE_METHODS and method not in ONLINE_METHODS:
        raise ValidationError({"method": _("Unknown payment method %(method)s.") % {"method": method}})
    provider_code = HARDWARE_METHODS.get(method, method)
    try:
        provider = provider_get(provider_code)
    except UnknownProvider:
        provider = None
    if provider is None or not provider.available():
        raise ValidationError({"method": _("This machine cannot take %(method)s payments here.") % {"method": method}})
    reference = (reference or "").strip()
    if method == "card" and not reference:
        raise ValidationError({"reference": _("Send the card reader's approval reference.")})
    order = vend.order
    key = f"vend-pay:{vend.pk}:{method}:{attempt}:{reference}"[:100]
    existing = Payment.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if amount is not None and money(amount) != existing.amount:
            raise ValidationError({"amount": _("This payment was already reported with a different amount.")})
        return existing
    device_actor = Actor.of(vend.device)
    with transaction.atomic():
        order = lock_order(vend.order_id)
        if order.status != S.NEW:
            raise ValidationError(
                _("Sale %(number)s is %(status)s and takes no payment.")
                % {"number": order.number, "status": order.get_status_display()}
            )
        due = order.balance_due
        if method in ONLINE_METHODS:
            amount = due if amount is None else money(amount)
        elif amount is None:
            raise ValidationError({"amount": _("Send the amount the machine took.")})
        else:
            amount = money(amount)
        if amount != due:
            raise ValidationError(
                {
                    "amount": _("The sale costs %(due)s; the machine reported %(amount)s.")
                    % {"due": due, "amount": amount}
                }
            )
        waiting = order.payments.filter(status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED]).first()
        if waiting is not None:
            raise ValidationError(
                _("This sale already has a %(method)s payment that is %(status)s.")
                % {"method": waiting.provider, "status": waiting.get_status_display()},
                code="payment_exists",
            )
        return payment_collect(
            order=order,
            provider=provider_code,
            amount=amount,
            actor=device_actor,
            reference=reference,
            idempotency_key=key,
            data={"machine": vend.device.serial_number, "method": method},
        )


def vend_for_request(device: Device, request_id: str) -> Vend | None:
    """The sale `device` made under its own `request_id` (never another machine's)."""
    return _vend_for_request(device, (request_id or "").strip())


# --- Bought from the customer app -------------------------------------------------------------
# The machine shows a QR code per slot; it carries the machine and slot, signed so that nobody can
# make one up for another machine. A member scans it, sees their price and pays in the app.
APP_CODE_SALT = "vending.slot-code"
APP_METHODS = ("wallet", "points", *ONLINE_METHODS)


def slot_app_code(slot: Slot) -> str:
    from django.core import signing

    return signing.dumps({"d": slot.device_id, "s": slot.code}, salt=APP_CODE_SALT, compress=True)


def slot_for_app_code(code: str) -> Slot:
    """The active slot a scanned code names; a forged, altered or unknown code is refused."""
    from django.core import signing

    try:
        data = signing.loads(code or "", salt=APP_CODE_SALT)
        device_pk, slot_code = int(data["d"]), str(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError({"code": _("This is not a code of one of our machines.")}) from None
    slot = Slot.objects.select_related("device", "product", "level").filter(device_id=device_pk, code=slot_code).first()
    if slot is None or not slot.is_active or not slot.device.is_active:
        raise ValidationError({"code": _("This slot is not selling any more.")})
    return slot


def member_price(*, customer, slot: Slot):
    """The price a member pays for one item of `slot` before coupons: their level's discount off."""
    from decimal import ROUND_HALF_UP, Decimal

    from members.models import MemberLevel

    price = slot.sale_price
    level = MemberLevel.objects.filter(level=customer.level).first()
    if level is None or level.discount_percent <= 0:
        return price
    off = (price * level.discount_percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return price - off


def vend_buy_in_app(*, customer, code: str, request_id: str, method: str, coupon: str = ""):
    """A member buys one item at a machine from the app: the sale is started for them (stock
    taken), their level discount, promotions and the coupon they chose are applied once, and
    the payment is taken by wallet balance or points (at once) or an online provider (a QR code
    or link to pay). Once paid, the machine dispenses. The same request id returns the same sale."""
    from orders.models import OrderEvent, Payment
    from orders.payments import provider_get
    from orders.services import order_note, payment_collect

    if method not in APP_METHODS:
        raise ValidationError({"method": _("Unknown payment method %(method)s.") % {"method": method}})
    if not provider_get(method).available():
        raise ValidationError({"method": _("This payment method is not offered here.")})
    request_id = (request_id or "").strip()
    if not request_id or len(request_id) > 40:
        raise ValidationError({"request_id": _("Give the app's request id (at most 40 characters).")})
    slot = slot_for_app_code(code)
    vend = vend_start(
        device=slot.device,
        slot_code=slot.code,
        request_id=f"app:{customer.pk}:{request_id}",
        actor=customer,
        customer=customer,
        channel=Channel.CUSTOMER_APP,
    )
    with transaction.atomic():
        order = lock_order(vend.order_id)
        if order.status == S.NEW and not OrderEvent.objects.filter(order=order, action="app.priced").exists():
            from members.coupons import coupon_apply
            from members.promotions import promotions_apply

            promotions_apply(order=order, actor=customer)
            if coupon.strip():
                coupon_apply(order=order, code=coupon, actor=customer, customer=customer)
            order_note(order=order, actor=customer, action="app.priced")
    order = vend.order = Order.objects.get(pk=vend.order_id)
    payment = order.payments.filter(idempotency_key=f"app-vend:{order.pk}:{method}").first()
    if payment is None and order.status == S.NEW:
        if order.payments.filter(status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED]).exists():
            raise ValidationError(_("This sale is already being paid another way."), code="payment_exists")
        payment = payment_collect(
            order=order,
            provider=method,
            amount=order.balance_due,
            actor=customer,
            idempotency_key=f"app-vend:{order.pk}:{method}",
            data={"machine": slot.device.serial_number, "method": method},
        )
        if payment.status == Payment.Status.FAILED:
            # Not enough balance or points: the sale gives its item back rather than waiting.
            reason = (
                OrderEvent.objects.filter(order=order, action="payment.failed")
                .order_by("-pk")
                .values_list("reason", flat=True)
                .first()
            )
            vend_cancel(vend=vend, actor=customer, reason=str(_("the payment failed")))
            raise ValidationError({"method": reason or _("The payment failed.")})
    vend.order.refresh_from_db()
    return vend, payment
