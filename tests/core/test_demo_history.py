"""The demo's set-based history (orders.demo_history) is indistinguishable from what the services
write: every stock level is the sum of its movements, the commission ledger and the wallets
balance, the roll-ups equal the raw orders, no compartment ever held two parcels, the power banks
out are those rented now; and it holds every order kind in the states the pages and forecasts
need, spread over the whole history, which the order inquiry shows."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

pytestmark = pytest.mark.django_db


def cents(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


DAYS = 65  # past 60 days, so the inquiry's "older than two months" has rows of every kind


def test_the_seeded_history_keeps_the_services_invariants(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", days=DAYS, orders_per_day=30, verbosity=0)
    from accounting.models import Accrual, CommissionAccount, CommissionEntry
    from inventory.models import StockLevel, StockMovement
    from orders.models import Order, OrderLine, Payment, Refund
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
    for order in Order.objects.only("pk", "total", "paid_amount", "refunded_amount"):
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
    # Wallet: double entry, every balance the sum of its entries, no customer below zero.
    assert cents(LedgerEntry.objects.aggregate(t=Sum("amount"))["t"]) == 0
    from wallet.models import Account

    sums = dict(LedgerEntry.objects.values("account_id").annotate(t=Sum("amount")).values_list("account_id", "t"))
    for pk, balance, customer_id in Account.objects.values_list("pk", "balance", "customer_id"):
        assert balance == cents(sums.get(pk)), pk
        assert customer_id is None or balance >= 0, pk
    _kinds_keep_their_own_rows()
    _never_collected_pickups_ended_as_the_job_ends_them()
    # Roll-ups equal the raw orders on every day of the history.
    call_command("reports_rollup_pending", verbosity=0)
    today = timezone.localdate()
    for offset in range(DAYS + 1):
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
    _every_kind_and_state_over_the_history(today)
    _the_inquiry_lists_old_orders_of_every_kind(client, today)


def _kinds_keep_their_own_rows():
    """Each kind's own rows agree with its orders, as the services leave them."""
    from leasing.models import Asset, Lease
    from lockers.models import Compartment, LockerOrder
    from orders.models import Order, OrderSequence
    from wallet.models import Hold, Recharge

    # Compartments: one live order at most, its state says so, and over the history no
    # compartment held two parcels at once.
    live = dict(
        LockerOrder.objects.exclude(stage__in=["collected", "expired", "cancelled"])
        .values("compartment_id")
        .annotate(n=Count("pk"))
        .values_list("compartment_id", "n")
    )
    # An expired parcel stays inside until service staff take it out for its sender.
    waiting = set(
        LockerOrder.objects.filter(stage="expired", return_task__done_at__isnull=True).values_list(
            "compartment_id", flat=True
        )
    )
    for pk, state in Compartment.objects.values_list("pk", "state"):
        assert live.get(pk, 0) + (pk in waiting) <= 1, pk
        assert (state in ("reserved", "occupied")) == (pk in live or pk in waiting), (pk, state)
    spans = {}
    ended = LockerOrder.objects.filter(stage__in=["collected", "expired"]).select_related("order", "return_task")
    for locker in ended:
        end = locker.collected_at or getattr(getattr(locker, "return_task", None), "done_at", None)
        if end is None:  # still inside, waiting for service staff
            assert locker.stage == "expired" and locker.compartment_id in waiting, locker.pk
            end = timezone.now()
        assert locker.ready_at is not None and locker.ready_at < end, locker.pk
        spans.setdefault(locker.compartment_id, []).append((locker.order.created_at, end))
    for compartment, rows in spans.items():
        rows.sort()
        for (_s1, end), (begin, _e2) in zip(rows, rows[1:], strict=False):
            assert end <= begin, compartment
    # Rentals: the power banks out are exactly those of the leases in use, away from any
    # station, each with its deposit held; every other deposit is settled.
    out = set(Lease.objects.filter(stage__in=["ejecting", "in_use"]).values_list("asset_id", flat=True))
    assert set(Asset.objects.filter(state="rented").values_list("pk", flat=True)) == out
    assert not Asset.objects.filter(state="rented", station__isnull=False).exists()
    for lease in Lease.objects.select_related("hold", "order"):
        if lease.hold_id:
            assert (lease.hold.status == "held") == (lease.stage in ("ejecting", "in_use")), lease.pk
        if lease.stage == "returned":
            assert lease.order.status == "completed" and lease.order.total == (lease.amount or 0), lease.pk
    assert not Hold.objects.filter(status="captured", captured=0).exists()
    # Recharges: credited when paid, taken back when refunded, nothing when never paid.
    for recharge in Recharge.objects.select_related("order"):
        status = recharge.order.status
        assert (recharge.credited_id is not None) == (status in ("completed", "refunded")), recharge.pk
        assert (recharge.refunded_id is not None) == (status == "refunded"), recharge.pk
    # Order numbers: unique, and each day's sequence continues past the numbers it gave.
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    last = {}
    for number in numbers:
        key = (number[0], number[1:7])
        last[key] = max(last.get(key, 0), int(number[7:]))
    for prefix, day, value in OrderSequence.objects.values_list("prefix", "day", "last"):
        assert value >= last.pop((prefix, f"{day:%y%m%d}"), 0), (prefix, day)
    assert not last, last  # no number without its day's sequence


def _never_collected_pickups_ended_as_the_job_ends_them():
    """Pickup orders nobody came for ended as not collected, as pickup.services.uncollected_expire
    ends them: the job finds nothing left to end."""
    from orders.models import Order
    from pickup.services import NOT_COLLECTED, uncollected_expire

    failed = Order.objects.filter(kind="pickup", status="failed")
    assert failed.exists()
    assert not failed.exclude(events__action=NOT_COLLECTED).exists()
    assert uncollected_expire() == 0


KINDS = {
    "vending": {"completed", "refunded"},
    "counter": {"completed", "refunded", "cancelled"},
    "locker": {"completed", "failed", "expired"},
    "pickup": {"completed", "failed"},
    "lease": {"completed", "cancelled", "new"},
    "recharge": {"completed", "refunded", "expired"},
}


def _every_kind_and_state_over_the_history(today):
    """Every kind on most days and in each third of the history; its end states there too."""
    from leasing.models import Lease
    from lockers.models import LockerOrder
    from orders.models import Order

    start = today - datetime.timedelta(days=DAYS)
    thirds = [
        (start + datetime.timedelta(days=DAYS * i // 3), start + datetime.timedelta(days=DAYS * (i + 1) // 3))
        for i in range(3)
    ]
    rows = list(Order.objects.values_list("kind", "status", "created_at"))
    for kind, states in KINDS.items():
        days = {timezone.localdate(at) for k, _s, at in rows if k == kind}
        assert len(days) >= DAYS * 0.3, (kind, len(days))
        for begin, end in thirds:
            assert any(begin <= day < end for day in days), (kind, begin)
        seen = {s for k, s, _at in rows if k == kind}
        assert states <= seen, (kind, states - seen)
        completed = {timezone.localdate(at) for k, s, at in rows if k == kind and s == "completed"}
        for begin, end in thirds:
            assert any(begin <= day < end for day in completed), (kind, "completed", begin)
    # The rarer states too are spread, not one batch: on several days.
    for kind, status in [
        ("locker", "failed"),
        ("recharge", "refunded"),
        ("recharge", "expired"),
        ("pickup", "failed"),
    ]:
        days = {timezone.localdate(at) for k, s, at in rows if k == kind and s == status}
        assert len(days) >= 2, (kind, status)
    # Lockers: parcels and paid bookings, some collected after the free hours; rentals returned
    # with a bill from the deposit and free ones with the whole deposit back, some still out.
    assert LockerOrder.objects.filter(order__channel="app", order__total__gt=0, stage="collected").exists()
    assert LockerOrder.objects.filter(order__channel="partner", stage="collected").exists()
    assert Order.objects.filter(kind="locker", events__action="locker.overdue_unpaid").exists()
    assert Lease.objects.filter(stage="returned", amount__gt=0, order__payments__provider="deposit").exists()
    assert Lease.objects.filter(stage="returned", amount=0, hold__status="released").exists()
    assert Lease.objects.filter(stage="in_use", rented_at__lt=timezone.now() - datetime.timedelta(days=1)).exists()


def _the_inquiry_lists_old_orders_of_every_kind(client, today):
    """Through the door: the platform administrator's order inquiry, filtered by kind and to two
    months ago and more, lists orders of that kind from then."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from orders.models import Order

    client.force_login(get_user_model().objects.get(username="admin"))
    until = today - datetime.timedelta(days=61)
    for kind in ("locker", "pickup", "lease", "recharge"):
        response = client.get(reverse("orders:order-list"), {"kind": kind, "until": until.isoformat()})
        assert response.status_code == 200
        page = response.content.decode()
        old = Order.objects.filter(kind=kind, created_at__date__lte=until).values_list("number", flat=True)
        assert old.exists(), kind
        assert any(number in page for number in old[:200]), kind
        assert not any(
            number in page for number in Order.objects.exclude(kind=kind).values_list("number", flat=True)[:50]
        )
    # The sales report, by order kind, over the history's first days: every kind of sale is there
    # (a recharge is stored value, not a sale: the report leaves it out).
    from orders.models import OrderKind

    response = client.get(
        reverse("reports:sales"),
        {"date_from": today - datetime.timedelta(days=DAYS), "date_to": until, "by": "kind", "format": "json"},
    )
    labels = {str(row[0]) for row in response.json()["sections"][0]["rows"]}
    assert {str(OrderKind(kind).label) for kind in KINDS if kind != "recharge"} <= labels, labels
    assert str(OrderKind.RECHARGE.label) not in labels
