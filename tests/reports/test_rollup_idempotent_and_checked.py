"""The roll-ups count an order once however often its change is delivered, follow its refunds,
and the nightly check recomputes a day from the raw orders, repairs a difference and alerts the
platform administrators (PostgreSQL: the hand-written SQL and the advisory locks)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from orders.events import OrderChanged, announce
from reports.models import OrderRollup, ProductSalesDay, RollupCheck, RollupPending, SalesDay, SalesHour
from reports.tasks import rollup_check_yesterday, rollup_order, rollup_pending
from tests.reports.history import build_history, sql_sales

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def history(world, django_capture_on_commit_callbacks):
    return build_history(world, django_capture_on_commit_callbacks)


def _snapshot():
    return [
        sorted(model.objects.values_list("day", "site_id", "kind", "method", "orders", "quantity", "net", "fees"))
        for model in (SalesDay, SalesHour, ProductSalesDay)
    ]


def _sales_by_day(client, user, history):
    client.force_login(user)
    response = client.get(
        reverse("reports:sales"), {"date_from": history.d1, "date_to": history.d4, "by": "day", "format": "json"}
    )
    return {row[0]: row[1:7] for row in response.json()["sections"][0]["rows"] if row[1]}


def _change(order):
    return OrderChanged(
        order_id=order.pk,
        number=order.number,
        kind=order.kind,
        region_id=order.region_id,
        site_id=order.site_id,
        device_id=order.device_id,
        from_status="new",
        to_status="paid",
        action="status",
    )


def test_an_order_event_delivered_twice_counts_once(client, world, history):
    before = _snapshot()
    shown = _sales_by_day(client, world.admin, history)
    for order in history.orders:
        announce(_change(order))  # the listener marks the order again
        announce(_change(order))  # and again: still one waiting row
        rollup_order.apply(args=[order.pk])  # a per-order task queued before the upgrade
    assert RollupPending.objects.count() == len(history.orders)
    assert rollup_pending.apply().get() == len(history.orders)
    assert not RollupPending.objects.exists()
    assert _snapshot() == before
    assert _sales_by_day(client, world.admin, history) == shown
    expected = sql_sales(("day",), history.d1, history.d4)
    assert {day: [v if isinstance(v, int) else Decimal(v) for v in row] for day, row in shown.items()} == {
        key[0]: value for key, value in expected.items()
    }


def test_a_partial_refund_reaches_the_roll_up_of_the_day_it_was_sold(world, history):
    o2 = history.orders[1]
    row = SalesDay.objects.get(day=history.d1, site_id=o2.site_id, method="cash")
    assert row.refunds == Decimal("2.50")
    assert row.net == Decimal("7.50")
    assert OrderRollup.objects.filter(order_id=o2.pk).exists()


def test_the_nightly_check_repairs_a_wrong_day_and_alerts(world, history, django_capture_on_commit_callbacks):
    SalesDay.objects.filter(day=history.d1).update(net=Decimal("999.00"))
    ProductSalesDay.objects.filter(day=history.d1).delete()
    assert rollup_check_yesterday.apply().get() == 0  # yesterday had no orders and no roll-ups
    assert RollupCheck.objects.get().day == timezone.localdate() - datetime.timedelta(days=1)
    from reports.rollups import rollup_check_day

    with django_capture_on_commit_callbacks(execute=True):
        with_alert = rollup_check_day(day=history.d1, trigger="nightly")
    assert with_alert.differences > 0
    assert Notification.objects.filter(template="rollup_repaired", recipient_id=world.admin.pk).exists()
    totals = sql_sales(("day",), history.d1, history.d1)[(history.d1.isoformat(),)]
    assert SalesDay.objects.filter(day=history.d1).values_list("net", flat=True).count() >= 1
    assert sum(SalesDay.objects.filter(day=history.d1).values_list("net", flat=True)) == totals[5]
    again = rollup_check_day(day=history.d1, trigger="nightly")
    assert again.differences == 0
    # The orders' stored contributions were repaired too: a later event adds nothing twice.
    before = _snapshot()
    for order in history.orders:
        rollup_order.apply(args=[order.pk])  # a task queued before the upgrade marks the order
    assert rollup_pending.apply().get() == len(history.orders)
    assert _snapshot() == before


def test_the_rebuild_command_checks_a_range(world, history, capsys):
    SalesHour.objects.filter(day=history.d2).delete()
    call_command("reports_rebuild", history.d1.isoformat(), history.d4.isoformat())
    out = capsys.readouterr().out
    assert f"{history.d2}:" in out and "4 days checked" in out
    assert RollupCheck.objects.filter(day=history.d2, trigger="rebuild", differences__gt=0).exists()
    assert not Notification.objects.filter(template="rollup_repaired").exists()  # an operator ran it


def test_the_rebuild_command_refuses_a_reversed_range():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ends before it starts"):
        call_command("reports_rebuild", "2026-02-02", "2026-02-01")
