"""Demo locker banks: sixteen compartments each, in four sizes; and the demo courier's locker and
pickup orders in every state (waiting for drop-off, ready, collected, returned to sender), so the
outbox page shows the messages sent for them; and compartments customers booked in the app:
paid and waiting for the parcel, ready, collected, and not paid (expired); before all that, the
history of parcels and bookings over the demo's days (set-based, orders.demo_history)."""

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
    _history(ctx)
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


SIZE_WEIGHTS = {"S": 40, "M": 35, "L": 18, "XL": 7}


def _history(ctx):
    """Parcels and bookings at every bank over the history, with the demand's patterns, all ended
    by now (the services' demo above has the live ones): a courier's or a clerk's parcel (free to
    the recipient) or a member's booking paid in the app (WeChat Pay or Alipay, with the fee),
    dropped off with its drop-off code, ready with a pickup code, collected (sometimes after the
    free hours), or not collected in time (expired, returned to the sender by service staff the
    next morning); a booking now and then not paid in time (expired). No compartment holds two
    parcels at once. Written as lockers.services and lockers.bookings write them: the order and its
    events, the payment, the locker order, its codes, the door commands and the return task."""
    import uuid

    from django.utils.translation import gettext as _

    from devices.models import DeviceCommand
    from lockers.bookings import booking_price
    from lockers.models import SIZES, Compartment, LockerOrder, ReturnTask
    from lockers.services import BOOKING_UNPAID_TIMEOUT, DROPOFF_CODE_TTL, storage_rule
    from orders.demo import DEMO_PARTNER_NAME
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, commands_write, demand, moment, poisson, stamps_kept
    from orders.models import ActorKind, Channel, OrderKind, PartnerClient
    from orders.models import OrderStatus as S
    from pickup.models import PickupCode
    from pickup.services import code_hmac

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    banks = sorted((d for d in ctx["devices"] if d.kind == Device.Kind.LOCKER), key=lambda d: d.pk)
    if not banks:
        return
    users = ctx["users"]
    staff = users.get("service_staff") or users["platform_admin"]
    staff_actor = HistoryActor(ActorKind.USER, staff.get_username(), staff.pk)
    admin = users["platform_admin"]
    admin_actor = HistoryActor(ActorKind.USER, admin.get_username(), admin.pk)
    partner = PartnerClient.objects.filter(name=DEMO_PARTNER_NAME).first()
    partner_banks = set(partner.banks.values_list("pk", flat=True)) if partner else set()
    partner_actor = HistoryActor(ActorKind.PARTNER, partner.name if partner else "", None)
    customers = ctx["customers"]
    history = History()
    lockers, codes, commands, returns = [], [], [], []
    rate = ctx["orders_per_day"] * 0.05 / len(banks)
    counted = bookings = 0

    def code(sale, purpose, created, expires, status, used_at=None, bank=None):
        digits = "".join(rnd.choice("0123456789") for _d in range(8))
        row = PickupCode(
            purpose=purpose,
            code_hmac=code_hmac(digits),
            status=status,
            created_at=created,
            expires_at=expires,
            used_at=used_at,
            used_at_device=bank if used_at else None,
        )
        codes.append((row, sale))

    def door(bank, number, sale, at, purpose, actor):
        commands.append(
            DeviceCommand(
                device=bank,
                command_id=uuid.UUID(int=rnd.getrandbits(128)),
                kind="open_door",
                payload={"door": number, "purpose": purpose},
                reference=sale.order.number,
                status=DeviceCommand.Status.SUCCEEDED,
                attempts=1,
                created_at=at,
                expires_at=at + datetime.timedelta(seconds=120),
                sent_at=at,
                acknowledged_at=at,
                finished_at=at + datetime.timedelta(seconds=3),
                actor_label=actor.label,
            )
        )

    for bank in banks:
        rule = storage_rule(bank)
        compartments = list(Compartment.objects.filter(bank=bank).order_by("size_rank", "door"))
        free_from = {c.pk: now - datetime.timedelta(days=ctx["days"] + 1) for c in compartments}
        prices = {size: booking_price(bank=bank, size=size) for size in SIZES}
        device_actor = HistoryActor(ActorKind.DEVICE, str(bank), None)
        locals_ = [c for c in customers if c.home_region_id == bank.site.region_id] or customers
        for offset in range(ctx["days"] + 1):
            day = start + datetime.timedelta(days=offset)
            for _n in range(poisson(rnd, rate * demand(day, start=start))):
                at = moment(rnd, day)
                size = rnd.choices(list(SIZE_WEIGHTS), weights=list(SIZE_WEIGHTS.values()))[0]
                booking = rnd.random() < 0.3
                customer = rnd.choice(locals_ if booking else customers)
                keep_days = None if booking else rnd.choice((None, None, 1, 2))
                dropped = at + datetime.timedelta(minutes=rnd.randrange(20, 8 * 60))
                roll = rnd.random()
                counted += 1
                bookings += booking
                # By count, so a short demo has them: one booking in twenty not paid, one parcel in
                # sixteen not collected in time.
                unpaid = booking and bookings % 20 == 7
                expired = not unpaid and counted % 16 == 5
                days = keep_days or rule.return_after_days
                if expired:  # the code ran out; service staff take the parcel out the next morning
                    ends = dropped + datetime.timedelta(days=days)
                    back = datetime.datetime.combine(
                        timezone.localtime(ends).date() + datetime.timedelta(days=1), datetime.time(9)
                    )
                    done = timezone.make_aware(back) + datetime.timedelta(minutes=rnd.randrange(240))
                else:
                    late = roll > 0.9  # collected after the free hours
                    hours = rnd.uniform(rule.free_hours, days * 24 - 1) if late else rnd.uniform(0.3, 20)
                    done = dropped + datetime.timedelta(hours=hours)
                if unpaid:
                    done = at + BOOKING_UNPAID_TIMEOUT
                if done > now:
                    continue  # still under way: the services' demo has today's
                rank = SIZES.index(size)
                compartment = next((c for c in compartments if c.size_rank >= rank and free_from[c.pk] <= at), None)
                if compartment is None:
                    continue  # the bank was full
                free_from[compartment.pk] = done
                fields = {}
                if booking:
                    actor, channel = HistoryActor(ActorKind.CUSTOMER, str(customer), None), Channel.CUSTOMER_APP
                    described = _("Locker compartment %(size)s at %(bank)s") % {"size": size, "bank": bank.name}
                    lines = [(None, 1, prices[size], described)]
                elif partner is not None and bank.pk in partner_banks:
                    actor, channel, lines = partner_actor, Channel.PARTNER, []
                    fields = {"partner_id": partner.pk, "external_reference": f"SF{rnd.randrange(10**10):010d}"}
                else:
                    actor, channel, lines = admin_actor, Channel.CONSOLE, []
                sale = history.sale(
                    kind=OrderKind.LOCKER,
                    at=at,
                    region_id=bank.site.region_id,
                    site_id=bank.site_id,
                    device_id=bank.pk,
                    channel=channel,
                    actor=actor,
                    lines=lines,
                    customer_id=customer.pk,
                    **fields,
                )
                locker = LockerOrder(
                    bank=bank,
                    compartment=compartment,
                    size=size,
                    keep_days=keep_days,
                    overdue_fee_per_day=rule.overdue_fee_per_day,
                    sender_phone=customer.phone if booking else "",
                )
                lockers.append((locker, sale))
                if booking:
                    booked = {"bank": bank.pk, "door": compartment.door, "size": size}
                    history.note(sale, "locker.booked", at=at, actor=actor, data=booked)
                    if unpaid:
                        locker.stage = LockerOrder.Stage.CANCELLED
                        reason = "not paid in time"
                        timeout = HistoryActor(ActorKind.SYSTEM, "timeout")
                        history.move(
                            sale, S.EXPIRED, at=done, actor=timeout, reason=reason, action="locker.booking_expired"
                        )
                        continue
                    method = rnd.choice(("wechat", "alipay"))
                    history.pay(sale, at=at, method=method, actor=actor, reference=f"demo-{sale.order.number}")
                    lockers_actor = HistoryActor(ActorKind.SYSTEM, "lockers")
                    history.move(sale, S.FULFILLING, at=at, actor=lockers_actor, action="locker.booking_paid")
                else:
                    history.move(sale, S.PAID, at=at, actor=actor, action="locker.free_to_recipient")
                    assigned = {"bank": bank.pk, "door": compartment.door}
                    history.move(sale, S.FULFILLING, at=at, actor=actor, action="locker.assigned", data=assigned)
                # The depositor's code opens the door; the door closes on the parcel: ready.
                dropoff = HistoryActor(ActorKind.DEVICE, str(bank), None)
                code(sale, PickupCode.Purpose.DROPOFF, at, at + DROPOFF_CODE_TTL, "used", dropped, bank)
                history.note(sale, "locker.dropoff_code_used", at=dropped, actor=dropoff)
                door(bank, compartment.door, sale, dropped, "deposit", device_actor)
                ready = dropped + datetime.timedelta(minutes=1)
                locker.ready_at = ready
                history.note(sale, "locker.ready", at=ready, actor=device_actor, data={"door": compartment.door})
                expires = ready + datetime.timedelta(days=days)
                if expired:
                    code(sale, PickupCode.Purpose.PICKUP, ready, expires, "expired")
                    locker.stage = LockerOrder.Stage.EXPIRED
                    history.note(sale, "locker.expired", at=expires, actor=HistoryActor(ActorKind.SYSTEM, "expiry"))
                    opened = done - datetime.timedelta(minutes=2)
                    door(bank, compartment.door, sale, opened, "return", staff_actor)
                    history.note(sale, "locker.return_opened", at=opened, actor=staff_actor)
                    history.move(
                        sale,
                        S.FAILED,
                        at=done,
                        actor=staff_actor,
                        action="locker.returned_to_sender",
                        data={"door": compartment.door},
                    )
                    returns.append(
                        (ReturnTask(created_at=expires, opened_at=opened, done_at=done, done_by=staff), locker)
                    )
                    continue
                if done > ready + datetime.timedelta(hours=rule.free_hours) and rule.overdue_fee_per_day > 0:
                    # The overdue job's day fee: the wallet did not cover it (lockers_charge_overdue).
                    due = ready + datetime.timedelta(hours=rule.free_hours, minutes=rnd.randrange(5, 60))
                    if due < done:
                        overdue = HistoryActor(ActorKind.SYSTEM, "overdue")
                        history.note(sale, "locker.overdue_unpaid", at=due, actor=overdue, data={"day": 1})
                code(sale, PickupCode.Purpose.PICKUP, ready, expires, "used", done, bank)
                door(bank, compartment.door, sale, done, "pickup", device_actor)
                collected = done + datetime.timedelta(seconds=rnd.randrange(20, 90))
                locker.stage, locker.collected_at = LockerOrder.Stage.COLLECTED, collected
                history.move(sale, S.COMPLETED, at=collected, actor=device_actor, action="locker.collected")
    history.flush()
    for locker, sale in lockers:
        locker.order = sale.order
    LockerOrder.objects.bulk_create([locker for locker, _sale in lockers], batch_size=1000)
    for row, sale in codes:
        row.order = sale.order
    with stamps_kept(PickupCode, ReturnTask):
        PickupCode.objects.bulk_create([row for row, _sale in codes], batch_size=1000)
        for task, locker in returns:
            task.locker_order = locker
        ReturnTask.objects.bulk_create([task for task, _locker in returns], batch_size=1000)
    commands_write(commands, actor_label="lockers")
    ctx["stdout"].write(f"    locker history: {len(lockers)} parcels and bookings over {ctx['days']} days")
