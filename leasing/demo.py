"""Demo rentals: a power-bank rate plan per city and twelve power banks in each rental station;
the history of rentals over the demo's days (set-based, orders.demo_history), and a few rented by
demo members through the services today."""

from decimal import Decimal

from devices.models import Device
from leasing.models import Asset, RatePlan


def _plans(ctx):
    for region in ctx["regions"].values():
        RatePlan.objects.create(
            name="Power bank",
            asset_kind="powerbank",
            region=region,
            unit_minutes=60,
            unit_price=Decimal("3.00"),
            free_minutes=5,
            daily_cap=Decimal("30.00"),
            max_total=Decimal("99.00"),
            deposit=Decimal("99.00"),
        )
    for station in [d for d in ctx["devices"] if d.kind == Device.Kind.RENTAL]:
        Asset.objects.bulk_create(
            Asset(
                serial=f"PB-{station.pk:03d}-{slot:02d}",
                kind="powerbank",
                station=station,
                slot=str(slot),
                site=station.site,
            )
            for slot in range(1, 13)
        )


def seed(ctx):
    _plans(ctx)
    _history(ctx)
    _rentals(ctx)


# What a rental lasts: (weight, shortest, longest minutes). Short ones inside the free minutes cost
# nothing (the whole deposit goes back); a day or more hits the daily cap.
DURATIONS = [(8, 1, 5), (55, 20, 180), (25, 180, 600), (9, 600, 1800), (3, 1800, 4000)]
RENTERS = slice(64, 80)  # members the services' demo leaves alone (it rents with customers 4 to 6)
STILL_OUT = 4  # rentals started in the last days and not back yet (one past a day: overdue)


def _history(ctx):
    """Power banks rented over the history at every station, with the demand's patterns: the
    deposit held from the wallet (a renter short of it tops up in the app first), the eject
    command, the return at the same station billed by the plan's pricing and paid from the deposit
    (the rest released; all of it when the rental was free), one eject in fifty that failed
    (cancelled, the deposit released), and a few still out at the end. Written as
    leasing.services writes them: order, events, payment with the deposit, lease, hold, ledger."""
    import datetime
    import uuid

    from django.db.models import CharField, OuterRef, Subquery, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from devices.models import DeviceCommand
    from leasing.models import Lease
    from leasing.pricing import price
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, commands_write, demand, moment, poisson, stamps_kept
    from orders.models import ActorKind, Channel, Order, OrderKind, OrderStatus
    from wallet.demo_history import Ledger, Recharges
    from wallet.models import Hold

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    stations = sorted((d for d in ctx["devices"] if d.kind == Device.Kind.RENTAL), key=lambda d: d.pk)
    renters = [c for c in ctx["customers"][RENTERS]]
    if not stations or not renters:
        return
    plans = {p.region_id: p for p in RatePlan.objects.filter(asset_kind="powerbank")}
    assets = {s.pk: list(Asset.objects.filter(station=s, kind="powerbank").order_by("slot", "pk")) for s in stations}
    regions = {r.pk: r for r in ctx["regions"].values()}
    history, ledger = History(), Ledger()
    recharges = Recharges(history, ledger)
    free_at = {a.pk: now - datetime.timedelta(days=ctx["days"] + 1) for rows in assets.values() for a in rows}
    renter_free_at = {c.pk: free_at[next(iter(free_at))] for c in renters}
    rate = ctx["orders_per_day"] * 0.035 / len(stations)
    starts = []
    for offset in range(ctx["days"] + 1):
        day = start + datetime.timedelta(days=offset)
        for station in stations:
            for _n in range(poisson(rnd, rate * demand(day, start=start, category="drinks"))):
                starts.append((moment(rnd, day), station))
    starts = sorted((row for row in starts if row[0] <= now), key=lambda row: row[0])
    # The last few starts of the history stay out; the one a day older is overdue.
    out = {id(row) for row in starts[-STILL_OUT + 1 :]} if len(starts) >= STILL_OUT else set()
    overdue_at = now - datetime.timedelta(hours=30)
    if starts:
        starts.append((overdue_at, stations[0]))
        out.add(id(starts[-1]))
    leases, holds, commands, deposits = [], [], [], []
    for row in starts:
        at, station = row
        stays_out = id(row) in out
        _weight, low, high = rnd.choices(DURATIONS, weights=[d[0] for d in DURATIONS])[0]
        minutes = rnd.randint(low, high)
        back_at = at + datetime.timedelta(minutes=minutes)
        if not stays_out and back_at > now:
            continue  # would still be out: the services' demo has the rentals of today
        asset = next((a for a in assets[station.pk] if free_at[a.pk] <= at), None)
        renter = next((c for c in rnd.sample(renters, len(renters)) if renter_free_at[c.pk] <= at), None)
        if asset is None or renter is None:
            continue  # the station was empty, or every renter had one already
        plan = plans.get(station.site.region_id)
        if plan is None:
            continue
        customer_actor = HistoryActor(ActorKind.CUSTOMER, str(renter), None)
        device_actor = HistoryActor(ActorKind.DEVICE, str(station), None)
        if ledger.available(renter) < plan.deposit:  # a top-up in the app a few minutes before
            region = regions.get(renter.home_region_id) or station.site.region
            recharges.add(
                customer=renter,
                amount=rnd.choice((Decimal("100.00"), Decimal("200.00"), Decimal("300.00"))),
                at=at - datetime.timedelta(minutes=rnd.randrange(3, 30)),
                region=region,
                actor=customer_actor,
                method=rnd.choice(("wechat", "alipay")),
            )
        sale = history.sale(
            kind=OrderKind.LEASE,
            at=at,
            region_id=station.site.region_id,
            site_id=station.site_id,
            device_id=station.pk,
            channel=Channel.CONSOLE,  # what lease_start writes (order_create's default)
            actor=customer_actor,
            lines=[],
            customer_id=renter.pk,
        )
        # Keyed by the order's number until the order has its primary key (see below).
        hold = Hold(
            customer=renter,
            amount=plan.deposit,
            reference=sale.order.number,
            idempotency_key=f"lease-history:{sale.order.number}",
            created_at=at,
        )
        holds.append((hold, sale))
        ledger.hold_place(hold=hold, at=at)
        failed = not stays_out and len(leases) % 50 == 17  # by count, so a short demo has one
        lease = Lease(
            asset=asset,
            customer=renter,
            plan=plan,
            hold=hold,
            stage=Lease.Stage.IN_USE,
            rented_at=at,
        )
        leases.append((lease, sale))
        commands.append(
            DeviceCommand(
                device=station,
                command_id=uuid.UUID(int=rnd.getrandbits(128)),
                kind="eject",
                payload={"slot": asset.slot, "asset": asset.serial},
                reference=sale.order.number,
                status=DeviceCommand.Status.FAILED if failed else DeviceCommand.Status.SUCCEEDED,
                attempts=1,
                created_at=at,
                expires_at=at + datetime.timedelta(seconds=60),
                sent_at=at,
                acknowledged_at=at,
                finished_at=at + datetime.timedelta(seconds=8),
                actor_label=str(renter),
                idempotency_key=f"eject-history:{sale.order.number}",
            )
        )
        if failed:
            lease.stage = Lease.Stage.CANCELLED
            ledger.hold_release(hold=hold, at=at)
            history.move(
                sale,
                OrderStatus.CANCELLED,
                at=at + datetime.timedelta(seconds=8),
                actor=device_actor,
                reason="the station could not eject the item",
            )
            continue
        renter_free_at[renter.pk] = back_at
        free_at[asset.pk] = back_at
        if stays_out:
            renter_free_at[renter.pk] = free_at[asset.pk] = now + datetime.timedelta(days=365)
            continue
        bill = price(plan.pricing(), minutes)
        lease.stage, lease.returned_at, lease.return_station = Lease.Stage.RETURNED, back_at, station
        lease.minutes, lease.amount = bill.minutes, bill.total
        if bill.total > 0:
            history.add_line(
                sale,
                at=back_at,
                actor=device_actor,
                description=_("Rental, %(minutes)s minutes") % {"minutes": bill.minutes},
                price=bill.total,
                action="lease.billed",
            )
            payment = history.pay(sale, at=back_at, method="deposit", actor=device_actor)
            deposits.append((payment, hold))
            ledger.hold_capture(hold=hold, amount=min(bill.total, hold.amount), at=back_at)
        else:
            ledger.hold_release(hold=hold, at=back_at)
            history.move(sale, OrderStatus.PAID, at=back_at, actor=device_actor, action="lease.free")
        history.move(sale, OrderStatus.COMPLETED, at=back_at, actor=device_actor, action="lease.returned")
    # The holds first, so the deposit payments name theirs; then each hold takes lease_start's key
    # (its order's primary key) in one UPDATE.
    with stamps_kept(Hold):
        Hold.objects.bulk_create([hold for hold, _sale in holds], batch_size=1000)
    for payment, hold in deposits:
        payment.data = {**payment.data, "hold": hold.pk}
        payment.reference = f"hold-{hold.pk}"
    history.flush()
    order_pk = Order.objects.filter(number=OuterRef("reference")).values("pk")[:1]
    Hold.objects.filter(idempotency_key__startswith="lease-history:").update(
        idempotency_key=Concat(Value("lease:"), Cast(Subquery(order_pk), CharField()))
    )
    ledger.flush()
    recharges.flush()
    for lease, sale in leases:
        lease.order = sale.order
    with stamps_kept(Lease):
        Lease.objects.bulk_create([lease for lease, _sale in leases], batch_size=1000)
    commands_write(commands, actor_label="leasing")
    # Power banks out now have left their station (as on_eject_result leaves them).
    rented = [lease.asset_id for lease, _sale in leases if lease.stage == Lease.Stage.IN_USE]
    Asset.objects.filter(pk__in=rented).update(state=Asset.State.RENTED, station=None, slot="")
    ctx["stdout"].write(f"    rental history: {len(leases)} rentals, {len(rented)} still out")


def _rentals(ctx):
    """Power banks rented by demo members: one out right now, one returned at another station and
    paid from its deposit, one whose station could not eject it."""
    import datetime

    from django.utils import timezone

    from devices.models import DeviceCommand
    from devices.services import command_acknowledge, command_report, device_event_record
    from leasing.services import lease_start_at_station
    from wallet.services import recharge_credit

    # The demo store's station first: its manager and clerk see a rental out and one that failed.
    stations = sorted(
        (d for d in ctx["devices"] if d.kind == Device.Kind.RENTAL), key=lambda d: d.site.code != "sh-store-1"
    )
    members = ctx["customers"][4:7]
    if len(stations) < 2 or len(members) < 3:
        return
    for member in members:
        recharge_credit(customer=member, amount=Decimal("200.00"), provider="cash", key=f"demo-rent-top-up:{member.pk}")
    for member, outcome in zip(members, ["in_use", "returned", "eject_failed"], strict=True):
        station = stations[0] if outcome != "returned" else stations[1]
        lease = lease_start_at_station(customer=member, station=station, kind="powerbank")
        command = DeviceCommand.objects.filter(reference=lease.order.number, kind="eject").first()
        command_acknowledge(command_id=command.command_id, device=station)
        command_report(command_id=command.command_id, device=station, succeeded=outcome != "eject_failed")
        if outcome == "returned":
            Lease = type(lease)
            Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=95))
            back_at = next(
                (s for s in stations if s.site.region_id == station.site.region_id and s != station), station
            )
            device_event_record(device=back_at, kind="asset_returned", data={"asset": lease.asset.serial, "slot": "12"})
