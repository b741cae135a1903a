"""Replenishment planning (issue 20, item 3; docs/adr/0030-replenishment-from-demand.md): for every
slot, the days until it runs empty, what to bring to reach par at the visit and a suggested par;
which machines need a visit on a day (a slot empties before the next possible visit, or the cash box
or coin tubes are full); the prekit per machine and the vehicle's pick list. Applying a plan creates
the restock tasks and hands them to the route planner (`restock.route_plan`, PyVRP).

Demand comes from one registered source (`register_demand_source`; the forecasts app registers its
statistical forecasts) and, for every slot the source leaves out, from the prekit rule: the average
vends per day over the last 28 days of sale movements. A slot with too little history falls back to
the low-stock threshold, the rule before this one, and says so. This module writes nothing itself but
the tasks, through `restock.restock_task_create`.
"""

from __future__ import annotations

import datetime
import logging
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

logger = logging.getLogger(__name__)

HISTORY_DAYS = 28  # the prekit rule's window: four whole weeks, so every weekday counts alike
MIN_HISTORY_DAYS = 7  # less than a week of movements is no basis for an average
SAFETY_Z = 1.2816  # the 90 % one-sided bound of a Poisson count (normal approximation) for "high"
VISIT_DAYS = 3  # days between two visits of a machine unless the planner says otherwise
CASH_FULL_PERCENT = 90  # a cash box or coin tube reported this full needs emptying
MAX_LEAD_DAYS = 28  # how far ahead a plan may look: forecasts go 14 days out, the average a few weeks

# A demand source: (levels, start, days) -> {level id: {"mean": [...], "high": [...], "basis": str}},
# optionally with "group" (the basis without the slot's own error, to count slots by) and "mase".
DemandSource = Callable[[list, datetime.date, int], dict]
_source: DemandSource | None = None


def register_demand_source(fn: DemandSource | None) -> None:
    """The forecasts app registers its forecasts here (None unregisters). `fn(levels, start, days)`
    gets StockLevel rows and answers, per level id it can forecast, `days` daily figures from `start`:
    the expected units ("mean"), an upper bound ("high", used for the safety margin) and a short,
    translated "basis" shown on the plan. Levels it leaves out get the prekit rule."""
    global _source
    _source = fn


def demand_source() -> DemandSource | None:
    return _source


def prekit_demand(levels, start: datetime.date, days: int) -> dict:
    """VendSoft's prekit rule as a forecast: each slot's average vends per day over the last
    HISTORY_DAYS days (sales net of reversed sales) for every day ahead. A level whose first movement
    is less than MIN_HISTORY_DAYS old is left out (no basis)."""
    from inventory.models import StockMovement

    now = timezone.now()
    since = now - datetime.timedelta(days=HISTORY_DAYS)
    ids = [level.pk for level in levels]
    first = dict(
        StockMovement.objects.filter(level__in=ids)
        .order_by()
        .values_list("level")
        .annotate(first=Min("at"))
        .values_list("level", "first")
    )
    sold = dict(
        StockMovement.objects.filter(level__in=ids, at__gte=since, reason__in=["sale", "sale_reversed"])
        .order_by()
        .values_list("level")
        .annotate(net=Sum("delta"))
        .values_list("level", "net")
    )
    answer = {}
    for pk in ids:
        if pk not in first:
            continue
        observed = min(HISTORY_DAYS, (now - first[pk]).total_seconds() / 86400)
        if observed < MIN_HISTORY_DAYS:
            continue
        rate = max(0.0, -(sold.get(pk) or 0) / observed)
        high = rate + SAFETY_Z * math.sqrt(rate)
        whole = int(observed)
        basis = (
            _("average of the last 28 days")
            if whole >= HISTORY_DAYS
            else ngettext("average of the last %(days)d day", "average of the last %(days)d days", whole)
            % {"days": whole}
        )
        answer[pk] = {"mean": [rate] * days, "high": [high] * days, "basis": basis}
    return answer


def slot_demand(levels, start: datetime.date, days: int) -> dict:
    """The registered source first, the prekit rule for what it leaves out. A source that fails is
    logged and skipped: planning goes on with the prekit rule."""
    answer = {}
    source = demand_source()
    if source is not None and levels:
        try:
            given = source(levels, start, days) or {}
        except Exception:
            logger.exception("demand source %r failed; using the prekit rule", source)
            given = {}
        for pk, series in given.items():
            try:
                mean = [max(0.0, float(x)) for x in series["mean"]][:days]
                high = [max(float(h), m) for h, m in zip(series["high"], mean, strict=False)]
            except (KeyError, TypeError, ValueError):
                continue
            if len(mean) == days and len(high) == days:
                basis = str(series.get("basis") or _("forecast"))
                mase = series.get("mase")
                answer[pk] = {
                    "mean": mean,
                    "high": high,
                    "basis": basis,
                    "group": str(series.get("group") or basis),
                    "mase": float(mase) if isinstance(mase, int | float) and math.isfinite(mase) else None,
                }
    missing = [level for level in levels if level.pk not in answer]
    if missing:
        answer.update(prekit_demand(missing, start, days))
    return answer


def days_until_empty(stock: int, series: list[float]) -> float | None:
    """Whole days from the start of the series until `stock` is used up (fractional within the day);
    None when it lasts beyond the series."""
    if stock <= 0:
        return 0.0
    used = 0.0
    for day, units in enumerate(series):
        if units > 0 and used + units >= stock:
            return day + (stock - used) / units
        used += units
    return None


@dataclass
class SlotOutlook:
    slot: object
    stock: int
    par: int
    capacity: int | None
    basis: str
    has_history: bool
    basis_group: str = ""  # the basis without the slot's own error, to count slots by
    mase: float | None = None
    empty_in: float | None = None  # days, expected demand
    empty_in_safe: float | None = None  # days, at the upper bound
    at_visit: int = 0  # expected stock when the vehicle arrives
    bring: int = 0  # to reach par at the visit
    suggested_par: int | None = None
    due: bool = False
    runs_empty: bool = False  # by the demand, before the next possible visit
    low: bool = False  # at or below its low-stock threshold on the visit day


@dataclass
class MachineOutlook:
    device: object
    slots: list[SlotOutlook] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    open_task: object = None  # an open restock task already waiting: it is kept as it is
    visited: object = None  # a task done on the plan's day: the visit is made

    @property
    def due(self) -> bool:
        return bool(self.reasons) and self.visited is None

    @property
    def lines(self) -> list[tuple[object, int]]:
        return [(s.slot, s.bring) for s in self.slots if s.bring > 0]

    @property
    def units(self) -> int:
        return sum(s.bring for s in self.slots)


@dataclass
class ReplenishmentPlan:
    warehouse: object
    day: datetime.date
    interval: int
    machines: list[MachineOutlook] = field(default_factory=list)  # every machine looked at

    @property
    def visits(self) -> list[MachineOutlook]:
        return [m for m in self.machines if m.due]

    @property
    def fine(self) -> list[MachineOutlook]:
        return [m for m in self.machines if not m.due and m.visited is None]

    @property
    def visited(self) -> list[MachineOutlook]:
        return [m for m in self.machines if m.visited is not None]

    @property
    def bases(self) -> list[str]:
        """What the demand rests on, one line per basis with the number of slots on it and, for
        forecasts, their median error: "forecast (Croston): 31 slots, median MASE 0.70". A line
        per slot ran to a screen of text on a fleet of sixty slots."""
        groups: dict[tuple[bool, str], list] = {}
        for machine in self.machines:
            for s in machine.slots:
                groups.setdefault((s.has_history, s.basis_group or s.basis), []).append(s.mase)
        lines = []
        for (history, label), errors in sorted(groups.items(), key=lambda item: (not item[0][0], -len(item[1]))):
            count = ngettext("%(n)d slot", "%(n)d slots", len(errors)) % {"n": len(errors)}
            known = [e for e in errors if e is not None]
            if known:
                lines.append(
                    _("%(basis)s: %(count)s, median MASE %(mase).2f")
                    % {"basis": label, "count": count, "mase": statistics.median(known)}
                )
            elif history:
                lines.append(_("%(basis)s: %(count)s") % {"basis": label, "count": count})
            else:  # "no sales history: …" has its colon already
                lines.append(_("%(basis)s — %(count)s") % {"basis": label, "count": count})
        return lines

    @property
    def fallback(self) -> bool:
        return any(not s.has_history for m in self.machines for s in m.slots)

    def pick_list(self) -> list[dict]:
        """The vehicle's load: what the visits bring, summed per product."""
        totals: dict[int, dict] = {}
        for machine in self.visits:
            for slot, quantity in machine.lines:
                row = totals.setdefault(slot.product_id, {"product": slot.product, "quantity": 0, "machines": []})
                row["quantity"] += quantity
                if machine.device.name not in row["machines"]:
                    row["machines"].append(machine.device.name)
        return sorted(totals.values(), key=lambda row: row["product"].name)


def _cash_reasons(devices) -> dict[int, str]:
    """Cash boxes and coin tubes reported full in a machine's latest telemetry sample. Nothing in
    the device protocol defined fullness before: a heartbeat's free-form `data` may carry
    `cash_box_full` / `coin_tubes_full` (true or false) or `cash_box_percent` / `coin_tubes_percent`
    (0-100). DEX reads carry cumulative cash takings (CA2) but no box capacity, so they cannot say
    "full"; a machine that reports none of these is never due for its cash."""
    from django.db.models import JSONField, OuterRef, Subquery

    from devices.models import Device, Telemetry

    latest = Telemetry.objects.filter(device=OuterRef("pk")).order_by("-at", "-pk").values("data")[:1]
    rows = Device.objects.filter(pk__in=[d.pk for d in devices]).annotate(
        latest=Subquery(latest, output_field=JSONField())
    )
    reasons = {}
    for pk, data in rows.values_list("pk", "latest"):
        if not isinstance(data, dict):
            continue
        full = []
        for name, label in (("cash_box", _("the cash box is full")), ("coin_tubes", _("the coin tubes are full"))):
            percent = data.get(f"{name}_percent")
            if data.get(f"{name}_full") is True or (
                isinstance(percent, int | float) and not isinstance(percent, bool) and percent >= CASH_FULL_PERCENT
            ):
                full.append(label)
        if full:
            reasons[pk] = "; ".join(full)
    return reasons


def machines_outlook(*, devices, day: datetime.date, interval: int) -> list[MachineOutlook]:
    """Each machine's slots against their demand from today to the visit after `day`."""
    from vending.models import RestockTask, Slot

    devices = list(devices)
    today = timezone.localdate()
    lead = max(0, (day - today).days)
    horizon = lead + interval  # the next possible visit after this one, in days from today
    slots = list(
        Slot.objects.filter(device__in=devices, is_active=True)
        .select_related("level", "product", "device")
        .order_by("device__name", "code")
    )
    demand = slot_demand([s.level for s in slots], today, horizon)
    machines = {d.pk: MachineOutlook(device=d) for d in devices}
    for slot in slots:
        level = slot.level
        par = level.par_level if level.par_level is not None else (level.capacity or 0)
        series = demand.get(level.pk)
        outlook = SlotOutlook(
            slot=slot,
            stock=level.quantity,
            par=par,
            capacity=level.capacity,
            basis=series["basis"]
            if series
            else _("no sales history: the slot is due at its low-stock threshold (%(threshold)d)")
            % {"threshold": level.low_threshold},
            has_history=series is not None,
            basis_group=(series.get("group") or series["basis"]) if series else "",
            mase=series.get("mase") if series else None,
        )
        if series:
            outlook.empty_in = days_until_empty(level.quantity, series["mean"])
            outlook.empty_in_safe = days_until_empty(level.quantity, series["high"])
            outlook.at_visit = max(0, round(level.quantity - sum(series["mean"][:lead])))
            outlook.runs_empty = outlook.empty_in_safe is not None and outlook.empty_in_safe < horizon
            # The operator's own rule holds beside the forecast: a slot at or below its low-stock
            # threshold on the visit day is refilled, as the low-stock page and the dashboards
            # already count it, even when its slow sales would last past the next visit.
            outlook.low = outlook.at_visit <= level.low_threshold
            outlook.due = outlook.runs_empty or outlook.low
            suggested = math.ceil(sum(series["high"][lead:horizon]) - 1e-9)
            outlook.suggested_par = max(1, min(suggested, level.capacity or suggested)) if suggested else None
        else:
            outlook.at_visit = level.quantity
            outlook.due = level.quantity <= level.low_threshold
        room = (level.capacity - outlook.at_visit) if level.capacity is not None else par
        outlook.bring = max(0, min(par - outlook.at_visit, room))
        machines[slot.device_id].slots.append(outlook)
    for machine in machines.values():
        empty = [s for s in machine.slots if s.due and s.has_history and s.runs_empty]
        below = [s for s in machine.slots if s.due and s.has_history and not s.runs_empty]
        low = [s for s in machine.slots if s.due and not s.has_history]
        if empty:
            machine.reasons.append(
                ngettext(
                    "%(n)d slot runs empty before the next possible visit",
                    "%(n)d slots run empty before the next possible visit",
                    len(empty),
                )
                % {"n": len(empty)}
            )
        if below:
            machine.reasons.append(
                ngettext(
                    "%(n)d slot is at its low-stock threshold",
                    "%(n)d slots are at their low-stock threshold",
                    len(below),
                )
                % {"n": len(below)}
            )
        if low:
            machine.reasons.append(
                ngettext(
                    "%(n)d slot without sales history is at its low-stock threshold",
                    "%(n)d slots without sales history are at their low-stock threshold",
                    len(low),
                )
                % {"n": len(low)}
            )
    for pk, reason in _cash_reasons(devices).items():
        machines[pk].reasons.append(reason)
    tasks = RestockTask.objects.filter(device__in=devices).filter(
        Q(status=RestockTask.Status.OPEN)
        | Q(status=RestockTask.Status.DONE, route_date=day)
        | Q(status=RestockTask.Status.DONE, done_at__date=day)
    )
    for task in tasks.order_by("created_at", "pk"):
        machine = machines[task.device_id]
        if task.status == RestockTask.Status.OPEN:
            machine.open_task = machine.open_task or task
        else:
            machine.visited = task
    return sorted(machines.values(), key=lambda m: (not m.due, m.device.name))


def plan_devices(user, warehouse):
    """The vending machines a plan from this warehouse looks at: active, with slots, in the
    warehouse's region and the user's scope."""
    from devices.models import Device

    return (
        Device.objects.restrict(user, "view")
        .filter(
            kind=Device.Kind.VENDING,
            is_active=True,
            site__region__path__startswith=warehouse.region.path,
            slots__is_active=True,
        )
        .select_related("site")
        .distinct()
    )


def visit_days() -> int:
    return int(getattr(settings, "RESTOCK_VISIT_DAYS", VISIT_DAYS))


def replenishment_plan(*, user, warehouse, day: datetime.date, interval: int | None = None) -> ReplenishmentPlan:
    interval = interval or visit_days()
    if interval < 1:
        raise ValidationError(_("Visits are at least one day apart."))
    if day < timezone.localdate():
        raise ValidationError(_("That day is over; plan today or a day ahead."))
    if (day - timezone.localdate()).days > MAX_LEAD_DAYS:
        raise ValidationError(
            _("Plan at most %(days)d days ahead: the demand further out is a guess.") % {"days": MAX_LEAD_DAYS}
        )
    machines = machines_outlook(devices=plan_devices(user, warehouse), day=day, interval=interval)
    return ReplenishmentPlan(warehouse=warehouse, day=day, interval=interval, machines=machines)


def replenishment_apply(
    *, user, warehouse, day, interval=None, vehicles: int, capacity: int, seconds: float = 2.0
) -> tuple[ReplenishmentPlan, list, object]:
    """Create a restock task with its prekit for every machine due that has none open (an open task
    is kept as it is; a machine visited that day is not planned again), then route the day's open
    tasks. Returns (plan, tasks created, routing plan)."""
    from vending.restock import restock_task_create, route_plan

    if warehouse.latitude is None or warehouse.longitude is None:
        raise ValidationError(_("The warehouse %(site)s has no coordinates.") % {"site": warehouse})
    if vehicles < 1 or capacity < 1:
        raise ValidationError(_("Plan with at least one vehicle that carries at least one item."))
    plan = replenishment_plan(user=user, warehouse=warehouse, day=day, interval=interval)
    created = []
    for machine in plan.visits:
        if machine.open_task is None and machine.lines:
            created.append(restock_task_create(device=machine.device, actor=user, lines=machine.lines))
        elif machine.open_task is None:  # due for its cash alone: a visit with nothing to pick
            created.append(restock_task_create(device=machine.device, actor=user, lines=[]))
    if not created and not any(m.open_task for m in plan.machines):
        raise ValidationError(_("No machine needs a visit that day."))
    routed = route_plan(user=user, warehouse=warehouse, day=day, vehicles=vehicles, capacity=capacity, seconds=seconds)
    return plan, created, routed
