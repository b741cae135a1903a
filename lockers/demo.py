"""Demo locker banks: sixteen compartments each, in four sizes; and the demo courier's locker and
pickup orders in every state (waiting for drop-off, ready, collected, returned to sender), so the
outbox page shows the messages sent for them; and compartments customers booked in the app:
paid and waiting for the parcel, ready, collected, and not paid (expired)."""

import datetime

from django.utils import timezone

from devices.models import Device
from lockers.services import (
    compartments_create,
    locker_order_create,
    locker_pickup,
    lockers_expire,
    on_door_closed,
    return_task_done,
    return_task_open,
)


def seed(ctx):
    for bank in [d for d in ctx["devices"] if d.kind == Device.Kind.LOCKER]:
        compartments_create(bank=bank, sizes=["S"] * 6 + ["M"] * 5 + ["L"] * 3 + ["XL"] * 2)
    _seed_orders(ctx)
    _seed_bookings(ctx)
    _webhooks(ctx)


def _webhooks(ctx):
    """The demo courier's webhook: every status change of its orders was posted to it (the last
    one failed once and waits for its retry), as orders.webhooks records deliveries."""
    import datetime

    from orders.demo import DEMO_PARTNER_NAME
    from orders.models import PartnerClient, WebhookDelivery

    partner = PartnerClient.objects.filter(name=DEMO_PARTNER_NAME).first()
    if partner is None:
        return
    # Recorded only: the partner keeps no webhook URL, so the demo never posts anywhere.
    url = "https://courier.example.cn/hooks/back-office"
    now = timezone.now()
    rows = []
    orders = list(partner.orders.order_by("pk").prefetch_related("events")) if hasattr(partner, "orders") else []
    for order in orders:
        for event in order.events.all():
            if event.from_status == event.to_status:
                continue
            rows.append(
                WebhookDelivery(
                    client=partner,
                    order=order,
                    event=f"order.{event.to_status}",
                    payload={"number": order.number, "status": event.to_status, "at": event.at.isoformat()},
                    url=url,
                    status=WebhookDelivery.Status.DELIVERED,
                    attempts=1,
                    last_status_code=200,
                    delivered_at=event.at,
                )
            )
    if rows:
        last = rows[-1]
        last.status, last.last_status_code, last.last_error = (
            WebhookDelivery.Status.PENDING,
            503,
            "503 Service Unavailable",
        )
        last.delivered_at, last.next_attempt_at = None, now + datetime.timedelta(minutes=2)
    WebhookDelivery.objects.bulk_create(rows)


def _seed_orders(ctx):
    from orders.demo import DEMO_PARTNER_NAME
    from orders.models import PartnerClient
    from pickup.models import PickupCode
    from pickup.services import code_issue, counter_redeem, pickup_order_create

    partner = PartnerClient.objects.filter(name=DEMO_PARTNER_NAME).first()
    bank = partner.banks.first() if partner else None
    if bank is None:
        return
    service = ctx["users"].get("service_staff")

    def placed(reference, phone, **options):
        locker_order, _code = locker_order_create(
            bank=bank,
            size="M",
            recipient_phone=phone,
            parcel_reference=reference,
            actor=partner,
            partner=partner,
            **options,
        )
        return locker_order

    def delivered(locker_order):
        on_door_closed(bank, {"door": locker_order.compartment.door})
        # Demo only: a code we know stands in for the one the recipient got by SMS.
        return code_issue(order=locker_order.order)[1]

    placed("SF-DEMO-0001", "13800000101")  # waiting for the courier's drop-off
    delivered(placed("SF-DEMO-0002", "13800000102"))  # ready, the recipient was told
    collected = placed("SF-DEMO-0003", "13800000103")
    locker_pickup(bank=bank, code=delivered(collected))
    on_door_closed(bank, {"door": collected.compartment.door})
    returned = placed("SF-DEMO-0004", "13800000104", sender_phone="13800000199", keep_days=1)
    delivered(returned)
    PickupCode.objects.filter(order=returned.order, status=PickupCode.Status.LIVE).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    lockers_expire()
    if service is not None:
        return_task_open(task=returned.return_task, actor=service)
        return_task_done(task=returned.return_task, actor=service)
    expired = placed("SF-DEMO-0005", "13800000105")  # expired, waiting for service staff
    delivered(expired)
    PickupCode.objects.filter(order=expired.order, status=PickupCode.Status.LIVE).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    lockers_expire()

    site = partner.sites.first()
    if site is None:
        return
    pickup_order_create(
        site=site, recipient_phone="13800000106", reference="SHOP-DEMO-0001", actor=partner, partner=partner
    )
    order, _row = pickup_order_create(
        site=site, recipient_phone="13800000107", reference="SHOP-DEMO-0002", actor=partner, partner=partner
    )
    counter_redeem(site=site, code=code_issue(order=order)[1], actor=ctx["users"].get("clerk"))


def _seed_bookings(ctx):
    from decimal import Decimal

    from lockers.bookings import banks_for_customer, booking_cancel, locker_book
    from wallet.services import recharge_credit

    members = [c for c in ctx.get("customers", [])[10:40] if c.home_region_id]
    for member in members:
        bank = banks_for_customer(member).first()
        if bank is not None:
            break
    else:
        return
    recharge_credit(customer=member, amount=Decimal("50.00"), provider="cash", key=f"demo-locker-top-up:{member.pk}")

    def booked(index, size="S"):
        locker_order, _payment, _code = locker_book(
            customer=member, bank=bank, size=size, method="wallet", request_id=f"demo-locker-{index}"
        )
        return locker_order

    booked(1)  # paid, waiting for the customer to drop the parcel off
    on_door_closed(bank, {"door": booked(2).compartment.door})  # ready: the pickup code was sent
    collected = booked(3, "M")
    on_door_closed(bank, {"door": collected.compartment.door})
    from pickup.services import code_issue

    locker_pickup(bank=bank, code=code_issue(order=collected.order)[1])
    on_door_closed(bank, {"door": collected.compartment.door})
    # Refused: points do not cover it; the booking is cancelled and its compartment free again.
    from django.core.exceptions import ValidationError

    try:
        locker_book(customer=member, bank=bank, size="S", method="points", request_id="demo-locker-4")
    except ValidationError:
        pass
    # Not paid in time (an online payment never made): expired, the compartment free again.
    from orders.payments import provider_get

    if provider_get("alipay").available():
        unpaid, _payment, _code = locker_book(
            customer=member, bank=bank, size="S", method="alipay", request_id="demo-locker-5"
        )
        booking_cancel(locker_order=unpaid, actor=member, reason="not paid in time (demo)", expired=True)
