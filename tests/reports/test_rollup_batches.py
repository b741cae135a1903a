"""The order listener only marks an order as changed; the beat's batch rolls the marked orders up:
an order marked many times counts once, a change made while its batch runs is rolled up by the
next batch, and two batches at once on PostgreSQL take different orders, neither double counting
nor deadlocking (docs/adr/0023-sales-roll-ups.md)."""

import threading
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from orders.models import Order
from orders.services import order_transition, refund_create
from reports import rollups
from reports.models import OrderRollup, OrderStatusDay, RollupPending, SalesDay
from reports.rollups import rollup_check_day
from reports.tasks import BEAT_SCHEDULE, rollup_pending
from tests.factories import SiteFactory, make_order


def _figures():
    return (
        sorted(
            SalesDay.objects.values_list("day", "site_id", "method", "orders", "quantity", "gross", "net", "refunds")
        ),
        sorted(OrderStatusDay.objects.values_list("day", "site_id", "status", "orders", "completed")),
    )


def _raw_totals():
    paid = Order.objects.filter(paid_at__isnull=False).exclude(kind="recharge")
    sums = paid.aggregate(orders=Count("pk"), gross=Sum("subtotal"), refunds=Sum("refunded_amount"))
    return sums["orders"], sums["gross"] or Decimal("0"), sums["refunds"] or Decimal("0")


def _rolled_totals():
    sums = SalesDay.objects.aggregate(orders=Sum("orders"), gross=Sum("gross"), refunds=Sum("refunds"))
    return sums["orders"] or 0, sums["gross"] or Decimal("0"), sums["refunds"] or Decimal("0")


def test_the_beat_rolls_up_the_marked_orders_every_thirty_seconds():
    entry = BEAT_SCHEDULE["reports-rollup-pending"]
    assert entry["task"] == "reports.tasks.rollup_pending" and entry["schedule"] == 30.0


@pytest.mark.django_db
def test_an_order_marked_many_times_is_counted_once(django_capture_on_commit_callbacks, capsys):
    site = SiteFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(site=site, total=Decimal("6.00"), paid=True)  # created, paid: marked twice
        order_transition(order=order, to_status="completed", actor=None)  # and again
    assert list(RollupPending.objects.values_list("order_id", flat=True)) == [order.pk]
    assert not SalesDay.objects.exists()  # nothing is rolled up in the sale itself

    call_command("reports_rollup_pending")  # on demand, as the beat does it
    assert "1 orders rolled up, 0 waiting." in capsys.readouterr().out
    assert _rolled_totals() == _raw_totals() == (1, Decimal("6.00"), Decimal("0.00"))
    figures = _figures()

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            rollups.rollup_on_order_changed(mock.Mock(order_id=order.pk))  # late, repeated deliveries
    assert RollupPending.objects.count() == 1
    assert rollup_pending.apply().get() == 1
    assert rollup_pending.apply().get() == 0
    assert _figures() == figures
    assert rollup_check_day(day=timezone.localdate(), trigger="rebuild").differences == 0


@pytest.mark.django_db
def test_a_change_made_while_the_batch_runs_is_rolled_up_by_the_next_batch(django_capture_on_commit_callbacks):
    site = SiteFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(site=site, total=Decimal("10.00"), paid=True)
    original = rollups._orders_with_parts

    def read_then_refunded(ids):
        parts = original(ids)  # the batch has read the order as it was
        # A refund commits now; its listener finds the order still waiting and writes nothing
        # (in this test transaction the after-commit listener does not run at all).
        refund_create(order=Order.objects.get(pk=order.pk), amount=Decimal("4.00"), actor=None, reason="late")
        return parts

    with mock.patch.object(rollups, "_orders_with_parts", read_then_refunded):
        assert rollups.rollup_pending_batch() == 1
    assert _rolled_totals()[2] == Decimal("0.00")  # the batch counted the order before the refund
    assert list(RollupPending.objects.values_list("order_id", flat=True)) == [order.pk]  # marked again

    assert rollup_pending.apply().get() == 1
    assert _rolled_totals() == _raw_totals() == (1, Decimal("10.00"), Decimal("4.00"))
    assert not RollupPending.objects.exists()
    assert rollup_check_day(day=timezone.localdate(), trigger="rebuild").differences == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_take_different_orders_and_count_each_once():
    site, other = SiteFactory(), SiteFactory()
    orders = []
    for n in range(60):  # autocommit: each change's listener runs at once and marks the order
        order = make_order(site=site if n % 2 else other, total=Decimal(f"{n + 1}.00"), paid=True)
        if n % 3 == 0:
            order_transition(order=order, to_status="completed", actor=None)
        orders.append(order.pk)
    assert RollupPending.objects.count() == 60

    original = rollups._orders_with_parts
    both_inside = threading.Barrier(2, timeout=30)
    taken: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    local = threading.local()

    def recorded(ids):
        taken[local.name].extend(ids)
        if not getattr(local, "waited", False):
            local.waited = True
            both_inside.wait()  # both batches hold their pending rows and order locks now
        return original(ids)

    def work(name):
        local.name = name
        try:
            while rollups.rollup_pending_batch(limit=7):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            both_inside.abort()
        finally:
            connection.close()

    with mock.patch.object(rollups, "_orders_with_parts", recorded):
        threads = [threading.Thread(target=work, args=(name,)) for name in taken]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    assert taken["a"] and taken["b"]
    assert not set(taken["a"]) & set(taken["b"])  # each order rolled up by one batch
    assert sorted(taken["a"] + taken["b"]) == sorted(orders)  # and only once
    assert not RollupPending.objects.exists()
    assert OrderRollup.objects.count() == 60
    assert _rolled_totals() == _raw_totals() == (60, Decimal(sum(range(1, 61))), Decimal("0"))
    assert sum(OrderStatusDay.objects.values_list("orders", flat=True)) == 60
    assert rollup_check_day(day=timezone.localdate(), trigger="rebuild").differences == 0
