"""Demo planograms: every vending machine gets eight slots of drinks and snacks, and the machines'
history of sales and restocks over the demo's days (orders.demo_history): fast sellers, slow movers
that sell now and then, machines whose restock visits were missed for a week (stock-outs), and the
sale outcomes a machine has (dispensed, failed and refunded, walked away, timed out, refunded later)."""

import datetime
import functools
import uuid

from django.utils import timezone

from devices.models import Device
from vending.services import slot_create

PAR = 12
RESTOCK_EVERY_DAYS = 3
# Base sales a day of a slot by the product's place in the catalog: most sell daily, one in five
# is a slow mover (a sale every week or so: an intermittent series for the forecasts).
FAST, MEDIUM, SLOW = 1.6, 0.8, 0.12
SLOTS = 8
MACHINE_SHARE = 0.7
SLOT_DAY = 1.55  # what a slot sells on an average day at scale 1 (the rates, the machine, the demand)


def _planograms(ctx):
    rnd = ctx["random"]
    products = [p for p in ctx["products"] if p.is_active]
    for machine in [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]:
        for index, product in enumerate(rnd.sample(products, SLOTS)):
            slot_create(
                device=machine,
                code=f"{'AB'[index // 4]}{index % 4 + 1}",
                product=product,
                capacity=12,
                par_level=12,
                low_threshold=3,
            )
    _history(ctx)


def _rate(product) -> float:
    bucket = product.pk % 5
    return SLOW if bucket == 0 else MEDIUM if bucket in (1, 2) else FAST


def _history(ctx):
    """Day by day for each machine: the restock visit tops slots up to par, the day's sales (a
    Poisson draw of the slot's rate times the day's demand) take one item each while there is one."""
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, demand, levels_settle, moment, movement, poisson
    from orders.models import ActorKind
    from vending.models import Slot

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    machines = [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]
    # Machines make about seven in ten of the day's sales (orders_per_day); a slot sells its
    # rate times the day's demand and the machine's custom (SLOT_DAY on average).
    scale = ctx["orders_per_day"] * MACHINE_SHARE / max(len(machines) * SLOTS * SLOT_DAY, 1)
    history = History()
    service = ctx["users"]["service_staff"]
    service_label = service.get_username()
    system = HistoryActor(ActorKind.SYSTEM, "vending")
    slots = list(Slot.objects.filter(device__in=machines).select_related("level", "product__category", "device__site"))
    by_machine = {}
    for slot in slots:
        by_machine.setdefault(slot.device_id, []).append(slot)
    for index, machine in enumerate(machines):
        device_actor = HistoryActor(ActorKind.DEVICE, f"device:{machine.serial_number}")
        busy = (1.3 if machine.site.kind == "venue" else 1.0) * rnd.uniform(0.7, 1.3) * scale
        # One machine in six had its restock visits missed for a week and a half: empty slots.
        missed = range(ctx["days"] // 3, ctx["days"] // 3 + 10) if index % 6 == 5 else range(0)
        stock = {slot.pk: 0 for slot in by_machine.get(machine.pk, [])}
        # The day's sales and the drained slot's busy morning sell alike: only the slot and the time differ.
        sell = functools.partial(
            _machine_sale,
            history,
            rnd,
            machine=machine,
            device_actor=device_actor,
            system=system,
            stock=stock,
            service=service,
        )
        # Every other machine (and the demo store's) had a busy morning on its best-selling drink:
        # today's restock route, the low-stock page and the supplier's count have a slot to show.
        drinks = [s for s in by_machine.get(machine.pk, []) if s.product.category.code == "drinks"]
        drained = max(drinks, key=lambda s: _rate(s.product), default=None)
        if index % 2 and machine.site.code != "sh-store-1":
            drained = None
        for offset in range(ctx["days"] + 1):
            day = start + datetime.timedelta(days=offset)
            happenings = []
            if (offset + index) % RESTOCK_EVERY_DAYS == 0 and offset not in missed or offset == 0:
                visit = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10, rnd.randrange(60))))
                happenings.append((visit, "restock", None))
            for slot in by_machine.get(machine.pk, []):
                rate = _rate(slot.product) * busy * demand(day, start=start, category=slot.product.category.code)
                for _sale in range(poisson(rnd, rate)):
                    happenings.append((moment(rnd, day), "sale", slot))
            for at, what, slot in sorted(happenings, key=lambda h: (h[0], h[1])):
                if at > now:
                    continue
                if what == "restock":
                    for s in by_machine.get(machine.pk, []):
                        if stock[s.pk] < PAR:
                            ctx.setdefault("restock_movements", []).append(
                                movement(s.level, PAR - stock[s.pk], "restock", at, service_label)
                            )
                            stock[s.pk] = PAR
                    continue
                if stock[slot.pk] <= 0:
                    continue  # sold out: the customer walks away (the stock-out the forecasts see)
                sell(slot=slot, at=at)
            if offset == ctx["days"] and drained is not None:
                morning = max(now - datetime.timedelta(hours=5), now.replace(hour=0, minute=0, second=0))
                while stock[drained.pk] > 1 + offset % 2:
                    sell(slot=drained, at=morning + (now - morning) * rnd.random())

    from inventory.models import StockMovement
    from orders.demo_history import stamps_kept

    with stamps_kept(StockMovement):
        StockMovement.objects.bulk_create(ctx.pop("restock_movements", []), batch_size=1000)
    sales = history.flush()
    _commands(sales)
    levels_settle([slot.level_id for slot in slots])
    ctx["stdout"].write(f"    vending history: {len(sales)} machine sales over {ctx['days']} days")


def _app_purchases(ctx):
    """Members who bought from the app at the machines, in every state a sale can be in: dispensed
    (points earned), failed and refunded to the wallet, waiting for the machine, and given up."""
    from decimal import Decimal

    from devices.models import DeviceCommand
    from devices.services import command_acknowledge, command_report
    from vending.models import Slot
    from vending.services import slot_app_code, vend_buy_in_app, vend_cancel
    from wallet.services import recharge_credit

    slots = list(Slot.objects.filter(level__quantity__gt=2).select_related("device", "level")[:8])
    members = ctx["customers"][:4]
    if not slots or not members:
        return
    for member in members:
        recharge_credit(customer=member, amount=Decimal("100.00"), provider="cash", key=f"demo-app-top-up:{member.pk}")
    outcomes = ["dispensed", "dispensed", "failed", "waiting", "abandoned", "dispensed"]
    for index, outcome in enumerate(outcomes):
        slot, member = slots[index % len(slots)], members[index % len(members)]
        method = "points" if outcome == "abandoned" else "wallet"
        try:
            vend, _payment = vend_buy_in_app(
                customer=member, code=slot_app_code(slot), request_id=f"demo-{index}", method=method
            )
        except Exception:  # not enough points for the abandoned one: it is cancelled by the service
            continue
        command = DeviceCommand.objects.filter(command_id=vend.command_id).first()
        if command is None:
            if vend.order.status == "new":
                vend_cancel(vend=vend, actor=member, reason="walked away (demo)")
            continue
        if outcome in ("dispensed", "failed"):
            command_acknowledge(command_id=command.command_id, device=slot.device)
            command_report(command_id=command.command_id, device=slot.device, succeeded=outcome == "dispensed")


def seed(ctx):
    _planograms(ctx)
    _app_purchases(ctx)
    _todays_route(ctx)
    _dex_reads(ctx)


def _dex_reads(ctx):
    """A DEX (EVA-DTS) audit read from one machine per city, as a service engineer's handheld
    uploads it: the machine's own counters of its history's sales, slot by slot."""
    from django.db.models import Count, Sum

    from gateway.services import dex_import
    from vending.models import Vend

    machines = [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]
    seen = set()
    for machine in machines:
        if machine.site.region_id in seen:
            continue
        seen.add(machine.site.region_id)
        counted = (
            Vend.objects.filter(device=machine, order__status="completed")
            .values("slot__code", "slot__product__name")
            .annotate(count=Count("pk"), value=Sum("order__total"))
            .order_by("slot__code")
        )
        rows = [
            f"DXS*DEMO{machine.pk:06d}*VA*V1/1*1",
            "ST*001*0001",
            f"ID1*{machine.serial_number}*{machine.model_name}",
        ]
        rows.append("ID4*2*156*CNY")
        total_count, total_value = 0, 0
        for row in counted:
            cents = int((row["value"] or 0) * 100)
            price = cents // max(row["count"], 1)
            rows += [f"PA1*{row['slot__code']}*{price}*{row['slot__product__name']}", f"PA2*{row['count']}*{cents}"]
            total_count, total_value = total_count + row["count"], total_value + cents
        rows.insert(4, f"VA1*{total_value}*{total_count}")
        rows += [f"SE*{len(rows)}*0001", "DXE*1*1"]  # ST to SE, both counted
        dex_import(device=machine, content="\r\n".join(rows).encode("latin-1", "replace"), source="upload")


def _todays_route(ctx):
    """Slots at their threshold are flagged (the service staff are told), and the Shanghai machines
    that need the most get restock tasks on one route: the service dashboard's day."""
    from django.core.exceptions import ValidationError

    from devices.models import Fault
    from vending.models import Slot
    from vending.restock import low_stock_check, restock_task_create

    for slot in Slot.objects.filter(level__quantity__lte=3).select_related("level"):
        low_stock_check(slot.level)
    shanghai = ctx["regions"]["demo-sh"]
    machines = [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING and d.site.region_id == shanghai.pk]
    if machines and not Fault.objects.filter(device__in=machines, resolved_at__isnull=True).exists():
        Fault.objects.create(device=machines[0], code="JAM", slot="A2", message="reported by the machine")
    for machine in machines:
        try:
            restock_task_create(device=machine, actor=ctx["users"]["service_staff"], route="SH-A")
        except ValidationError:  # every slot already at par: nothing to do there
            continue
    _plan_the_route(ctx, machines)


def _plan_the_route(ctx, machines):
    """The Shanghai warehouse gets its place on the map, the machines' sites their opening hours
    (venues longer than stores), and today's restock tasks a route from the warehouse."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from core.models import Site
    from vending import routing
    from vending.restock import route_plan

    warehouse = Site.objects.filter(code="sh-warehouse").first()
    if warehouse is None or not machines:
        return
    Site.objects.filter(pk=warehouse.pk).update(latitude=Decimal("31.190000"), longitude=Decimal("121.440000"))
    warehouse.refresh_from_db()
    for site in {machine.site for machine in machines}:
        if site.opening_time is None:
            venue = site.kind == Site.Kind.VENUE
            Site.objects.filter(pk=site.pk).update(
                opening_time=datetime.time(7 if venue else 9), closing_time=datetime.time(22 if venue else 21)
            )
    # The demo's day starts in the morning, whenever it is seeded.
    route_plan(
        user=ctx["users"]["service_staff"],
        warehouse=warehouse,
        day=timezone.localdate(),
        vehicles=1,
        capacity=400,
        seconds=1.0,
        start=routing.DAY_START,
    )


def _machine_sale(history, rnd, *, machine, slot, at, device_actor, system, stock, service):
    """One item out of the slot, sold at `at` as vend_start, vend_pay and the dispense result write
    it. `stock` is the machine's running count per slot (the item goes back when the sale does not
    go through); `device_actor` and `system` are the history's actors for the machine and the
    platform, `service` the user who refunds a complaint."""
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import movement
    from orders.models import ActorKind, Channel, OrderKind
    from orders.models import OrderStatus as S
    from vending.models import Vend

    stock[slot.pk] -= 1
    sale = history.sale(
        kind=OrderKind.VENDING,
        at=at,
        region_id=machine.site.region_id,
        site_id=machine.site_id,
        device_id=machine.pk,
        channel=Channel.MACHINE,
        actor=device_actor,
        lines=[(slot.product, 1, slot.sale_price)],
    )
    sale.movements.append(movement(slot.level, -1, "sale", at, str(machine)))
    vend = Vend(
        device=machine,
        slot=slot,
        request_id=f"hist-{uuid.UUID(int=rnd.getrandbits(128)).hex}",
        command_id=uuid.UUID(int=rnd.getrandbits(128), version=4),
        created_at=at,
    )
    sale.extra.append((vend, "order"))
    sale.vend = vend
    roll = rnd.random()
    later = at + datetime.timedelta(seconds=rnd.randrange(20, 90))
    if roll < 0.015:  # walked away before paying, or the machine's payment window timed out
        expired = roll < 0.006
        reason = "payment window timed out" if expired else "walked away"
        actor = system if expired else device_actor
        history.move(sale, S.EXPIRED if expired else S.CANCELLED, at=later, actor=actor, reason=reason)
        sale.movements.append(movement(slot.level, 1, "sale_reversed", later, actor.label, note=reason))
        vend.stock_returned = True
        stock[slot.pk] += 1
        return
    method = rnd.choices(["cash", "wechat", "alipay"], weights=[45, 35, 20])[0]
    number = sale.order.number
    if method == "cash":
        data, reference = {"machine": machine.serial_number, "method": "coin"}, ""
    else:
        data, reference = {"transaction_id": f"42{rnd.randrange(10**25, 10**26)}"}, f"{number}P"
    history.pay(sale, at=later, method=method, actor=device_actor, data=data, reference=reference)
    history.move(
        sale, S.FULFILLING, at=later, actor=system, action="dispense.requested", data={"command": str(vend.command_id)}
    )
    done = later + datetime.timedelta(seconds=rnd.randrange(3, 15))
    if roll < 0.025:  # the motor jammed: failed, refunded in full, the item back in the slot
        reason = "the machine could not dispense"
        history.move(
            sale, S.FAILED, at=done, actor=device_actor, action="dispense.failed", reason=reason, data={"result": {}}
        )
        history.refund(sale, at=done, actor=HistoryActor(ActorKind.SYSTEM, "auto-refund"), reason=reason)
        sale.movements.append(movement(slot.level, 1, "sale_reversed", done, "auto-refund", note=reason))
        vend.stock_returned = True
        stock[slot.pk] += 1
        return
    history.move(sale, S.COMPLETED, at=done, actor=device_actor, action="dispense.succeeded")
    if roll > 0.994:  # a customer complained (expired drink, wrong item): refunded by the service staff
        history.refund(
            sale,
            at=done + datetime.timedelta(hours=rnd.randrange(1, 20)),
            actor=HistoryActor(ActorKind.USER, service.get_username(), service.pk),
            reason="Customer complaint (demo)",
        )


def _commands(sales):
    """The dispense command of every paid machine sale, with its delivery log."""
    from devices.models import DeviceCommand
    from orders.demo_history import commands_write

    commands = []
    for sale in sales:
        order = sale.order
        if order.paid_at is None:
            continue
        failed = any(event[2] == "dispense.failed" for event in sale.events)
        finished = order.completed_at or order.updated_at
        commands.append(
            DeviceCommand(
                device_id=order.device_id,
                command_id=sale.vend.command_id,
                kind="dispense",
                payload={"slot": sale.vend.slot.code, "order": order.number},
                reference=order.number,
                status=DeviceCommand.Status.FAILED if failed else DeviceCommand.Status.SUCCEEDED,
                attempts=1,
                created_at=order.paid_at,
                expires_at=order.paid_at + datetime.timedelta(seconds=120),
                sent_at=order.paid_at,
                acknowledged_at=order.paid_at,
                finished_at=finished,
                actor_label="vending",
            )
        )
    commands_write(commands, actor_label="vending")
