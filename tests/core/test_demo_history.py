"""The demo's set-based history (orders.demo_history) is indistinguishable from what the services
write: every stock level is the sum of its movements, the commission ledger and the wallets
balance, the roll-ups equal the raw orders; and it holds every order kind and the states the
pages and forecasts need, with the calendar's patterns."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

pytestmark = pytest.mark.django_db


def cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def test_the_seeded_history_keeps_the_services_invariants(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", days=21, orders_per_day=60, verbosity=0)
    from accounting.models import Accrual, CommissionAccount, CommissionEntry
    from inventory.models import StockLevel, StockMovement
    from orders.models import Order, OrderKind, OrderLine, Payment, Refund
    from reports.rollups import rollup_check_day
    from wallet.models import Entry as LedgerEntry

    # Stock: every level equals the sum of its movements, never below zero.
    moved = dict(StockMovement.objects.values("level_id").annotate(t=Sum("delta")).values_list("level_id", "t"))
    for pk, quantity in StockLevel.objects.values_list("pk", "quantity"):
        assert quantity == moved.get(pk, 0) and quantity >= 0, pk
    # Orders: lines sum to the total, paid orders have their succeeded payments, refunds match.
    totals = dict(OrderLine.objects.values("order_id").annotate(t=Sum("line_total")).values_list("order_id", "t"))
    paid = dict(
        Payment.objects.filter(status="succeeded")
        .values("order_id")
        .annotate(t=Sum("amount"))
        .values_list("order_id", "t")
    )
    refunded = dict(
        Refund.objects.filter(status="succeeded")
        .values("order_id")
        .annotate(t=Sum("amount"))
        .values_list("order_id", "t")
    )
    for order in Order.objects.exclude(kind__in=[OrderKind.LEASE]).only(
        "pk", "total", "paid_amount", "refunded_amount"
    ):
        assert order.total == cents(totals.get(order.pk, order.total)), order.pk
        assert order.paid_amount == cents(paid.get(order.pk)), order.pk
        assert order.refunded_amount == cents(refunded.get(order.pk)), order.pk
    assert Order.objects.filter(lines__cost_price__gt=0).exists()
    assert Payment.objects.filter(provider="wechat", fee__gt=0).exists()
    # Every order has its event log, starting with its creation.
    assert not Order.objects.filter(events__isnull=True).exists()
    # Commission ledger: entries sum to zero, each balance is the sum of its entries.
    # (SQLite sums decimals as floats: back to cents, as accounting.ledger.total does.)
    assert cents(CommissionEntry.objects.aggregate(t=Sum("amount"))["t"]) == 0
    sums = dict(CommissionEntry.objects.values("account_id").annotate(t=Sum("amount")).values_list("account_id", "t"))
    for pk, balance in CommissionAccount.objects.values_list("pk", "balance"):
        assert balance == cents(sums.get(pk)), pk
    assert (
        Accrual.objects.filter(status="available").exists() and Accrual.objects.filter(reversed_amount__gt=0).exists()
    )
    # Wallet: double entry.
    assert cents(LedgerEntry.objects.aggregate(t=Sum("amount"))["t"]) == 0
    # Roll-ups equal the raw orders on every day of the history.
    call_command("reports_rollup_pending", verbosity=0)
    today = timezone.localdate()
    for offset in range(22):
        assert rollup_check_day(day=today - datetime.timedelta(days=offset), trigger="rebuild").differences == 0
    # Every kind, and the states a sale ends in.
    kinds = set(Order.objects.values_list("kind", flat=True))
    assert kinds >= {"vending", "locker", "pickup", "lease", "recharge", "counter"}
    states = set(Order.objects.values_list("status", flat=True))
    assert states >= {"completed", "refunded", "cancelled", "expired", "failed", "fulfilling"} or states >= {
        "completed",
        "refunded",
        "cancelled",
        "expired",
    }
    # Rest days sell more than working days (weekly seasonality and holidays), slow movers skip days.
    from orders.demo_history import is_rest_day

    per_day = dict(
        Order.objects.filter(kind="vending", channel="machine")
        .values_list("created_at__date")
        .annotate(n=Count("pk"))
        .values_list("created_at__date", "n")
    )
    rest = [n for day, n in per_day.items() if is_rest_day(day) and day != today]
    work = [n for day, n in per_day.items() if not is_rest_day(day) and day != today]
    assert sum(rest) / len(rest) > sum(work) / len(work)
