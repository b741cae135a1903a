"""Restocking: low-stock alerts to the site's service staff, restock tasks with their pick list
(par minus level per slot), the prekit list summed per product over a route, loading a service
vehicle from a warehouse for its tasks, and the confirmation that writes the movements from the
vehicle or warehouse into the slots. So goods go warehouse → vehicle → slot by transfers, and the
warehouse's stock knows what the machines took (docs/adr/0033)."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import StockLevel
from inventory.services import level_for, stock_move, stock_transfer
from vending.models import RestockLine, RestockTask, Slot


def low_stock_check(level: StockLevel) -> bool:
    """After a sale: the first time a slot reaches its threshold, tell the site's service staff.
    Returns whether an alert went out."""
    from core.scoping import user_can_reach
    from core.services import notification_send
    from staff.models import User
    from staff.roles import SERVICE_STAFF

    level.refresh_from_db(fields=["quantity", "low_threshold", "low_since"])
    if level.quantity > level.low_threshold:
        return False
    if not StockLevel.objects.filter(pk=level.pk, low_since__isnull=True).update(low_since=timezone.now()):
        return False  # already alerted; cleared by the next restock
    slot = Slot.objects.select_related("device__site__region", "product").filter(level=level).first()
    if slot is None:
        return False
    site = slot.device.site
    for user in User.objects.filter(is_active=True, groups__name=SERVICE_STAFF).distinct():
        if user_can_reach(user, site, "view"):
            notification_send(
                template="stock_low",
                recipient=user,
                context={"slot": slot, "quantity": level.quantity},
                region=site.region,
            )
    return True


# A slot is low when its level is at or below its threshold, however it got there (a sale, a
# count, an adjustment, a threshold raised, seeded data). `low_since` only remembers that the
# service staff were alerted, so the alert goes out once; it is not what decides "low".
LOW = Q(level__quantity__lte=F("level__low_threshold"))


def low_slots(user):
    """Slots at or below their threshold in the user's scope (the console badge counts them)."""
    return (
        Slot.objects.restrict(user)
        .filter(LOW, is_active=True)
        .select_related("device", "product", "level")
        .order_by("device__name", "code")
    )


def pick_list(device) -> list[tuple[Slot, int]]:
    rows = []
    for slot in Slot.objects.filter(device=device, is_active=True).select_related("level", "product"):
        par = slot.level.par_level if slot.level.par_level is not None else slot.level.capacity
        if par is not None and slot.level.quantity < par:
            rows.append((slot, par - slot.level.quantity))
    return rows


def restock_task_create(*, device, actor, source=None, route: str = "") -> RestockTask:
    rows = pick_list(device)
    if not rows:
        raise ValidationError(_("%(machine)s needs nothing: every slot is at its par level.") % {"machine": device})
    if source is not None and source.kind not in ("vehicle", "warehouse"):
        raise ValidationError({"source": _("Goods come from a service vehicle or a warehouse.")})
    with transaction.atomic():
        task = RestockTask.objects.create(device=device, source=source, route=route[:40], created_by=actor)
        RestockLine.objects.bulk_create(
            [RestockLine(task=task, slot=slot, product=slot.product, planned=quantity) for slot, quantity in rows]
        )
    return task


def prekit(tasks) -> list[dict]:
    """What to load into the vehicle for these tasks: the planned quantities summed per product."""
    totals: dict[int, dict] = defaultdict(lambda: {"product": None, "quantity": 0, "machines": set()})
    for line in RestockLine.objects.filter(task__in=tasks, task__status=RestockTask.Status.OPEN).select_related(
        "product", "task__device"
    ):
        entry = totals[line.product_id]
        entry["product"] = line.product
        entry["quantity"] += line.planned
        entry["machines"].add(line.task.device.name)
    return sorted(
        ({**v, "machines": sorted(v["machines"])} for v in totals.values()), key=lambda row: row["product"].name
    )


def vehicle_needs(*, vehicle, warehouse=None) -> list[dict]:
    """What the vehicle still has to take on for its open tasks: per product, the planned quantity
    (the prekit of the tasks taking goods from it), what it already carries, what is missing, and,
    with a warehouse, what that warehouse has available (on hand less reserved)."""
    tasks = RestockTask.objects.filter(source=vehicle, status=RestockTask.Status.OPEN)
    rows = prekit(tasks)
    carried = dict(StockLevel.objects.filter(location=vehicle).values_list("product", "quantity"))
    available = {}
    if warehouse is not None:
        available = {
            product: quantity - reserved
            for product, quantity, reserved in StockLevel.objects.filter(location=warehouse).values_list(
                "product", "quantity", "reserved"
            )
        }
    for row in rows:
        pk = row["product"].pk
        row["carried"] = carried.get(pk, 0)
        row["missing"] = max(row["quantity"] - row["carried"], 0)
        row["available"] = available.get(pk, 0)
        row["load"] = min(row["missing"], max(row["available"], 0))
    return rows


def vehicle_load(*, vehicle, warehouse, quantities: dict, actor) -> int:
    """Load the vehicle from the warehouse: one transfer per product (warehouse level → vehicle
    level, reason "transfer", reference "load-<vehicle>"). All or nothing: a product the warehouse
    has too few of (reserved stock does not count), a negative or non-whole quantity refuses the
    whole load. Returns the number of items loaded."""
    from catalog.models import Product

    if vehicle.kind != vehicle.Kind.VEHICLE:
        raise ValidationError({"vehicle": _("Load a service vehicle.")})
    if warehouse.kind != warehouse.Kind.WAREHOUSE:
        raise ValidationError({"warehouse": _("Goods are loaded from a warehouse.")})
    for quantity in quantities.values():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise ValidationError(_("Enter whole numbers, 0 or more."))
    wanted = {pk: quantity for pk, quantity in quantities.items() if quantity}
    if not wanted:
        raise ValidationError(_("Nothing to load: every quantity is 0."))
    products = Product.objects.in_bulk(list(wanted))
    if set(wanted) - set(products):
        raise ValidationError(_("Unknown product."))
    reference = f"load-{vehicle.pk}"
    with transaction.atomic():
        for pk in sorted(wanted):  # one order, so two loads from one warehouse never deadlock
            product = products[pk]
            try:
                stock_transfer(
                    source=level_for(location=warehouse, product=product),
                    target=level_for(location=vehicle, product=product),
                    quantity=wanted[pk],
                    actor=actor,
                    reference=reference,
                )
            except ValidationError as error:
                raise ValidationError(
                    _("%(product)s: %(problem)s") % {"product": product.name, "problem": " ".join(error.messages)}
                ) from None
    return sum(wanted.values())


def restock_confirm(*, task: RestockTask, quantities: dict[int, int], actor) -> RestockTask:
    """The refilled quantity per line (0 allowed). All lines or none: more than fits in a slot,
    a negative number or a line of another task refuses the whole confirmation."""
    with transaction.atomic():
        task = RestockTask.objects.select_for_update(of=("self",)).select_related("source", "device").get(pk=task.pk)
        if task.status != RestockTask.Status.OPEN:
            raise ValidationError(_("This task is already %(status)s.") % {"status": task.get_status_display().lower()})
        lines = {line.pk: line for line in task.lines.select_related("slot__level", "product")}
        unknown = set(quantities) - set(lines)
        if unknown:
            raise ValidationError(_("These lines are not part of this task: %(ids)s.") % {"ids": sorted(unknown)})
        for pk, line in lines.items():
            quantity = quantities.get(pk, 0)
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                raise ValidationError(_("Slot %(slot)s: enter a whole number, 0 or more.") % {"slot": line.slot.code})
            if quantity:
                reference = f"restock-{task.pk}"
                try:
                    if task.source is not None:
                        source_level = level_for(location=task.source, product=line.product)
                        stock_transfer(
                            source=source_level,
                            target=line.slot.level,
                            quantity=quantity,
                            actor=actor,
                            reference=reference,
                        )
                    else:
                        stock_move(
                            level=line.slot.level, quantity=quantity, reason="restock", actor=actor, reference=reference
                        )
                except ValidationError as error:
                    raise ValidationError(
                        _("Slot %(slot)s: %(problem)s") % {"slot": line.slot.code, "problem": " ".join(error.messages)}
                    ) from None
            RestockLine.objects.filter(pk=pk).update(confirmed=quantity)
            level = line.slot.level
            level.refresh_from_db(fields=["quantity", "low_threshold"])
            if level.quantity > level.low_threshold:
                StockLevel.objects.filter(pk=level.pk).update(low_since=None)
        task.status, task.done_at, task.done_by = RestockTask.Status.DONE, timezone.now(), actor
        task.save(update_fields=["status", "done_at", "done_by"])
    return task


def machine_point(device) -> tuple[float, float] | None:
    """Where a machine stands: its own coordinates, else its site's; None when neither is known."""
    for place in (device, device.site):
        if place.latitude is not None and place.longitude is not None:
            return float(place.latitude), float(place.longitude)
    return None


def route_depots(user):
    """The warehouses a route can start from: warehouse sites the user can see, with coordinates."""
    from core.models import Site

    return Site.objects.restrict(user, "view").filter(kind=Site.Kind.WAREHOUSE, is_active=True)


def route_tasks(user, *, warehouse, day):
    """The day's restock tasks of the machines in the warehouse's region: the open ones, and those
    already planned for that day (done visits included)."""
    from django.db.models import Q

    return (
        RestockTask.objects.restrict(user, "view")
        .filter(device__site__region__path__startswith=warehouse.region.path)
        .filter(Q(status=RestockTask.Status.OPEN, created_at__date__lte=day) | Q(route_date=day))
        .exclude(status=RestockTask.Status.CANCELLED)
        .select_related("device__site", "done_by")
        .order_by("route_vehicle", "route_stop", "device__name")
    )


def _matrix_provider():
    """settings.RESTOCK_DISTANCE_MATRIX: the dotted path of a callable `(points) -> (metres,
    minutes)` (square integer matrices over [(lat, lon), ...], depot first), e.g. a road-network
    service; empty: haversine × road factor."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "RESTOCK_DISTANCE_MATRIX", "")
    return import_string(path) if path else None


def route_plan(*, user, warehouse, day, vehicles: int, capacity: int, seconds: float = 2.0, start: int | None = None):
    """Plan the day's route from the warehouse and store each open task's place on it. Visits
    already done keep their vehicle and stop; open visits are numbered after them. Returns the
    routing.Plan (unroutable stops and visits that did not fit carry their reason on the task)."""
    import datetime

    from django.conf import settings
    from django.db.models import Max, Sum

    from vending import routing

    if warehouse.latitude is None or warehouse.longitude is None:
        raise ValidationError(_("The warehouse %(site)s has no coordinates.") % {"site": warehouse})
    if vehicles < 1 or capacity < 1:
        raise ValidationError(_("Plan with at least one vehicle that carries at least one item."))
    service = getattr(settings, "RESTOCK_SERVICE_MINUTES", routing.SERVICE_MINUTES)
    end = getattr(settings, "RESTOCK_DAY_END", routing.DAY_END)
    now = timezone.localtime()
    if start is None:
        start = getattr(settings, "RESTOCK_DAY_START", routing.DAY_START)
        if day == now.date():  # today's vehicles leave now at the earliest
            start = max(start, now.hour * 60 + now.minute)
    if day < now.date():
        raise ValidationError(_("That day is over; plan today or a day ahead."))
    tasks = list(
        route_tasks(user, warehouse=warehouse, day=day)
        .filter(status=RestockTask.Status.OPEN)
        .annotate(units=Sum("lines__planned"))
    )
    if not tasks:
        raise ValidationError(_("No open restock tasks for that day."))

    def minutes(value):
        return None if value is None else value.hour * 60 + value.minute

    stops = []
    for task in tasks:
        site = task.device.site
        point = machine_point(task.device) or (None, None)
        stops.append(
            routing.Stop(
                key=task.pk,
                name=task.device.name,
                latitude=point[0],
                longitude=point[1],
                opens=minutes(site.opening_time),
                closes=minutes(site.closing_time),
                demand=task.units or 0,
                service=service,
            )
        )
    plan = routing.plan_stops(
        depot=(float(warehouse.latitude), float(warehouse.longitude)),
        stops=stops,
        vehicles=vehicles,
        capacity=capacity,
        start=start,
        end=end,
        speed_kmh=getattr(settings, "RESTOCK_SPEED_KMH", routing.SPEED_KMH),
        road_factor=getattr(settings, "RESTOCK_ROAD_FACTOR", routing.ROAD_FACTOR),
        seconds=seconds,
        matrix=_matrix_provider(),
    )
    done = dict(
        RestockTask.objects.filter(route_date=day, status=RestockTask.Status.DONE, route_stop__isnull=False)
        .order_by()
        .values_list("route_vehicle")
        .annotate(last=Max("route_stop"))
    )
    open_only = RestockTask.objects.filter(status=RestockTask.Status.OPEN)  # a visit done meanwhile stays as done
    with transaction.atomic():
        for visit in plan.visits:
            open_only.filter(pk=visit.key).update(
                route_date=day,
                route_vehicle=visit.vehicle,
                route_stop=done.get(visit.vehicle, 0) + visit.order,
                route_eta=datetime.time(min(visit.arrival // 60, 23), visit.arrival % 60),
                route_note="",
                route=f"{warehouse.code[:24]} {day:%m-%d} #{visit.vehicle}",
            )
        notes = [(key, reason) for key, _name, reason in plan.unroutable]
        notes += [
            (key, _("Did not fit: the vehicles are full or cannot get there while it is open."))
            for key, _n in plan.unfit
        ]
        for key, reason in notes:
            open_only.filter(pk=key).update(
                route_date=day, route_vehicle=None, route_stop=None, route_eta=None, route_note=reason[:200]
            )
    return plan
