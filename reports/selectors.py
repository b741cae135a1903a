"""Report figures, read from the daily roll-ups and scoped to the caller: sales by time and by any
one or two dimensions, rankings, payment-method shares, the hour × weekday heat map, orders by
status, profit and turnover. The console pages, their exports and the dashboards call these.

Every function takes the caller and validated input (`ReportQuery`); `report_query()` builds one
from raw values and raises `ReportError` with the user's message before any figure is read. The
raw orders are never read here (docs/adr/0023-sales-roll-ups.md): the roll-ups are kept equal to
them by reports.rollups.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import ExtractIsoWeekDay, TruncMonth, TruncWeek, TruncYear
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.models import (
    OrderStatusDay,
    ProductPlaceDay,
    ProductPlaceMonth,
    ProductSalesDay,
    ProductSalesMonth,
    SalesDay,
    SalesHour,
    SalesMonth,
    SalesPlaceDay,
    SalesPlaceHour,
)
from reports.rollups import SALES_FIGURES, ZERO

TIME_GRAINS = ("hour", "day", "week", "month", "year")
PRODUCT_DIMENSIONS = ("product", "category", "brand")
PLACE_DIMENSIONS = ("machine", "site", "region", "kind", "channel", "method")
DIMENSIONS = (*TIME_GRAINS, *PRODUCT_DIMENSIONS, *PLACE_DIMENSIONS)
DIMENSION_LABELS = {
    "hour": gettext_lazy("Hour"),
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "year": gettext_lazy("Year"),
    "product": gettext_lazy("Product"),
    "category": gettext_lazy("Category"),
    "brand": gettext_lazy("Brand"),
    "machine": gettext_lazy("Machine"),
    "site": gettext_lazy("Site"),
    "region": gettext_lazy("Region"),
    "kind": gettext_lazy("Order kind"),
    "channel": gettext_lazy("Channel"),
    "method": gettext_lazy("Payment method"),
}
# The longest range a report reads: an hourly view is for weeks, the others for years.
MAX_DAYS = {"hour": 31, "default": 3 * 366}
TURNOVER_MAX_DAYS = 92
COLUMN = {"machine": "device_id", "site": "site_id", "region": "region_id", "kind": "kind", "channel": "channel"}
COLUMN |= {"method": "method", "product": "product_id", "hour": "hour", "day": "day"}


PRODUCT_TABLES = (ProductSalesDay, ProductSalesMonth, ProductPlaceDay, ProductPlaceMonth)
# Without kind, channel or method in the grouping or the filters a report reads the narrow
# ("place") levels; whole calendar months come from the monthly ones (docs/adr/0028).
# (hourly, products) -> (full daily, full monthly, place daily, place monthly)
LEVELS = {
    (True, False): (SalesHour, None, SalesPlaceHour, None),
    (False, True): (ProductSalesDay, ProductSalesMonth, ProductPlaceDay, ProductPlaceMonth),
    (False, False): (SalesDay, SalesMonth, SalesPlaceDay, SalesMonth),
}
ORDER_DIMENSIONS = ("kind", "channel", "method")


class ReportError(Exception):
    """Input a report cannot answer; the message is for the user. Raised before any query."""


@dataclass(frozen=True)
class ReportQuery:
    date_from: datetime.date
    date_to: datetime.date
    by: tuple[str, ...] = ("day",)
    # Filters: model instances or ids already checked against the caller's scope, or codes.
    region: object = None
    site: object = None
    machine: object = None
    product: object = None
    category: object = None
    brand: object = None
    kind: str = ""
    channel: str = ""
    method: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def report_query(*, date_from, date_to, by: Iterable[str] = ("day",), max_days: int | None = None, **filters):
    """A checked ReportQuery, or ReportError saying what is wrong."""
    if date_from is None or date_to is None:
        raise ReportError(_("Choose the first and the last day."))
    if date_to < date_from:
        raise ReportError(_("The last day is before the first day."))
    by = tuple(dict.fromkeys(b for b in by if b))
    unknown = [b for b in by if b not in DIMENSIONS]
    if unknown:
        raise ReportError(_("Unknown dimension: %(names)s.") % {"names": ", ".join(unknown)})
    if not by:
        raise ReportError(_("Choose what to group the figures by."))
    if len(by) > 2:
        raise ReportError(_("Group by at most two dimensions."))
    if len([b for b in by if b in TIME_GRAINS]) > 1:
        raise ReportError(_("Group by one period at a time."))
    if "hour" in by and (set(by) & set(PRODUCT_DIMENSIONS)):
        raise ReportError(_("Hours cannot be combined with products, categories or brands."))
    if "hour" in by and any(filters.get(name) for name in PRODUCT_DIMENSIONS):
        raise ReportError(_("Hours cannot be combined with products, categories or brands."))
    limit = max_days or (MAX_DAYS["hour"] if "hour" in by else MAX_DAYS["default"])
    if (date_to - date_from).days + 1 > limit:
        raise ReportError(_("Choose at most %(days)s days for this report.") % {"days": limit})
    known = set(ReportQuery.__dataclass_fields__)
    bad = [name for name in filters if name not in known]
    if bad:
        raise ReportError(_("Unknown filter: %(names)s.") % {"names": ", ".join(bad)})
    return ReportQuery(date_from=date_from, date_to=date_to, by=by, **filters)


# --- Scope -----------------------------------------------------------------------------------
def _pk(value):
    return getattr(value, "pk", value)


def supplier_products(user) -> list[int] | None:
    """The products a supplier user may see figures of; None for every other user."""
    from catalog.models import Product, supplier_of

    supplier_ids = supplier_of(user)
    if supplier_ids is None:
        return None
    return list(Product.objects.filter(supplier__in=supplier_ids).values_list("pk", flat=True))


def scope_q(user) -> Q | None:
    """Roll-up rows the user may see: their regions (and those below) and their sites."""
    from core.models import Region
    from core.scoping import user_grants

    grants = user_grants(user, "view")
    if grants.everything:
        return None
    regions = Q(pk__in=[])
    for path in grants.region_paths:
        regions |= Q(path__startswith=path)
    region_ids = list(Region.objects.filter(regions).values_list("pk", flat=True)) if grants.region_paths else []
    return Q(region_id__in=region_ids) | Q(site_id__in=list(grants.site_ids))


def uses_products(query: ReportQuery, user) -> bool:
    return (
        bool(set(query.by) & set(PRODUCT_DIMENSIONS))
        or any(getattr(query, name) for name in PRODUCT_DIMENSIONS)
        or supplier_products(user) is not None
    )


def _filtered(model, user, query: ReportQuery, *, date_from=None, date_to=None):
    from catalog.models import Product

    rows = model.objects.filter(day__gte=date_from or query.date_from, day__lte=date_to or query.date_to)
    products = supplier_products(user)
    if products is not None:
        if model not in PRODUCT_TABLES:
            return rows.none()
        rows = rows.filter(product_id__in=products)
    else:
        scope = scope_q(user)
        if scope is not None:
            rows = rows.filter(scope)
    if query.region:
        rows = rows.filter(region_id__in=_region_ids(query))
    if query.site:
        rows = rows.filter(site_id=_pk(query.site))
    if query.machine:
        rows = rows.filter(device_id=_pk(query.machine))
    for name in ("kind", "channel", "method"):
        if getattr(query, name):
            rows = rows.filter(**{name: getattr(query, name)})
    if query.product:
        rows = rows.filter(product_id=_pk(query.product))
    if query.category:
        rows = rows.filter(product_id__in=Product.objects.filter(category=_pk(query.category)).values("pk"))
    if query.brand:
        rows = rows.filter(product_id__in=Product.objects.filter(brand=_pk(query.brand)).values("pk"))
    return rows


def _region(query: ReportQuery):
    from core.models import Region

    return query.region if isinstance(query.region, Region) else Region.objects.get(pk=query.region)


def _region_ids(query: ReportQuery):
    from core.models import Region

    return Region.objects.filter(path__startswith=_region(query).path).values("pk")


# --- Sales -----------------------------------------------------------------------------------
def _group_expression(dimension: str):
    if dimension == "week":
        return TruncWeek("day")
    if dimension == "month":
        return TruncMonth("day")
    if dimension == "year":
        return TruncYear("day")
    if dimension in ("category", "brand"):
        return "product_id"
    return COLUMN[dimension]


def _as_date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def _first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=31)).replace(day=1)


def spans(day_model, month_model, date_from: datetime.date, date_to: datetime.date) -> list[tuple]:
    """(model, first day, last day) to read a range from: the calendar months it covers whole from
    the monthly table, the days before and after them from the daily one (docs/adr/0028)."""
    start = date_from if date_from.day == 1 else _first_of_next_month(date_from)
    after = date_to + datetime.timedelta(days=1)
    stop = after if after.day == 1 else after.replace(day=1)  # first day after the whole months
    if month_model is None or start >= stop:
        return [(day_model, date_from, date_to)]
    out = []
    if date_from < start:
        out.append((day_model, date_from, start - datetime.timedelta(days=1)))
    out.append((month_model, start, stop - datetime.timedelta(days=1)))
    if stop <= date_to:
        out.append((day_model, stop, date_to))
    return out


def sales_rows(user, query: ReportQuery, *, date_from=None, date_to=None) -> list[dict]:
    """Figures grouped by `query.by`: one dict per group with `keys` (dimension -> id, code or
    period start) and the figures (`orders`, `quantity`, `gross`, `discounts`, `refunds`, `net`,
    `cost`, `fees`). Whole calendar months are read from the monthly roll-ups unless the grouping
    needs days (by day or week) or hours."""
    hourly = "hour" in query.by
    full_day, full_month, place_day, place_month = LEVELS[(hourly, not hourly and uses_products(query, user))]
    narrow = not (set(query.by) & set(ORDER_DIMENSIONS)) and not any(getattr(query, d) for d in ORDER_DIMENSIONS)
    day_model, month_model = (place_day, place_month) if narrow else (full_day, full_month)
    if set(query.by) & {"day", "week"}:
        month_model = None
    names = {f"g{i}": _group_expression(dim) for i, dim in enumerate(query.by)}
    groups = []
    for model, first, last in spans(day_model, month_model, date_from or query.date_from, date_to or query.date_to):
        rows = _filtered(model, user, query, date_from=first, date_to=last)
        groups.append(
            rows.order_by()
            .annotate(**{name: expression for name, expression in names.items() if not isinstance(expression, str)})
            .values(*[name if not isinstance(e, str) else e for name, e in names.items()])
            .annotate(**{figure: Sum(figure) for figure in SALES_FIGURES})
        )
    grouped = [row for rows in groups for row in rows]
    result: dict[tuple, dict] = {}
    fold = [dim for dim in query.by if dim in ("category", "brand")]
    owners = _product_owners(fold, grouped) if fold else {}
    for row in grouped:
        keys = []
        for i, dim in enumerate(query.by):
            expression = names[f"g{i}"]
            value = row[f"g{i}"] if not isinstance(expression, str) else row[expression]
            if dim in ("category", "brand"):
                value = owners.get(dim, {}).get(value, 0)
            keys.append(_as_date(value))
        entry = result.setdefault(tuple(keys), {f: 0 if f in ("orders", "quantity") else ZERO for f in SALES_FIGURES})
        for figure in SALES_FIGURES:
            entry[figure] += row[figure] or 0
    return [{"keys": dict(zip(query.by, keys, strict=True)), **figures} for keys, figures in result.items()]


def _product_owners(dimensions, grouped) -> dict:
    from catalog.models import Product

    ids = {row["product_id"] for row in grouped}
    owners: dict = {}
    for pk, category, brand in Product.objects.filter(pk__in=ids).values_list("pk", "category_id", "brand_id"):
        owners.setdefault("category", {})[pk] = category or 0
        owners.setdefault("brand", {})[pk] = brand or 0
    return owners


def _shift_year(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def period_buckets(grain: str, date_from: datetime.date, date_to: datetime.date) -> list:
    """Every bucket of the range in order, empty ones included."""
    if grain == "hour":
        return list(range(24))
    buckets, day = [], date_from
    while day <= date_to:
        if grain == "day":
            start = day
        elif grain == "week":
            start = day - datetime.timedelta(days=day.weekday())
        elif grain == "month":
            start = day.replace(day=1)
        else:
            start = day.replace(month=1, day=1)
        if not buckets or buckets[-1] != start:
            buckets.append(start)
        day += datetime.timedelta(days=1)
    return buckets


def sales_over_time(user, query: ReportQuery) -> dict:
    """The figures per period with, bucket by bucket, the previous period of the same length and
    the same period a year earlier."""
    grain = query.by[0]
    if grain not in TIME_GRAINS or len(query.by) != 1:
        raise ReportError(_("Choose one period to compare: hour, day, week, month or year."))
    length = datetime.timedelta(days=query.days)
    periods = {
        "current": (query.date_from, query.date_to),
        "previous": (query.date_from - length, query.date_to - length),
        "last_year": (_shift_year(query.date_from, -1), _shift_year(query.date_to, -1)),
    }
    out = {}
    for name, (start, end) in periods.items():
        rows = {row["keys"][grain]: row for row in sales_rows(user, query, date_from=start, date_to=end)}
        out[name] = [(bucket, rows.get(bucket)) for bucket in period_buckets(grain, start, end)]
    return out


def sales_summary(user, date_from, date_to, *, by=("day",), **filters) -> list[dict]:
    """The entry point for other pages (the role dashboards): checked input, then `sales_rows`.
    `sales_summary(user, today, today, by=("site",))` is today's sales per store in the user's
    scope; ReportError carries the message for bad input."""
    return sales_rows(user, report_query(date_from=date_from, date_to=date_to, by=by, **filters))


# --- Rankings --------------------------------------------------------------------------------
def ranking(user, query: ReportQuery, *, dimension: str, measure: str = "net", limit: int = 10) -> dict:
    """The top and bottom `limit` products or machines by `measure` (of those that sold)."""
    if dimension not in ("product", "machine"):
        raise ReportError(_("Rankings are of products or machines."))
    if measure not in SALES_FIGURES:
        raise ReportError(_("Unknown figure: %(name)s.") % {"name": measure})
    rows = sales_rows(user, replace(query, by=(dimension,)))
    rows.sort(key=lambda row: (row[measure], -int(row["keys"][dimension] or 0)), reverse=True)
    return {"top": rows[:limit], "bottom": list(reversed(rows[-limit:])) if rows else []}


def slow_movers(user, query: ReportQuery, *, per_machine: int = 3) -> list[dict]:
    """Per machine in scope, the planogram's products that sold fewest units in the range (none
    included): candidates to replace."""
    from vending.models import Slot

    slots = Slot.objects.restrict(user).filter(is_active=True)
    if query.machine:
        slots = slots.filter(device_id=_pk(query.machine))
    if query.site:
        slots = slots.filter(device__site_id=_pk(query.site))
    if query.region:
        slots = slots.filter(device__site__region__path__startswith=_region(query).path)
    products = supplier_products(user)
    if products is not None:
        slots = slots.filter(product_id__in=products)
    planogram = defaultdict(set)
    names = {}
    for device_id, product_id, device_name, product_name in slots.values_list(
        "device_id", "product_id", "device__name", "product__name"
    ):
        planogram[device_id].add(product_id)
        names[("machine", device_id)] = device_name
        names[("product", product_id)] = product_name
    if not planogram:
        return []
    sold = {
        (row["device_id"], row["product_id"]): row
        for row in _filtered(ProductSalesDay, user, query)
        .filter(device_id__in=list(planogram))
        .order_by()
        .values("device_id", "product_id")
        .annotate(quantity=Sum("quantity"), net=Sum("net"))
    }
    out = []
    for device_id in sorted(planogram, key=lambda pk: names[("machine", pk)]):
        entries = []
        for product_id in planogram[device_id]:
            row = sold.get((device_id, product_id), {})
            entries.append(
                {
                    "machine": names[("machine", device_id)],
                    "machine_id": device_id,
                    "product": names[("product", product_id)],
                    "product_id": product_id,
                    "quantity": row.get("quantity") or 0,
                    "net": row.get("net") or ZERO,
                }
            )
        entries.sort(key=lambda e: (e["quantity"], e["net"], e["product"]))
        out.extend(entries[:per_machine])
    return out


# --- Payment methods, heat map, statuses -----------------------------------------------------
def payment_shares(user, query: ReportQuery) -> list[dict]:
    rows = sales_rows(user, replace(query, by=("method",)))
    total = sum((row["net"] for row in rows), ZERO)
    for row in rows:
        row["share"] = (row["net"] / total * 100).quantize(Decimal("0.1")) if total else Decimal("0.0")
    rows.sort(key=lambda row: row["net"], reverse=True)
    return rows


def hour_weekday(user, query: ReportQuery, *, measure: str = "orders") -> list[list]:
    """7 rows (Monday first) of 24 hourly `measure` totals."""
    if measure not in SALES_FIGURES:
        raise ReportError(_("Unknown figure: %(name)s.") % {"name": measure})
    grid = [[0 if measure in ("orders", "quantity") else ZERO for _hour in range(24)] for _day in range(7)]
    rows = (
        _filtered(SalesHour, user, query)
        .order_by()
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday", "hour")
        .annotate(value=Sum(measure))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] += row["value"] or 0
    return grid


def orders_by_status(user, query: ReportQuery) -> list[dict]:
    """Per day (orders created that day): counts by status now, and the average minutes from
    paid to completed."""
    rows = OrderStatusDay.objects.filter(day__gte=query.date_from, day__lte=query.date_to)
    if supplier_products(user) is not None:
        return []
    scope = scope_q(user)
    if scope is not None:
        rows = rows.filter(scope)
    if query.region:
        rows = rows.filter(region_id__in=_region_ids(query))
    for name, column in (("site", "site_id"), ("machine", "device_id")):
        if getattr(query, name):
            rows = rows.filter(**{column: _pk(getattr(query, name))})
    for name in ("kind", "channel"):
        if getattr(query, name):
            rows = rows.filter(**{name: getattr(query, name)})
    days: dict = {}
    for row in (
        rows.order_by()
        .values("day", "status")
        .annotate(orders=Sum("orders"), completed=Sum("completed"), seconds=Sum("completion_seconds"))
    ):
        entry = days.setdefault(row["day"], {"day": row["day"], "statuses": {}, "completed": 0, "seconds": 0})
        entry["statuses"][row["status"]] = entry["statuses"].get(row["status"], 0) + row["orders"]
        entry["completed"] += row["completed"] or 0
        entry["seconds"] += row["seconds"] or 0
    out = []
    for day in period_buckets("day", query.date_from, query.date_to):
        entry = days.get(day, {"day": day, "statuses": {}, "completed": 0, "seconds": 0})
        entry["orders"] = sum(entry["statuses"].values())
        entry["average_minutes"] = (
            (Decimal(entry["seconds"]) / entry["completed"] / 60).quantize(Decimal("0.1"))
            if entry["completed"]
            else None
        )
        out.append(entry)
    return out


# --- Profit ----------------------------------------------------------------------------------
# Commissions come from the accounting app's ledger once it exists: it registers a source here
# (from its AppConfig.ready()); until then every commission is zero. A source is called as
# `source(user=..., query=..., rows=...)` with the rows already grouped by `query.by`, and returns
# {tuple of the row's key values: Decimal}.
_COMMISSION_SOURCES: list[Callable] = []


def commission_source_register(source: Callable) -> None:
    if source not in _COMMISSION_SOURCES:
        _COMMISSION_SOURCES.append(source)


def profit_rows(user, query: ReportQuery) -> list[dict]:
    """Net sales − cost of goods − payment fees − commissions per group, with the margin."""
    rows = sales_rows(user, query)
    commissions: dict = defaultdict(lambda: ZERO)
    for source in _COMMISSION_SOURCES:
        for key, amount in (source(user=user, query=query, rows=rows) or {}).items():
            commissions[key] += amount
    for row in rows:
        row["commissions"] = commissions[tuple(row["keys"].values())]
        row["profit"] = row["net"] - row["cost"] - row["fees"] - row["commissions"]
        row["margin"] = (row["profit"] / row["net"] * 100).quantize(Decimal("0.1")) if row["net"] else None
    return rows


# --- Turnover --------------------------------------------------------------------------------
@dataclass
class _Timeline:
    start_quantity: int
    changes: list  # (at, delta) in order


def _level_timelines(level_ids, start, end) -> dict[int, _Timeline]:
    """Each stock level's quantity at `start` and its changes until `end`, from the append-only
    movements (quantity now minus what moved since)."""
    from django.db.models import Sum as _Sum

    from inventory.models import StockLevel, StockMovement

    now_quantity = dict(StockLevel.objects.filter(pk__in=level_ids).values_list("pk", "quantity"))
    since_start = dict(
        StockMovement.objects.filter(level_id__in=level_ids, at__gte=start)
        .order_by()
        .values("level_id")
        .annotate(total=_Sum("delta"))
        .values_list("level_id", "total")
    )
    changes = defaultdict(list)
    for level_id, at, delta in (
        StockMovement.objects.filter(level_id__in=level_ids, at__gte=start, at__lt=end)
        .order_by("level_id", "at", "pk")
        .values_list("level_id", "at", "delta")
    ):
        changes[level_id].append((at, delta))
    return {
        pk: _Timeline(start_quantity=now_quantity[pk] - (since_start.get(pk) or 0), changes=changes[pk])
        for pk in level_ids
    }


def _walk(timeline: _Timeline, start, end) -> dict:
    """Time-weighted average quantity, hours at zero, units sold, closing quantity."""
    quantity, at, area, empty = timeline.start_quantity, start, 0.0, 0.0
    for moment, delta in [*timeline.changes, (end, 0)]:
        span = (moment - at).total_seconds()
        area += max(quantity, 0) * span
        if quantity <= 0:
            empty += span
        quantity += delta
        at = moment
    total = (end - start).total_seconds() or 1
    return {"average": area / total, "empty_hours": empty / 3600, "closing": quantity}


def product_turnover(user, query: ReportQuery) -> list[dict]:
    """Per product: units sold, average stock on hand (every stock location in scope), turnover
    (units sold / average stock), days of supply at the period's rate, sell-through
    (sold / (sold + closing stock))."""
    from inventory.models import StockLevel

    if query.days > TURNOVER_MAX_DAYS:
        raise ReportError(_("Choose at most %(days)s days for this report.") % {"days": TURNOVER_MAX_DAYS})
    start, end = _range_bounds(query)
    sold = {row["keys"]["product"]: row for row in sales_rows(user, replace(query, by=("product",)))}
    levels = StockLevel.objects.restrict(user)
    if query.site:
        levels = levels.filter(location__site_id=_pk(query.site))
    if query.machine:
        levels = levels.filter(location__device_id=_pk(query.machine))
    if query.region:
        levels = levels.filter(location__site__region__path__startswith=_region(query).path)
    if query.product:
        levels = levels.filter(product_id=_pk(query.product))
    products = supplier_products(user)
    if products is not None:
        levels = levels.filter(product_id__in=products)
    by_product = defaultdict(list)
    for pk, product_id in levels.values_list("pk", "product_id"):
        by_product[product_id].append(pk)
    timelines = _level_timelines([pk for pks in by_product.values() for pk in pks], start, end)
    out = []
    for product_id in set(by_product) | set(sold):
        walked = [_walk(timelines[pk], start, end) for pk in by_product.get(product_id, ())]
        average = sum(w["average"] for w in walked)
        closing = sum(w["closing"] for w in walked)
        units = sold.get(product_id, {}).get("quantity", 0)
        per_day = units / query.days
        out.append(
            {
                "product_id": product_id,
                "quantity": units,
                "net": sold.get(product_id, {}).get("net", ZERO),
                "average_stock": round(average, 1),
                "closing_stock": closing,
                "turnover": round(units / average, 2) if average else None,
                "days_of_supply": round(closing / per_day, 1) if per_day else None,
                "sell_through": round(units / (units + closing) * 100, 1) if units + closing > 0 else None,
            }
        )
    out.sort(key=lambda row: (-(row["turnover"] or 0), row["product_id"]))
    return out


def slot_stockouts(user, query: ReportQuery) -> list[dict]:
    """Per machine slot: hours it stood empty in the range and the sales it probably lost there
    (its sales rate while stocked × the hours empty)."""
    from vending.models import Slot

    if query.days > TURNOVER_MAX_DAYS:
        raise ReportError(_("Choose at most %(days)s days for this report.") % {"days": TURNOVER_MAX_DAYS})
    start, end = _range_bounds(query)
    slots = Slot.objects.restrict(user).select_related("device", "product")
    if query.machine:
        slots = slots.filter(device_id=_pk(query.machine))
    if query.site:
        slots = slots.filter(device__site_id=_pk(query.site))
    if query.region:
        slots = slots.filter(device__site__region__path__startswith=_region(query).path)
    if query.product:
        slots = slots.filter(product_id=_pk(query.product))
    products = supplier_products(user)
    if products is not None:
        slots = slots.filter(product_id__in=products)
    slots = list(slots.order_by("device__name", "code"))
    timelines = _level_timelines([slot.level_id for slot in slots], start, end)
    hours = (end - start).total_seconds() / 3600
    out = []
    for slot in slots:
        timeline = timelines[slot.level_id]
        walked = _walk(timeline, start, end)
        units = -sum(delta for _at, delta in timeline.changes if delta < 0)
        stocked = hours - walked["empty_hours"]
        rate = units / stocked if stocked > 0 else 0
        price = slot.sale_price
        lost_units = round(rate * walked["empty_hours"], 1)
        out.append(
            {
                "machine": str(slot.device),
                "machine_id": slot.device_id,
                "slot": slot.code,
                "product": slot.product.name,
                "product_id": slot.product_id,
                "units": units,
                "empty_hours": round(walked["empty_hours"], 1),
                "lost_units": lost_units,
                "lost_sales": (price * Decimal(str(lost_units))).quantize(Decimal("0.01")),
            }
        )
    return out


def _range_bounds(query: ReportQuery):
    from django.utils import timezone

    from reports.rollups import day_bounds

    start = day_bounds(query.date_from)[0]
    end = min(day_bounds(query.date_to)[1], timezone.now())
    return start, max(end, start)


# --- Names for ids ---------------------------------------------------------------------------
def labels_for(dimension: str, values: Iterable) -> dict:
    """Display names for the ids or codes of one dimension."""
    from catalog.models import Brand, Category, Product
    from core.models import Region, Site
    from devices.models import Device
    from orders.models import Channel, OrderKind

    values = set(values)
    models = {"product": Product, "category": Category, "brand": Brand, "site": Site, "region": Region}
    models["machine"] = Device
    none = _("(none)")
    if dimension in models:
        ids = [v for v in values if v]
        found = {pk: name for pk, name in models[dimension].objects.filter(pk__in=ids).values_list("pk", "name")}
        return {v: found.get(v, none) if v else none for v in values}
    if dimension == "kind":
        return {v: str(dict(OrderKind.choices).get(v, v)) for v in values}
    if dimension == "channel":
        return {v: str(dict(Channel.choices).get(v, v)) for v in values}
    if dimension == "method":
        return {v: method_label(v) for v in values}
    if dimension == "hour":
        return {v: f"{v:02d}:00" for v in values}
    if dimension == "week":
        return {v: _("Week of %(day)s") % {"day": v.isoformat()} for v in values}
    if dimension == "month":
        return {v: v.strftime("%Y-%m") for v in values}
    if dimension == "year":
        return {v: str(v.year) for v in values}
    return {v: v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values}


def method_label(code: str) -> str:
    if not code:
        return _("(none)")
    try:
        from orders.payments import provider_get

        return str(getattr(provider_get(code), "label", code))
    except Exception:
        return code


def change_percent(now, before) -> Decimal | None:
    """The change from `before` to `now` in percent (one decimal); None when there was nothing before."""
    if not before:
        return None
    return ((Decimal(now) - Decimal(before)) / Decimal(before) * 100).quantize(Decimal("0.1"))


# --- The daily summary email -----------------------------------------------------------------
SUMMARY_FIGURES = ("net", "orders", "refunds")
SUMMARY_TOP_PRODUCTS = 5


def daily_summary(user, day: datetime.date) -> dict:
    """One day's figures within the user's grants, for the summary email and its preview: net
    sales, orders and refunds with the day before and the same weekday a week earlier, the top
    products and the payment methods' shares. All of it from `sales_rows` over the roll-ups."""
    compared = {"day_before": day - datetime.timedelta(days=1), "week_before": day - datetime.timedelta(days=7)}
    totals = {}
    for name, when in {"day": day, **compared}.items():
        rows = sales_summary(user, when, when, by=("day",))
        totals[name] = rows[0] if rows else {f: 0 if f in ("orders", "quantity") else ZERO for f in SALES_FIGURES}
    figures = [
        {
            "name": name,
            "value": totals["day"][name],
            "day_before": totals["day_before"][name],
            "day_before_change": change_percent(totals["day"][name], totals["day_before"][name]),
            "week_before": totals["week_before"][name],
            "week_before_change": change_percent(totals["day"][name], totals["week_before"][name]),
        }
        for name in SUMMARY_FIGURES
    ]
    query = report_query(date_from=day, date_to=day, by=("product",))
    top = ranking(user, query, dimension="product", limit=SUMMARY_TOP_PRODUCTS)["top"]
    names = labels_for("product", [row["keys"]["product"] for row in top])
    return {
        "day": day,
        **compared,
        "figures": figures,
        "top_products": [
            {"name": names[row["keys"]["product"]], "quantity": row["quantity"], "net": row["net"]} for row in top
        ],
        "payments": [
            {"name": method_label(row["keys"]["method"]), "net": row["net"], "share": row["share"]}
            for row in payment_shares(user, query)
        ],
    }
