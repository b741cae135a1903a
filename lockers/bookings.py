"""Compartments customers book in the app, to send or store a parcel (docs/adr/0019).

The customer chooses a bank and a size; the server prices it (the region's booking price per size,
ADR 16), reserves the smallest free compartment that fits and takes the payment the way a machine
purchase in the app does (wallet balance or points at once, an online provider through its QR code
or link and callback). Once paid, the order waits for the goods and the customer gets a drop-off
code; from the door-closed event on it is an ordinary locker order (pickup code to the customer,
collected, storage fees, return to the customer as sender). An unpaid booking expires after
BOOKING_UNPAID_TIMEOUT and frees its compartment. Operator and partner orders are not here
(lockers.services.locker_order_create).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from lockers.models import SIZES, Compartment, LockerOrder
from lockers.services import BOOKING_UNPAID_TIMEOUT, DROPOFF_CODE_TTL, _reserve, publish_compartment, storage_rule
from orders.models import Channel, Order, OrderKind, OrderStatus
from orders.services import Actor, LineSpec, lock_order, order_create, order_note, order_transition
from pickup.models import PickupCode
from pickup.services import code_issue

BOOKING_METHODS = ("wallet", "points", "alipay", "wechat", "stripe")
ST = LockerOrder.Stage
C = Compartment.State


def booking_price(*, bank: Device, size: str) -> Decimal:
    """What booking a compartment of `size` at `bank` costs (the bank's region's setting)."""
    from core.region_settings import region_setting

    return region_setting(f"lockers.booking_price.{size}", bank.site.region_id)


def banks_for_customer(customer):
    """The locker banks a customer may book: active banks of their home region (and the regions
    under it); every active bank for a customer whose region is not known yet."""
    banks = Device.objects.filter(kind=Device.Kind.LOCKER, is_active=True).select_related("site__region")
    region = customer.home_region
    if region is not None:
        banks = banks.filter(site__region__path__startswith=region.path)
    return banks.order_by("site__name", "name")


def bank_for_booking(*, customer, bank_id) -> Device:
    try:
        bank_id = int(bank_id)
    except (TypeError, ValueError):
        raise ValidationError({"bank": _("Choose a locker bank.")}) from None
    bank = Device.objects.select_related("site__region").filter(pk=bank_id, kind=Device.Kind.LOCKER).first()
    if bank is None or not bank.is_active:
        raise ValidationError({"bank": _("There is no such locker bank.")})
    if not banks_for_customer(customer).filter(pk=bank.pk).exists():
        raise ValidationError({"bank": _("This locker bank does not take bookings from your region.")})
    return bank


def free_by_size(bank: Device) -> dict[str, int]:
    """How many free compartments of each size the bank has now (a size fits larger ones too)."""
    counts = {size: 0 for size in SIZES}
    for size in Compartment.objects.filter(bank=bank, state=C.FREE).values_list("size", flat=True):
        counts[size] += 1
    return counts


def locker_book(*, customer, bank: Device, size: str, method: str, request_id: str):
    """Book the smallest free compartment of at least `size` at `bank` and take the payment.
    Returns (locker order, payment, drop-off code in clear or None). Paid at once (wallet, points):
    the code comes with the answer. Online: the answer carries the payment's QR code or link; once
    the provider's callback pays it, `booking_dropoff_code` gives the code. The same request id
    returns the same booking (and, if it is paid, a fresh code). Refused with nothing kept: no
    compartment fits, a bank outside the customer's region, not enough balance or points."""
    from orders.models import OrderEvent, Payment
    from orders.payments import provider_get
    from orders.services import payment_collect

    if size not in SIZES:
        raise ValidationError({"size": _("Sizes are S, M, L or XL.")})
    if method not in BOOKING_METHODS:
        raise ValidationError({"method": _("Unknown payment method %(method)s.") % {"method": method}})
    if not provider_get(method).available():
        raise ValidationError({"method": _("This payment method is not offered here.")})
    request_id = (request_id or "").strip()
    if not request_id or len(request_id) > 40:
        raise ValidationError({"request_id": _("Give the app's request id (at most 40 characters).")})
    key = f"locker-book:{customer.pk}:{request_id}"
    existing = Order.objects.filter(idempotency_key=key).first()
    if existing is None:
        if not banks_for_customer(customer).filter(pk=bank.pk).exists():
            raise ValidationError({"bank": _("This locker bank does not take bookings from your region.")})
        price = booking_price(bank=bank, size=size)
        with transaction.atomic():
            order = order_create(
                kind=OrderKind.LOCKER,
                actor=customer,
                device=bank,
                customer=customer,
                channel=Channel.CUSTOMER_APP,
                lines=[
                    LineSpec(
                        description=_("Locker compartment %(size)s at %(bank)s") % {"size": size, "bank": bank.name},
                        unit_price=price,
                    )
                ],
                idempotency_key=key,
            )
            if not LockerOrder.objects.filter(order=order).exists():  # not a concurrent twin's
                compartment = _reserve(bank, size)
                LockerOrder.objects.create(
                    order=order,
                    bank=bank,
                    compartment=compartment,
                    size=size,
                    overdue_fee_per_day=storage_rule(bank).overdue_fee_per_day,
                    sender_phone=customer.phone,
                )
                order_note(
                    order=order,
                    actor=customer,
                    action="locker.booked",
                    data={"bank": bank.pk, "door": compartment.door, "size": size},
                )
    else:
        order = existing
    locker_order = LockerOrder.objects.select_related("order", "bank", "compartment").get(order=order)
    if locker_order.bank_id != bank.pk or locker_order.size != size:
        raise ValidationError({"request_id": _("This request id was used for another booking.")})
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        raise ValidationError(_("This booking was not paid and has ended; book again."), code="ended")
    payment_key = f"locker-book:{order.pk}:{method}"
    payment = order.payments.filter(idempotency_key=payment_key).first()
    if payment is None and order.status == OrderStatus.NEW:
        if order.payments.filter(status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED]).exists():
            raise ValidationError(_("This booking is already being paid another way."), code="payment_exists")
        try:
            payment = payment_collect(
                order=order,
                provider=method,
                amount=order.balance_due,
                actor=customer,
                idempotency_key=payment_key,
                data={"bank": bank.serial_number, "method": method},
            )
        except ValidationError:
            # The same request sent twice at once: the twin paid first; answer with its payment.
            payment = Payment.objects.filter(idempotency_key=payment_key).first()
            if payment is None:
                raise
        if payment.status == Payment.Status.FAILED:
            reason = (
                OrderEvent.objects.filter(order=order, action="payment.failed")
                .order_by("-pk")
                .values_list("reason", flat=True)
                .first()
            )
            booking_cancel(locker_order=locker_order, actor=customer, reason=_("the payment failed"))
            raise ValidationError({"method": reason or _("The payment failed.")})
    locker_order.refresh_from_db()
    locker_order.order.refresh_from_db()
    code = None
    if locker_order.order.status == OrderStatus.FULFILLING and locker_order.stage == ST.ASSIGNED:
        _row, code = code_issue(order=locker_order.order, ttl=DROPOFF_CODE_TTL, purpose=PickupCode.Purpose.DROPOFF)
    return locker_order, payment, code


def locker_booking_on_paid(order: Order, from_status: str, actor) -> None:
    """Transition hook: a customer's booking that becomes paid waits for the goods (FULFILLING) in
    the same transaction. Operator and partner orders get their compartment after being paid, so
    they have none yet here and are left to locker_assign."""
    if order.kind != OrderKind.LOCKER or order.status != OrderStatus.PAID or order.channel != Channel.CUSTOMER_APP:
        return
    if not LockerOrder.objects.filter(order_id=order.pk, stage=ST.ASSIGNED).exists():
        return
    order_transition(
        order=order,
        to_status=OrderStatus.FULFILLING,
        actor=Actor.system("lockers"),
        action="locker.booking_paid",
        locked=True,
    )


def booking_dropoff_code(*, locker_order: LockerOrder) -> tuple[PickupCode, str]:
    """A fresh drop-off code for a paid booking still waiting for its parcel (the old one dies)."""
    with transaction.atomic():
        order = lock_order(locker_order.order_id)
        stage = LockerOrder.objects.filter(pk=locker_order.pk).values_list("stage", flat=True).get()
        if order.status == OrderStatus.NEW:
            raise ValidationError(_("Pay for the booking first; the drop-off code comes once it is paid."))
        if stage != ST.ASSIGNED or order.status != OrderStatus.FULFILLING:
            raise ValidationError(_("This booking takes no parcel any more, so it has no drop-off code."))
        return code_issue(order=order, ttl=DROPOFF_CODE_TTL, purpose=PickupCode.Purpose.DROPOFF)


def booking_cancel(*, locker_order: LockerOrder, actor, reason: str, expired: bool = False) -> bool:
    """An unpaid booking ends (its payment failed, or it timed out): the order is cancelled or
    expired and the compartment is free again. False when it was paid meanwhile."""
    with transaction.atomic():
        order = lock_order(locker_order.order_id)
        if order.status != OrderStatus.NEW:
            return False
        order_transition(
            order=order,
            to_status=OrderStatus.EXPIRED if expired else OrderStatus.CANCELLED,
            actor=actor,
            reason=reason,
            action="locker.booking_expired" if expired else "locker.booking_cancelled",
            locked=True,
        )
        LockerOrder.objects.filter(pk=locker_order.pk).update(stage=ST.CANCELLED)
        Compartment.objects.filter(pk=locker_order.compartment_id, state=C.RESERVED).update(state=C.FREE)
        publish_compartment(locker_order.compartment_id)
        return True


def locker_bookings_expire(*, now=None) -> int:
    """Bookings not paid within BOOKING_UNPAID_TIMEOUT free their compartment. Idempotent."""
    cutoff = (now or timezone.now()) - BOOKING_UNPAID_TIMEOUT
    unpaid = LockerOrder.objects.filter(
        stage=ST.ASSIGNED,
        order__status=OrderStatus.NEW,
        order__channel=Channel.CUSTOMER_APP,
        order__created_at__lt=cutoff,
    )
    expired = 0
    for locker_order in unpaid:
        if booking_cancel(
            locker_order=locker_order, actor=Actor.system("timeout"), reason=_("not paid in time"), expired=True
        ):
            expired += 1
    return expired
