"""Demo planograms: every vending machine gets eight slots of drinks and snacks, partly sold."""

from devices.models import Device
from inventory.services import stock_move
from vending.services import slot_create


def _planograms(ctx):
    rnd = ctx["random"]
    products = [p for p in ctx["products"] if p.is_active]
    for machine in [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]:
        for index, product in enumerate(rnd.sample(products, 8)):
            slot = slot_create(
                device=machine,
                code=f"{'AB'[index // 4]}{index % 4 + 1}",
                product=product,
                capacity=12,
                par_level=12,
                low_threshold=3,
            )
            stock_move(level=slot.level, quantity=rnd.randrange(1, 13), reason="restock", actor="demo")


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
