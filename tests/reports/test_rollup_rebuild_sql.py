"""The set-based rebuild on PostgreSQL (reports.rollups_sql, ADR 0028) gives exactly what the
orders' own roll-ups added (reports.rollups.order_cells): every roll-up row and every order's
stored contribution, with discounts, a partial and a full refund, card fees, an unpaid order and
a day with no sales; and it repairs what it finds wrong, through the rebuild command."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from reports.models import OrderRollup, OrderStatusDay, ProductSalesDay, RollupCheck, SalesDay, SalesHour
from reports.rollups import _check_day_python, rollup_check_day
from tests.reports.history import build_history, sql_sales

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
FIELDS = {
    SalesDay: ("region_id", "site_id", "device_id", "kind", "channel", "method"),
    SalesHour: ("region_id", "site_id", "device_id", "kind", "channel", "method", "hour"),
    ProductSalesDay: ("region_id", "site_id", "device_id", "kind", "channel", "method", "product_id"),
    OrderStatusDay: ("region_id", "site_id", "device_id", "kind", "channel", "status"),
}


@pytest.fixture
def history(world, django_capture_on_commit_callbacks):
    return build_history(world, django_capture_on_commit_callbacks)


def _rows():
    snapshot = {}
    for model, keys in FIELDS.items():
        figures = [f.name for f in model._meta.concrete_fields if f.name not in {"id", "day", *keys}]
        snapshot[model.__name__] = sorted(
            model.objects.exclude(orders=0).values_list("day", *keys, *figures), key=lambda row: tuple(map(str, row))
        )
    return snapshot


def _cells():
    return dict(OrderRollup.objects.values_list("order_id", "cells"))


def test_the_set_based_rebuild_equals_the_incremental_roll_ups(history):
    incremental_rows, incremental_cells = _rows(), _cells()
    assert incremental_rows["SalesDay"] and incremental_rows["ProductSalesDay"]
    assert any(row[0] == history.d2 and row[5] for row in incremental_rows["SalesDay"])  # refunds on d2
    # Nothing to repair: the SQL computes the same rows as the orders added, day by day and as a range.
    call_command("reports_rebuild", (history.d1 - datetime.timedelta(days=1)).isoformat(), history.d4.isoformat())
    checks = RollupCheck.objects.filter(trigger="rebuild").order_by("day")
    assert [c.day for c in checks] == [
        history.d1 - datetime.timedelta(days=1),
        history.d1,
        history.d2,
        history.d3,
        history.d4,
    ]
    assert [c.differences for c in checks] == [0, 0, 0, 0, 0]
    assert {c.day: c.orders for c in checks}[history.d3] == 0  # the day with no sales
    assert {c.day: c.orders for c in checks}[history.d1] == 2
    assert _rows() == incremental_rows
    assert _cells() == incremental_cells  # each order's stored contribution, to the character


def test_the_set_based_rebuild_repairs_and_restores_what_the_orders_added(history):
    incremental_rows, incremental_cells = _rows(), _cells()
    SalesDay.objects.filter(day=history.d1).update(net=0)
    ProductSalesDay.objects.filter(day=history.d2).delete()
    SalesHour.objects.create(
        day=history.d3, region_id=history.orders[0].region_id, kind="counter", channel="counter", hour=3, orders=1
    )
    OrderRollup.objects.all().delete()
    call_command("reports_rebuild", history.d1.isoformat(), history.d4.isoformat())
    differing = dict(RollupCheck.objects.values_list("day", "differences"))
    assert differing[history.d1] > 0 and differing[history.d2] > 0 and differing[history.d3] == 1
    assert differing[history.d4] == 0
    details = RollupCheck.objects.get(day=history.d3).details
    assert details == [{"table": "hour", "key": details[0]["key"], "expected": None, "stored": details[0]["stored"]}]
    assert _rows() == incremental_rows
    assert _cells() == incremental_cells


def test_the_python_check_and_the_sql_check_agree_on_a_broken_day(history):
    SalesDay.objects.filter(day=history.d2).update(fees=1)
    by_sql = rollup_check_day(day=history.d2, trigger="rebuild")
    SalesDay.objects.filter(day=history.d2).update(fees=1)
    by_python = _check_day_python(day=history.d2, trigger="rebuild")
    assert by_sql.differences == by_python.differences > 0
    assert by_sql.orders == by_python.orders
    assert [d["key"] for d in by_sql.details] == [d["key"] for d in by_python.details]


def _months_and_their_days():
    """Each derived level (reports.rollups.DERIVED) as stored and as its source rows summed."""
    from django.db.models import F, Sum
    from django.db.models.functions import TruncMonth

    from reports.rollups import DERIVED, TABLES

    out = []
    for model, source, monthly, kept in DERIVED.values():
        source_model, _columns, figures = TABLES[source]
        summed = sorted(
            (row["period"], *(row[k] for k in kept), *(row[f"s_{f}"] for f in figures))
            for row in source_model.objects.annotate(period=TruncMonth("day") if monthly else F("day"))
            .values("period", *kept)
            .annotate(**{f"s_{f}": Sum(f) for f in figures})
            if row["s_orders"]
        )
        stored = sorted(model.objects.exclude(orders=0).values_list("day", *kept, *figures))
        out.append((stored, summed))
    return out


def test_monthly_and_place_levels_are_their_sources_summed_after_batches_checks_and_rebuilds(world, history, client):
    from django.urls import reverse

    from reports.models import ProductPlaceDay, SalesMonth

    for stored, summed in _months_and_their_days():
        assert stored and stored == summed  # kept by the batches' increments
    # Only the daily rows were wrong: the check repairs them and the month stays right.
    SalesDay.objects.filter(day=history.d1).update(net=0)
    assert rollup_check_day(day=history.d1, trigger="rebuild").differences > 0
    for stored, summed in _months_and_their_days():
        assert stored == summed
    # Only the month was wrong: the check recomputes it from its days, and so does the rebuild.
    SalesMonth.objects.update(net=0)
    ProductPlaceDay.objects.filter(day=history.d4).update(quantity=0)
    rollup_check_day(day=history.d4, trigger="rebuild")
    for stored, summed in _months_and_their_days():
        assert stored == summed
    SalesMonth.objects.all().delete()
    ProductPlaceDay.objects.all().delete()
    call_command("reports_rebuild", history.d1.isoformat(), history.d4.isoformat())
    for stored, summed in _months_and_their_days():
        assert stored == summed
    # A report over whole months reads the months and shows what the days hold.
    first = history.d1.replace(day=1)
    last = (first + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1)
    client.force_login(world.admin)
    response = client.get(
        reverse("reports:sales"), {"date_from": first, "date_to": last, "by": "site", "format": "json"}
    )
    assert response.status_code == 200
    shown = {row[0]: row[1:7] for row in response.json()["sections"][0]["rows"] if row[1]}
    expected = sql_sales(("site",), first, last)
    assert shown and {
        site: [v if isinstance(v, int) else Decimal(v) for v in figures] for site, figures in shown.items()
    } == {key[0]: value for key, value in expected.items()}
    # by product (the place levels) and by product and method (the full ones), whole month and not
    for by, then, date_from in (("product", "", first), ("product", "method", first), ("product", "", history.d1)):
        response = client.get(
            reverse("reports:sales"),
            {"date_from": date_from, "date_to": last, "by": by, "then": then, "format": "json"},
        )
        assert response.status_code == 200, (by, then)
        rows = response.json()["sections"][0]["rows"]
        assert rows, (by, then)
        if not then:
            shown = {row[0]: [v if isinstance(v, int) else Decimal(v) for v in row[1:7]] for row in rows if row[1]}
            expected = sql_sales(("product",), date_from, last)
            assert shown == {key[0]: value for key, value in expected.items()}
