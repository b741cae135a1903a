"""The payments and refunds API lists page by cursor like the orders (ADR 0025): every row once,
in order, while new payments arrive; `?page=` and `?offset=` are a clear 400, as is a broken
cursor or an unknown ordering; a regional administrator pages through their region only."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Payment, Refund
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _payments(n, *, site, at, step=datetime.timedelta(0)):
    """`n` paid orders whose payments (and a refund each) share `at` or step back from it."""
    payments, refunds = [], []
    for i in range(n):
        order = make_order(site=site, total=Decimal("4.00") + i, paid=True)
        payment = order.payments.get()
        payments.append(payment)
        refunds.append(
            Refund.objects.create(
                order=order, payment=payment, amount=Decimal("1.00") + i % 3, status="succeeded", reason="test"
            )
        )
    for i, (payment, refund) in enumerate(zip(payments, refunds, strict=True)):
        payment.created_at = refund.created_at = at - step * i
    Payment.objects.bulk_update(payments, ["created_at"])
    Refund.objects.bulk_update(refunds, ["created_at"])
    return payments, refunds


def _walk(api_client, url, params, *, between=None):
    seen, response = [], api_client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) >= {"count", "count_exact", "next", "previous", "results"}
        seen.extend(row["id"] for row in body["results"])
        if between:
            between()
        if not body["next"]:
            return seen
        response = api_client.get(body["next"])


@pytest.mark.parametrize("url", ["/api/v1/payments/", "/api/v1/refunds/"])
def test_payments_and_refunds_page_by_cursor_without_losing_or_repeating_a_row(world, api_client, url):
    at = timezone.now() - datetime.timedelta(hours=1)
    tied = _payments(6, site=world.east_store, at=at)  # ties on created_at: the id breaks them
    stepped = _payments(
        9, site=world.west_store, at=at - datetime.timedelta(minutes=5), step=datetime.timedelta(seconds=1)
    )
    model = Payment if "payments" in url else Refund
    existing = [row.pk for rows in (tied, stepped) for row in (rows[0] if model is Payment else rows[1])]
    api_client.force_authenticate(world.admin)
    seen = _walk(
        api_client,
        url,
        {"limit": 4},
        between=lambda: _payments(1, site=world.east_store, at=timezone.now()),
    )
    assert len(seen) == len(set(seen)), "no row twice"
    assert set(existing) <= set(seen), "no row missing"
    stamps = list(model.objects.filter(pk__in=existing).values_list("created_at", "pk"))
    order = {pk: i for i, pk in enumerate(seen)}
    assert sorted(stamps, key=lambda s: order[s[1]]) == sorted(stamps, reverse=True), "newest first, then id"
    # previous gives the same page back
    first = api_client.get(url, {"limit": 4}).json()
    second = api_client.get(first["next"]).json()
    back = api_client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    # another ordering pages through the same rows, sorted by it
    by_amount = _walk(api_client, url, {"limit": 5, "ordering": "amount"})
    assert sorted(by_amount) == sorted(model.objects.values_list("pk", flat=True))
    amounts = [model.objects.get(pk=pk).amount for pk in by_amount]
    assert amounts == sorted(amounts)


@pytest.mark.parametrize("url", ["/api/v1/payments/", "/api/v1/refunds/"])
def test_page_offset_bad_cursor_and_ordering_are_clear_400s(world, api_client, url):
    _payments(2, site=world.east_store, at=timezone.now())
    api_client.force_authenticate(world.admin)
    for params in ({"page": 2}, {"offset": 50}):
        response = api_client.get(url, params)
        assert response.status_code == 400
        assert "cursor" in str(response.json())
    assert "cursor" in api_client.get(url, {"cursor": "not-a-cursor"}).json()
    assert "ordering" in api_client.get(url, {"ordering": "reason"}).json()
    assert api_client.get(url, {"limit": 100000}).status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/payments/", "/api/v1/refunds/"])
def test_a_regional_administrator_pages_through_their_region_only(world, api_client, url):
    east, east_refunds = _payments(5, site=world.east_store, at=timezone.now())
    _payments(4, site=world.west_store, at=timezone.now())
    api_client.force_authenticate(world.regional)
    seen = _walk(api_client, url, {"limit": 2})
    expected = east if "payments" in url else east_refunds
    assert sorted(seen) == sorted(row.pk for row in expected)
    filtered = api_client.get(url, {"order": expected[0].order_id}).json()
    assert [row["id"] for row in filtered["results"]] == [expected[0].pk]


@pytest.mark.postgres
@pytest.mark.parametrize("url", ["/api/v1/payments/", "/api/v1/refunds/"])
def test_a_regional_list_past_the_bound_is_counted_by_the_planner_not_through_the_order_join(
    world, api_client, url, monkeypatch
):
    """A regional administrator's list is filtered through the order's region: the planner's
    estimate stands in for a count that would read the table through that join (ADR 0025); a
    list the planner expects to be small (one order's) is still counted exactly."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    east, east_refunds = _payments(30, site=world.east_store, at=timezone.now())
    _payments(10, site=world.west_store, at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order, orders_payment, orders_refund, core_region, core_site")
    monkeypatch.setattr("core.pagination.COUNT_LIMIT", 3)
    table = "orders_payment" if "payments" in url else "orders_refund"
    api_client.force_authenticate(world.regional)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get(url, {"limit": 5}).json()
    assert body["count_estimated"] is True and body["count_exact"] is False
    assert body["count"] > 3
    assert not any("COUNT(" in q["sql"].upper() and table in q["sql"] for q in queries.captured_queries)
    expected = east if "payments" in url else east_refunds
    assert {row["id"] for row in body["results"]} <= {row.pk for row in expected}, "still the region's rows only"
    one = api_client.get(url, {"order": expected[0].order_id}).json()
    assert (one["count"], one["count_exact"], one["count_estimated"]) == (1, True, False)
    # the platform administrator's unfiltered list is unchanged: counted up to the bound
    api_client.force_authenticate(world.admin)
    every = api_client.get(url).json()
    assert (every["count"], every["count_exact"], every["count_estimated"]) == (3, False, False)


def test_without_a_planner_estimate_a_regional_list_is_counted_up_to_the_bound(world, api_client, monkeypatch):
    """What SQLite gives (no estimate), and PostgreSQL when the plan cannot be read."""
    _payments(6, site=world.east_store, at=timezone.now())
    monkeypatch.setattr("core.pagination.planner_estimate", lambda queryset: None)
    monkeypatch.setattr("core.pagination.COUNT_LIMIT", 3)
    api_client.force_authenticate(world.regional)
    body = api_client.get("/api/v1/payments/").json()
    assert (body["count"], body["count_exact"], body["count_estimated"]) == (3, False, False)
