"""Keeping the daily roll-ups equal to the raw orders: what one order contributes, the task that
adds an order's change, the nightly check that recomputes a day and repairs it.

What counts (docs/adr/0023-sales-roll-ups.md):
- sales are orders that were paid (`paid_at` set), on the local day and hour they were paid;
  wallet recharges are not sales (the money stays the customer's; what they buy with it is);
- gross = subtotal, discounts = discount_total, refunds = refunded_amount (whenever refunded),
  net = gross − discounts − refunds, cost = Σ line cost snapshot × quantity, fees = Σ fees of the
  succeeded payments; the method is the provider of the order's first succeeded payment;
- per product, the order's discount, refunds and fees are shared by line value (rounded to the
  cent, the remainder on the product with the highest id);
- order counts by status are by the local day the order was created, with its status now.

Concurrency: an order's `OrderRollup` row is locked while its change is added, and the roll-up
rows are incremented by one upsert each, in a fixed order. A day's recompute takes PostgreSQL's
advisory lock on that day exclusively; adding an order's change takes it shared for its days.
"""

from __future__ import annotations

import datetime
import logging
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from reports.models import (
    OrderRollup,
    OrderStatusDay,
    ProductPlaceDay,
    ProductPlaceMonth,
    ProductSalesDay,
    ProductSalesMonth,
    RollupCheck,
    RollupPending,
    SalesDay,
    SalesHour,
    SalesMonth,
    SalesPlaceDay,
    SalesPlaceHour,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
NOT_SALES = ("recharge",)
SALES_FIGURES = ("orders", "quantity", "gross", "discounts", "refunds", "net", "cost", "fees")
STATUS_FIGURES = ("orders", "completed", "completion_seconds")
SALES_KEY = ("region_id", "site_id", "device_id", "kind", "channel", "method")
# table name in the cells -> (model, key columns after `day`, figures)
TABLES = {
    "day": (SalesDay, SALES_KEY, SALES_FIGURES),
    "hour": (SalesHour, (*SALES_KEY, "hour"), SALES_FIGURES),
    "product": (ProductSalesDay, (*SALES_KEY, "product_id"), SALES_FIGURES),
    "status": (OrderStatusDay, ("region_id", "site_id", "device_id", "kind", "channel", "status"), STATUS_FIGURES),
}
# Derived levels (ADR 0028): a table's rows summed by calendar month, or over order kind, channel
# and method ("place"), or both. name -> (model, source table, by month, key columns kept). The
# batches add each change to them too (increments commute); the check and the rebuild recompute
# them from their source.
PLACE_KEY = ("region_id", "site_id", "device_id")
DERIVED = {
    "sales_month": (SalesMonth, "day", True, SALES_KEY),
    "product_month": (ProductSalesMonth, "product", True, (*SALES_KEY, "product_id")),
    "sales_place_day": (SalesPlaceDay, "day", False, PLACE_KEY),
    "sales_place_hour": (SalesPlaceHour, "hour", False, (*PLACE_KEY, "hour")),
    "product_place_day": (ProductPlaceDay, "product", False, (*PLACE_KEY, "product_id")),
    "product_place_month": (ProductPlaceMonth, "product", True, (*PLACE_KEY, "product_id")),
}
INTEGER_COLUMNS = {"region_id", "site_id", "device_id", "hour", "product_id"}
INTEGER_FIGURES = {"orders", "quantity", "completed", "completion_seconds"}
# Namespace of the advisory locks on roll-up days (any constant no other lock uses).
ADVISORY_NAMESPACE = 190023


def cents(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def shares(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """`amount` split by `weights`, rounded to the cent; the last takes what rounding left."""
    if not weights:
        return []
    total = sum(weights, ZERO)
    if total == 0:
        return [ZERO] * (len(weights) - 1) + [amount]
    parts = [cents(amount * weight / total) for weight in weights[:-1]]
    return [*parts, amount - sum(parts, ZERO)]


def report_timezone():
    """Days and hours are the deployment's (TIME_ZONE), whatever time zone a request activated."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(report_timezone())


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware start of `day` and of the next day in the deployment's time zone."""
    tz = report_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


# --- What one order contributes --------------------------------------------------------------
def _key(*parts) -> str:
    return "|".join(str(part) for part in parts)


def _add(cells: dict, day: str, table: str, key: str, figures: list) -> None:
    bucket = cells.setdefault(day, {}).setdefault(table, {})
    if key in bucket:
        bucket[key] = [_plus(a, b) for a, b in zip(bucket[key], figures, strict=True)]
    else:
        bucket[key] = list(figures)


def _plus(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    return str(Decimal(a) + Decimal(b))


def order_cells(order, lines: Iterable, payments: Iterable) -> dict:
    """The order's contribution to every roll-up, by local day and table (JSON-ready)."""
    cells: dict = {}
    created = local(order.created_at)
    paid_at = local(order.paid_at) if order.paid_at else None
    site_id, device_id = order.site_id or 0, order.device_id or 0
    completed = 1 if paid_at and order.completed_at else 0
    seconds = math.floor((order.completed_at - order.paid_at).total_seconds()) if completed else 0
    _add(
        cells,
        created.date().isoformat(),
        "status",
        _key(order.region_id, site_id, device_id, order.kind, order.channel, order.status),
        [1, completed, seconds],
    )
    if paid_at is None or order.kind in NOT_SALES:
        return cells
    succeeded = sorted((p for p in payments if p.status == "succeeded"), key=lambda p: p.pk)
    method = succeeded[0].provider if succeeded else ""
    fees = sum((p.fee for p in succeeded), ZERO)
    lines = list(lines)
    quantity = sum(line.quantity for line in lines)
    cost = sum((line.cost_price * line.quantity for line in lines), ZERO)
    gross, discounts, refunds = order.subtotal, order.discount_total, order.refunded_amount
    net = gross - discounts - refunds
    day = paid_at.date().isoformat()
    base = (order.region_id, site_id, device_id, order.kind, order.channel, method)
    figures = [1, quantity, str(gross), str(discounts), str(refunds), str(net), str(cost), str(fees)]
    _add(cells, day, "day", _key(*base), figures)
    _add(cells, day, "hour", _key(*base, paid_at.hour), figures)
    by_product: dict[int, list] = defaultdict(lambda: [0, ZERO, ZERO])
    for line in lines:
        entry = by_product[line.product_id or 0]
        entry[0] += line.quantity
        entry[1] += line.line_total
        entry[2] += line.cost_price * line.quantity
    products = sorted(by_product)
    weights = [by_product[p][1] for p in products]
    for product_id, discount, refund, fee in zip(
        products, shares(discounts, weights), shares(refunds, weights), shares(fees, weights), strict=True
    ):
        units, value, product_cost = by_product[product_id]
        _add(
            cells,
            day,
            "product",
            _key(*base, product_id),
            [
                1,
                units,
                str(value),
                str(discount),
                str(refund),
                str(value - discount - refund),
                str(product_cost),
                str(fee),
            ],
        )
    return cells


def _orders_with_parts(order_ids: list[int]):
    """Orders with their lines and payments, three queries for the batch."""
    from orders.models import Order, OrderLine, Payment

    lines, payments = defaultdict(list), defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=order_ids).only(
        "order_id", "product_id", "quantity", "cost_price", "line_total"
    ):
        lines[line.order_id].append(line)
    for payment in Payment.objects.filter(order_id__in=order_ids, status="succeeded").only(
        "order_id", "provider", "fee", "status"
    ):
        payments[payment.order_id].append(payment)
    orders = Order.objects.filter(pk__in=order_ids).only(
        "region_id",
        "site_id",
        "device_id",
        "kind",
        "channel",
        "status",
        "subtotal",
        "discount_total",
        "refunded_amount",
        "created_at",
        "paid_at",
        "completed_at",
    )
    return [(order, lines[order.pk], payments[order.pk]) for order in orders]


# --- Writing the roll-ups --------------------------------------------------------------------
def _lock_days(days: Iterable[str], *, exclusive: bool) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite has one writer at a time
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        for day in sorted(set(days)):
            cursor.execute(
                f"SELECT {function}(%s, %s)", [ADVISORY_NAMESPACE, datetime.date.fromisoformat(day).toordinal()]
            )


def _row_values(day: str, table: str, key: str, figures: list) -> list:
    _model, key_columns, _figures = TABLES[table]
    parts = key.split("|")
    values = [datetime.date.fromisoformat(day)]
    for column, part in zip(key_columns, parts, strict=True):
        values.append(int(part) if column in INTEGER_COLUMNS else part)
    return values + [v if isinstance(v, int) else Decimal(v) for v in figures]


def _upsert_sql(table: str) -> str:
    if table in DERIVED:
        model, source, _monthly, key_columns = DERIVED[table]
        figures = TABLES[source][2]
    else:
        model, key_columns, figures = TABLES[table]
    name = model._meta.db_table
    columns = ["day", *key_columns, *figures]
    conflict = ", ".join(["day", *key_columns])
    updates = ", ".join(f"{f} = {name}.{f} + excluded.{f}" for f in figures)
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )


def _derive(name: str, rows: dict) -> dict:
    """{(day, key): figures} of a source table as the derived level `name` sums them."""
    _model, source, monthly, kept = DERIVED[name]
    columns = TABLES[source][1]
    positions = [columns.index(column) for column in kept]
    out: dict = {}
    for (day, key), figures in rows.items():
        parts = key.split("|")
        cell = (day[:8] + "01" if monthly else day, _key(*(parts[i] for i in positions)))
        out[cell] = [_plus(a, b) for a, b in zip(out[cell], figures, strict=True)] if cell in out else figures
    return out


def _derived_values(name: str, day: str, key: str, figures: list) -> list:
    values = [datetime.date.fromisoformat(day)]
    for column, part in zip(DERIVED[name][3], key.split("|"), strict=True):
        values.append(int(part) if column in INTEGER_COLUMNS else part)
    return values + [v if isinstance(v, int) else Decimal(v) for v in figures]


def _apply_days(deltas: dict) -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            rows = deltas.get(table)
            if rows:
                cursor.executemany(
                    _upsert_sql(table),
                    [_row_values(day, table, key, figures) for (day, key), figures in sorted(rows.items())],
                )


def _apply(deltas: dict) -> None:
    """Add `deltas` ({table: {(day, key): figures}}) to the roll-ups and their months, tables and
    keys in order."""
    _apply_days(deltas)
    with connection.cursor() as cursor:
        for name, (_model, source, _monthly, _kept) in DERIVED.items():
            rows = deltas.get(source)
            if rows:
                cursor.executemany(
                    _upsert_sql(name),
                    [
                        _derived_values(name, day, key, figures)
                        for (day, key), figures in sorted(_derive(name, rows).items())
                    ],
                )


def derived_recompute(*, days: Iterable[datetime.date], months: Iterable[datetime.date]) -> None:
    """The derived levels' rows of `days` (daily levels) and `months` (monthly levels) become the
    sums of their source rows (the check and the rebuild; the caller holds those days and every
    day of those months)."""
    from django.db.models import Sum
    from django.db.models.functions import TruncMonth

    days, months = sorted(set(days)), sorted(set(months))
    for _name, (model, source, monthly, kept) in DERIVED.items():
        periods = months if monthly else days
        if not periods:
            continue
        source_model, _columns, figures = TABLES[source]
        if monthly:
            after = (periods[-1] + datetime.timedelta(days=31)).replace(day=1)
        else:
            after = periods[-1] + datetime.timedelta(days=1)
        if connection.vendor == "postgresql":
            columns = ", ".join(kept)
            period = "date_trunc('month', day)::date" if monthly else "day"
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE day = ANY(%s)", [periods])
                cursor.execute(
                    f"INSERT INTO {model._meta.db_table} (day, {columns}, {', '.join(figures)}) "
                    f"SELECT {period}, {columns}, {', '.join(f'sum({f})' for f in figures)} "
                    f"FROM {source_model._meta.db_table} WHERE day >= %s AND day < %s AND {period} = ANY(%s) "
                    f"GROUP BY 1, {columns}",
                    [periods[0], after, periods],
                )
            continue
        model.objects.filter(day__in=periods).delete()
        rows = source_model.objects.order_by()
        if monthly:
            rows = rows.filter(day__gte=periods[0], day__lt=after)
            rows = rows.annotate(period=TruncMonth("day")).filter(period__in=periods)
        else:
            rows = rows.filter(day__in=periods).annotate(period=F("day"))
        grouped = rows.values("period", *kept).annotate(**{f"s_{f}": Sum(f) for f in figures})
        model.objects.bulk_create(
            [
                model(day=_as_date(row["period"]), **{k: row[k] for k in kept}, **{f: row[f"s_{f}"] for f in figures})
                for row in grouped
            ],
            batch_size=5000,
        )


def _as_date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def _flatten(cells: dict) -> dict:
    """{table: {(day, key): figures}}"""
    flat: dict = defaultdict(dict)
    for day, tables in cells.items():
        for table, rows in tables.items():
            for key, figures in rows.items():
                flat[table][(day, key)] = figures
    return flat


def _minus(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return str(Decimal(a) - Decimal(b))


def _difference(old: dict, new: dict) -> dict:
    old_flat, new_flat = _flatten(old), _flatten(new)
    deltas: dict = {}
    for table in TABLES:
        before, after = old_flat.get(table, {}), new_flat.get(table, {})
        width = len(TABLES[table][2])
        for cell in set(before) | set(after):
            delta = [
                _minus(a, b) for a, b in zip(after.get(cell, [0] * width), before.get(cell, [0] * width), strict=True)
            ]
            if any(Decimal(value) != 0 for value in delta):
                deltas.setdefault(table, {})[cell] = delta
    return deltas


def order_rollup(*, order_id: int) -> bool:
    """Bring the roll-ups up to date with one order, whatever changed and however often this runs.
    Returns whether anything was added.

    Locks in one order, as the day check does: the days (shared), then the order's OrderRollup
    row. The days are those the order touched before and the ones it touches now."""
    from orders.models import Order

    with transaction.atomic():
        OrderRollup.objects.bulk_create([OrderRollup(order_id=order_id)], ignore_conflicts=True)
        before = OrderRollup.objects.filter(order_id=order_id).values_list("cells", flat=True).first() or {}
        stamps = Order.objects.filter(pk=order_id).values_list("created_at", "paid_at").first() or ()
        days = set(before) | {local(stamp).date().isoformat() for stamp in stamps if stamp}
        _lock_days(days, exclusive=False)
        state = OrderRollup.objects.select_for_update().get(order_id=order_id)
        found = _orders_with_parts([order_id])
        new = order_cells(*found[0]) if found else {}
        old = state.cells or {}
        late = (set(old) | set(new)) - days
        if late:
            _lock_days(late, exclusive=False)  # the order was paid or checked just now
        deltas = _difference(old, new)
        if not deltas:
            return False
        _apply(deltas)
        state.cells = new
        state.save(update_fields=["cells", "updated_at"])
    return True


# --- Batches of changed orders ----------------------------------------------------------------
PENDING_BATCH = 500
# The order fields a roll-up depends on: read with the batch, and again just before it commits,
# to see which orders changed meanwhile (their listener found the pending row still there).
FINGERPRINT = (
    "updated_at",
    "status",
    "region_id",
    "site_id",
    "device_id",
    "kind",
    "channel",
    "subtotal",
    "discount_total",
    "refunded_amount",
    "paid_at",
    "completed_at",
)


def rollup_mark(order_id: int) -> None:
    """Note that the order changed: one insert, nothing when it is already waiting."""
    from django.utils import timezone

    table = RollupPending._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (order_id, changed_at) VALUES (%s, %s) ON CONFLICT (order_id) DO NOTHING",
            [order_id, connection.ops.adapt_datetimefield_value(timezone.now())],
        )


def rollup_on_order_changed(change) -> None:
    """Orders listener (after commit): the order waits for the next batch (`rollup_pending`)."""
    rollup_mark(change.order_id)


def _fingerprints(order_ids: list[int]) -> dict[int, tuple]:
    from orders.models import Order

    return {
        row[0]: row[1:] for row in Order.objects.filter(pk__in=order_ids).order_by().values_list("pk", *FINGERPRINT)
    }


def rollup_pending_batch(*, limit: int = PENDING_BATCH) -> int:
    """Roll up at most `limit` waiting orders in one transaction; returns how many were taken.

    PostgreSQL: the pending rows are taken with FOR UPDATE SKIP LOCKED, so batch workers running
    at once take different orders; each takes the days' advisory locks shared, then its orders'
    `OrderRollup` rows in id order, and adds the batch's summed differences in (table, day, key)
    order, so two batches neither double count nor deadlock. The pending rows are deleted before
    commit; an order that changed after it was read (its listener found the row and wrote
    nothing) is marked again in the same transaction, and a listener arriving after the delete
    waits for the commit and inserts a fresh row."""
    from orders.models import Order

    table = RollupPending._meta.db_table
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT order_id FROM {table} ORDER BY order_id LIMIT %s{skip_locked}", [limit])
            ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        OrderRollup.objects.bulk_create([OrderRollup(order_id=pk) for pk in ids], ignore_conflicts=True)
        before = dict(OrderRollup.objects.filter(order_id__in=ids).values_list("order_id", "cells"))
        days = {day for cells in before.values() for day in (cells or {})}
        for stamps in Order.objects.filter(pk__in=ids).values_list("created_at", "paid_at"):
            days |= {local(stamp).date().isoformat() for stamp in stamps if stamp}
        _lock_days(days, exclusive=False)
        states = {
            state.order_id: state
            for state in OrderRollup.objects.select_for_update().filter(order_id__in=ids).order_by("order_id")
        }
        seen = _fingerprints(ids)
        found = {order.pk: (order, lines, payments) for order, lines, payments in _orders_with_parts(ids)}
        total: dict = {}
        changed = []
        late: set[str] = set()
        for pk in ids:
            state = states[pk]
            new = order_cells(*found[pk]) if pk in found else {}
            old = state.cells or {}
            late |= (set(old) | set(new)) - days
            deltas = _difference(old, new)
            if not deltas:
                continue
            for name, rows in deltas.items():
                bucket = total.setdefault(name, {})
                for cell, figures in rows.items():
                    bucket[cell] = (
                        [_plus(a, b) for a, b in zip(bucket[cell], figures, strict=True)] if cell in bucket else figures
                    )
            state.cells = new
            changed.append(state)
        if late:
            _lock_days(late, exclusive=False)  # orders paid or checked just now
        _apply(total)
        OrderRollup.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["order_id"], update_fields=["cells", "updated_at"]
        )
        RollupPending.objects.filter(order_id__in=ids).delete()
        now = _fingerprints(ids)
        again = [pk for pk in ids if now.get(pk) != seen.get(pk)]
        for pk in again:
            rollup_mark(pk)
    return len(ids)


def rollup_pending(*, limit: int = PENDING_BATCH, max_batches: int | None = None) -> int:
    """Roll up waiting orders batch after batch until none wait (or `max_batches`); returns how
    many were taken."""
    taken = batches = 0
    while max_batches is None or batches < max_batches:
        count = rollup_pending_batch(limit=limit)
        taken += count
        batches += 1
        if count < limit:
            break
    return taken


# --- Checking and repairing a day ------------------------------------------------------------
BATCH = 2000


def _orders_of_day(day: datetime.date) -> list[int]:
    from django.db.models import Q

    from orders.models import Order

    start, end = day_bounds(day)
    return list(
        Order.objects.filter(Q(created_at__gte=start, created_at__lt=end) | Q(paid_at__gte=start, paid_at__lt=end))
        .order_by()
        .values_list("pk", flat=True)
    )


def _stored_rows(day: datetime.date) -> dict:
    stored: dict = {}
    for table, (model, key_columns, figures) in TABLES.items():
        rows = {}
        for values in model.objects.filter(day=day).values_list(*key_columns, *figures):
            key = _key(*values[: len(key_columns)])
            numbers = [v if isinstance(v, int) else str(cents(v)) for v in values[len(key_columns) :]]
            if any(Decimal(n) != 0 for n in numbers):
                rows[key] = numbers
        stored[table] = rows
    return stored


def _same(a: list, b: list) -> bool:
    return all(Decimal(x) == Decimal(y) for x, y in zip(a, b, strict=True))


def rollup_check_day(*, day: datetime.date, trigger: str = "nightly") -> RollupCheck:
    """Recompute `day` from the raw orders, replace the roll-ups' rows of that day where they
    differ, and record (and, from the nightly job, announce) what differed. Set-based SQL on
    PostgreSQL (reports.rollups_sql), order by order elsewhere; the figures are the same."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            check = _check_day_python(day=day, trigger=trigger)
            derived_recompute(days=[day], months=[day.replace(day=1)])
        return check
    return _check_range_sql(date_from=day, date_to=day, trigger=trigger)[0]


def _check_range_sql(*, date_from: datetime.date, date_to: datetime.date, trigger: str) -> list[RollupCheck]:
    """Check the days of a range within one calendar month by set-based SQL in one transaction.
    Every day of that month is locked, and the derived levels are recomputed afterwards for the
    range's days and for the month (a month row is right even when only the daily rows had been
    wrong)."""
    from reports.rollups_sql import check_range

    days = [date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    first = date_from.replace(day=1)
    following = (first + datetime.timedelta(days=31)).replace(day=1)
    assert date_to < following, "one calendar month at a time"
    locked = [first + datetime.timedelta(days=n) for n in range((following - first).days)]
    with transaction.atomic():
        _lock_days([d.isoformat() for d in locked], exclusive=True)
        checks = RollupCheck.objects.bulk_create(
            RollupCheck(
                day=found["day"],
                orders=found["orders"],
                differences=found["differences"],
                details=found["details"],
                trigger=trigger,
            )
            for found in check_range(date_from=date_from, date_to=date_to)
        )
        derived_recompute(days=days, months=[first])
    for check in checks:
        if check.differences:
            logger.warning("Roll-ups of %s differed from the orders in %d rows; repaired", check.day, check.differences)
            if trigger == "nightly":
                transaction.on_commit(lambda check=check: rollup_alert(check=check))
    return checks


def _check_day_python(*, day: datetime.date, trigger: str) -> RollupCheck:
    """`rollup_check_day` order by order in Python (SQLite)."""
    iso = day.isoformat()
    with transaction.atomic():
        _lock_days([iso], exclusive=True)
        order_ids = _orders_of_day(day)
        expected: dict = {table: {} for table in TABLES}
        fresh: dict[int, dict] = {}
        for offset in range(0, len(order_ids), BATCH):
            for order, lines, payments in _orders_with_parts(order_ids[offset : offset + BATCH]):
                cells = order_cells(order, lines, payments).get(iso, {})
                fresh[order.pk] = cells
                for table, rows in cells.items():
                    for key, figures in rows.items():
                        bucket = expected[table]
                        bucket[key] = (
                            [_plus(a, b) for a, b in zip(bucket[key], figures, strict=True)]
                            if key in bucket
                            else list(figures)
                        )
        expected = {
            t: {k: v for k, v in rows.items() if any(Decimal(n) != 0 for n in v)} for t, rows in expected.items()
        }
        stored = _stored_rows(day)
        details = []
        for table in TABLES:
            want, have = expected[table], stored[table]
            for key in sorted(set(want) | set(have)):
                if key not in have or key not in want or not _same(want[key], have[key]):
                    details.append({"table": table, "key": key, "expected": want.get(key), "stored": have.get(key)})
        if details:
            _replace_day(day, expected)
        _remember(iso, fresh)
        check = RollupCheck.objects.create(
            day=day, orders=len(order_ids), differences=len(details), details=details[:200], trigger=trigger
        )
    if details:
        logger.warning("Roll-ups of %s differed from the orders in %d rows; repaired", iso, len(details))
        if trigger == "nightly":
            transaction.on_commit(lambda: rollup_alert(check=check))
    return check


def _replace_day(day: datetime.date, expected: dict) -> None:
    for model, _key_columns, _figures in TABLES.values():
        model.objects.filter(day=day).delete()
    _apply_days({table: {(day.isoformat(), key): v for key, v in rows.items()} for table, rows in expected.items()})


def _remember(iso: str, fresh: dict[int, dict]) -> None:
    """Each order's stored contribution to `iso` becomes what was just computed (one upsert per
    batch; the day's exclusive lock keeps the orders' tasks out meanwhile)."""
    ids = sorted(fresh)
    for offset in range(0, len(ids), BATCH):
        batch = ids[offset : offset + BATCH]
        stored = dict(
            OrderRollup.objects.select_for_update()
            .filter(order_id__in=batch)
            .order_by("order_id")
            .values_list("order_id", "cells")
        )
        changed = []
        for pk in batch:
            before = stored.get(pk)
            cells = dict(before or {})
            if fresh[pk]:
                cells[iso] = fresh[pk]
            else:
                cells.pop(iso, None)
            if before is None or cells != before:
                changed.append(OrderRollup(order_id=pk, cells=cells))
        OrderRollup.objects.bulk_create(
            changed, update_conflicts=True, unique_fields=["order_id"], update_fields=["cells", "updated_at"]
        )


def rollup_rebuild(*, date_from: datetime.date, date_to: datetime.date, trigger: str = "rebuild") -> list[RollupCheck]:
    """Check and repair every day of a range (the management command), then recompute the
    months it touches from their days: on PostgreSQL a calendar month a transaction by set-based
    SQL, elsewhere day by day."""
    checks = []
    if connection.vendor == "postgresql":
        start = date_from
        while start <= date_to:
            following = (start.replace(day=1) + datetime.timedelta(days=31)).replace(day=1)
            end = min(date_to, following - datetime.timedelta(days=1))
            checks.extend(_check_range_sql(date_from=start, date_to=end, trigger=trigger))
            start = following
        return checks
    day = date_from
    while day <= date_to:
        checks.append(rollup_check_day(day=day, trigger=trigger))
        day += datetime.timedelta(days=1)
    return checks


def rollup_alert(*, check: RollupCheck) -> None:
    """Tell the platform administrators that a day's figures had to be repaired."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from core.services import notification_send
    from staff.roles import PLATFORM_ADMIN

    User = get_user_model()
    admins = Q(is_superuser=True) | Q(groups__name=PLATFORM_ADMIN)
    recipients = User.objects.filter(is_active=True).filter(admins).distinct()
    for user in recipients:
        notification_send(template="rollup_repaired", recipient=user, context={"check": check})
