"""Every sales figure a report shows, per dimension and period, equals hand-written SQL over the
raw orders, lines and payments: discounts, card fees, a partial and a full refund, an unpaid order
and a day without sales included. The figures are read through the report pages' JSON door; the
roll-ups behind them were kept by the order events alone (on PostgreSQL)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Channel, OrderKind
from reports.selectors import method_label
from tests.reports.history import build_history, sql_profit, sql_sales, sql_statuses

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LABELS = {"kind": dict(OrderKind.choices), "channel": dict(Channel.choices)}


@pytest.fixture
def history(world, django_capture_on_commit_callbacks):
    return build_history(world, django_capture_on_commit_callbacks)


def _json(client, user, slug, **params):
    client.force_login(user)
    response = client.get(reverse(f"reports:{slug}"), {"format": "json", **params}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def _labelled(dimension, key):
    if dimension in LABELS:
        return str(LABELS[dimension].get(key, key))
    if dimension == "method":
        return method_label(key)
    return key


def _report_figures(payload, n_keys, width=6):
    rows = payload["sections"][0]["rows"]
    return {
        tuple(row[:n_keys]): [Decimal(v) if isinstance(v, str) else v for v in row[n_keys : n_keys + width]]
        for row in rows
        if row[n_keys]  # buckets without orders are compared separately
    }


def _sql_labelled(by, figures):
    return {tuple(_labelled(d, k) for d, k in zip(by, key, strict=True)): v for key, v in figures.items()}


SINGLE = ["day", "week", "month", "year", "hour", "machine", "product", "category", "brand", "site", "region"]
SINGLE += ["kind", "channel", "method"]
PAIRS = [("product", "site"), ("day", "method"), ("category", "machine"), ("region", "channel")]


@pytest.mark.parametrize("by", [(d,) for d in SINGLE] + PAIRS, ids=lambda by: "x".join(by))
def test_sales_by_dimension_equal_sql(client, world, history, by):
    start, end = history.d1, history.d4
    params = {"date_from": start, "date_to": end, "by": by[0]}
    if len(by) > 1:
        params["then"] = by[1]
    payload = _json(client, world.admin, "sales", **params)
    expected = _sql_labelled(by, sql_sales(by, start, end))
    assert expected, "the history has sales"
    assert _report_figures(payload, len(by)) == expected


def test_a_day_without_sales_is_shown_as_zero_beside_the_others(client, world, history):
    payload = _json(client, world.admin, "sales", date_from=history.d1, date_to=history.d4, by="day")
    rows = {row[0]: row for row in payload["sections"][0]["rows"]}
    assert list(rows) == [d.isoformat() for d in (history.d1, history.d2, history.d3, history.d4)]
    assert rows[history.d3.isoformat()][1:7] == [0, 0, "0.00", "0.00", "0.00", "0.00"]


def test_previous_period_and_last_year_columns(client, world, history):
    # d2..d4 against the three days before (d1 has sales; the two before it none).
    payload = _json(client, world.admin, "sales", date_from=history.d2, date_to=history.d4, by="day")
    rows = payload["sections"][0]["rows"]
    previous = [Decimal(row[7]) for row in rows]
    d1_net = sql_sales(("day",), history.d1, history.d1)[(history.d1.isoformat(),)][5]
    assert previous == [Decimal("0.00"), Decimal("0.00"), d1_net]
    assert all(Decimal(row[9]) == 0 for row in rows)  # a year ago: nothing


@pytest.mark.parametrize("by", ["site", "machine", "product", "day"])
def test_profit_equals_sql(client, world, history, by):
    payload = _json(client, world.admin, "profit", date_from=history.d1, date_to=history.d4, by=by)
    shown = {
        (row[0],): [Decimal(row[1]), Decimal(row[2]), Decimal(row[3]), Decimal(row[5])]
        for row in payload["sections"][0]["rows"]
        if Decimal(row[1]) or Decimal(row[2])
    }
    assert shown == _sql_labelled((by,), sql_profit((by,), history.d1, history.d4))
    assert all(row[4] == "0.00" for row in payload["sections"][0]["rows"])  # commissions: not yet


def test_payment_method_shares_equal_sql(client, world, history):
    payload = _json(client, world.admin, "payments", date_from=history.d1, date_to=history.d4)
    rows = {row[0]: (row[1], Decimal(row[2])) for row in payload["sections"][0]["rows"]}
    expected = sql_sales(("method",), history.d1, history.d4)
    assert rows == {method_label(k[0]): (v[0], v[5]) for k, v in expected.items()}
    assert sum(Decimal(row[4]) for row in payload["sections"][0]["rows"]) == pytest.approx(Decimal("100"), abs=0.2)


def test_heat_map_counts_orders_per_weekday_and_hour(client, world, history):
    payload = _json(client, world.admin, "heatmap", date_from=history.d1, date_to=history.d4)
    grid = {(row[0], hour): value for row in payload["sections"][0]["rows"] for hour, value in enumerate(row[1:])}
    expected = sql_sales(("day", "hour"), history.d1, history.d4)
    weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    totals = {}
    for (day, hour), figures in expected.items():
        import datetime

        weekday = weekdays[datetime.date.fromisoformat(day).weekday()]
        totals[(weekday, int(hour[:2]))] = totals.get((weekday, int(hour[:2])), 0) + figures[0]
    assert {k: v for k, v in grid.items() if v} == totals


def test_orders_by_status_and_completion_time_equal_sql(client, world, history):
    payload = _json(client, world.admin, "statuses", date_from=history.d1, date_to=history.d4)
    section = payload["sections"][0]
    headers = section["headers"]
    expected = sql_statuses(history.d1, history.d4)
    from orders.models import OrderStatus

    codes = [code for code, _label in OrderStatus.choices]
    for row in section["rows"]:
        day = row[0]
        for i, code in enumerate(codes):
            assert row[1 + i] == expected.get((day, code), (0, 0, 0))[0], (day, code, headers)
        seconds = sum(v[1] for (d, _s), v in expected.items() if d == day)
        completed = sum(v[2] for (d, _s), v in expected.items() if d == day)
        average = (Decimal(seconds) / completed / 60).quantize(Decimal("0.1")) if completed else None
        assert (Decimal(row[-1]) if row[-1] is not None else None) == average
    d1 = next(row for row in section["rows"] if row[0] == history.d1.isoformat())
    assert d1[-1] == "32.0"  # o1: paid 10:15, completed 10:47


def test_a_supplier_sees_their_own_products_only(client, world, history):
    payload = _json(client, world.supplier_user, "sales", date_from=history.d1, date_to=history.d4, by="product")
    shown = {row[0] for row in payload["sections"][0]["rows"]}
    assert shown == {"Cola", "Gift card"}
    expected = _sql_labelled(("product",), sql_sales(("product",), history.d1, history.d4))
    assert _report_figures(payload, 1) == {k: v for k, v in expected.items() if k[0] in shown}
    client.force_login(world.supplier_user)
    assert client.get(reverse("reports:payments")).status_code == 403
    assert client.get(reverse("reports:profit")).status_code == 403
