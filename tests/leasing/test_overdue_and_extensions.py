"""Overdue leases (reminders once a day, then lost with the deposit kept), pay-later for members
above a level, and extending long-term leases."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Notification
from leasing.models import Asset, Lease, RatePlan
from leasing.services import lease_extend, lease_return, lease_start, leases_bill_periods, leases_overdue_scan
from orders.models import OrderEvent
from tests.factories import CustomerFactory, SiteFactory
from wallet.services import Balances, balances, recharge_credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return SiteFactory()


def _plan(store, **fields):
    defaults = dict(
        name="Drill",
        asset_kind="drill",
        region=store.region,
        unit_minutes=60,
        unit_price=D("5.00"),
        daily_cap=D("40.00"),
        deposit=D("200.00"),
        due_minutes=24 * 60,
        late_period_minutes=60,
        late_fee=D("2.00"),
        late_fee_cap=D("20.00"),
        lost_after_minutes=3 * 24 * 60,
    )
    defaults.update(fields)
    return RatePlan.objects.create(**defaults)


def _customer(amount="500.00", level=0):
    customer = CustomerFactory(level=level)
    recharge_credit(customer=customer, amount=amount, provider="cash", key=f"seed-{customer.pk}")
    return customer


def _backdate(lease, **delta):
    """Rented `delta` ago, less half a minute, so started minutes are exact whenever the job runs."""
    when = timezone.now() - datetime.timedelta(**delta) + datetime.timedelta(seconds=30)
    Lease.objects.filter(pk=lease.pk).update(rented_at=when, due_at=when + datetime.timedelta(days=1))
    lease.refresh_from_db()
    return lease


def test_overdue_lease_is_reminded_once_a_day_with_its_running_cost(store):
    _plan(store)
    customer = _customer()
    asset = Asset.objects.create(serial="DR-1", kind="drill", site=store)
    lease = _backdate(lease_start(customer=customer, asset=asset), hours=30)  # 6 h overdue
    assert leases_overdue_scan() == {"reminded": 1, "lost": 0}
    assert leases_overdue_scan() == {"reminded": 0, "lost": 0}  # not again the same day
    (message,) = Notification.objects.filter(template="lease_overdue", recipient_id=customer.pk)
    assert "DR-1" in message.subject
    # First 24 h capped at 40.00, then 6 h × 5.00 = 30.00; 6 late hours × 2.00 = 12.00.
    assert "82.00" in message.body
    lease.refresh_from_db()
    assert lease.reminders_sent == 1
    # A day later the next reminder goes out.
    assert leases_overdue_scan(now=timezone.now() + datetime.timedelta(hours=25)) == {"reminded": 1, "lost": 0}


def test_an_overdue_lease_becomes_lost_and_keeps_the_deposit(store):
    _plan(store)
    customer = _customer()
    asset = Asset.objects.create(serial="DR-2", kind="drill", site=store)
    lease = _backdate(lease_start(customer=customer, asset=asset), days=4, hours=1)  # 3 days 1 hour overdue
    assert leases_overdue_scan() == {"reminded": 0, "lost": 1}
    assert leases_overdue_scan() == {"reminded": 0, "lost": 0}
    lease.refresh_from_db()
    asset.refresh_from_db()
    assert lease.stage == "lost" and asset.state == "lost"
    # Usage: 4 days × 40.00 + 1 h × 5.00 = 165.00, late fees capped at 20.00: 185.00, so the whole
    # deposit of 200.00 is kept.
    assert lease.amount == D("200.00")
    assert balances(customer=customer) == Balances(paid=D("300.00"), bonus=D("0.00"), held=D("0.00"))
    event = OrderEvent.objects.get(order=lease.order, action="lease.lost")
    assert event.data == {"usage": "165.00", "late_fee": "20.00", "charged": "200.00"}
    lease.order.refresh_from_db()
    assert lease.order.status == "completed"
    # A late report of the lost asset coming back bills nothing more.
    assert lease_return(asset_serial="DR-2", site=store) is None


def test_members_above_the_level_rent_without_deposit_and_pay_at_return(store):
    _plan(store, pay_later_level=3, due_minutes=None, lost_after_minutes=None)
    member = _customer(amount="100.00", level=3)
    lease = lease_start(customer=member, asset=Asset.objects.create(serial="DR-3", kind="drill", site=store))
    assert lease.pay_later and lease.hold_id is None
    assert balances(customer=member).held == D("0.00")
    _backdate(lease, hours=2)
    lease = lease_return(asset_serial="DR-3", site=store)
    assert lease.amount == D("10.00")
    assert balances(customer=member) == Balances(paid=D("90.00"), bonus=D("0.00"), held=D("0.00"))
    # Below the level, the deposit is held as usual.
    other = _customer(amount="500.00", level=2)
    lease = lease_start(customer=other, asset=Asset.objects.create(serial="DR-4", kind="drill", site=store))
    assert not lease.pay_later and balances(customer=other).held == D("200.00")


def test_long_term_leases_extend_from_their_due_date_and_keep_billing(store):
    _plan(store, billing_period="week", period_price=D("70.00"), due_minutes=None, lost_after_minutes=None)
    customer = _customer(amount="500.00")
    lease = lease_start(customer=customer, asset=Asset.objects.create(serial="DR-5", kind="drill", site=store))
    due = lease.due_at
    assert abs(due - lease.rented_at - datetime.timedelta(days=7)) < datetime.timedelta(seconds=5)
    lease = lease_extend(lease=lease, periods=2)
    assert lease.due_at == due + datetime.timedelta(days=14)
    assert OrderEvent.objects.filter(order=lease.order, action="lease.extended").exists()
    assert leases_bill_periods() == 1
    with pytest.raises(ValidationError, match="1 to 24"):
        lease_extend(lease=lease, periods=0)


def test_short_rentals_are_not_extended(store):
    _plan(store)
    lease = lease_start(customer=_customer(), asset=Asset.objects.create(serial="DR-6", kind="drill", site=store))
    with pytest.raises(ValidationError, match="Only long-term"):
        lease_extend(lease=lease)


def test_leasing_pages_show_running_cost_history_with_receipts_and_manage_plans(store, client, world):
    from django.urls import reverse

    from core.services import scope_grant

    plan = _plan(store)
    scope_grant(actor=None, user=world.regional, target=store.region, action="change")
    customer = _customer()
    lease = _backdate(
        lease_start(customer=customer, asset=Asset.objects.create(serial="DR-9", kind="drill", site=store)), hours=2
    )
    client.force_login(world.regional)
    page = client.get(reverse("leasing:active")).content.decode()
    assert lease.order.number in page and "10.00" in page  # 2 h × 5.00
    partial = client.get(reverse("leasing:active"), {"partial": "1"}).content.decode()
    assert partial.lstrip().startswith("<tbody") and lease.order.number in partial
    lease_return(asset_serial="DR-9", site=store)
    history = client.get(reverse("leasing:customer-history", args=[customer.pk])).content.decode()
    assert lease.order.number in history and reverse("staff:receipt", args=[lease.order_id]) in history
    assert client.get(reverse("staff:receipt", args=[lease.order_id])).status_code == 200
    response = client.post(
        reverse("leasing:plan-edit", args=[plan.pk]),
        {
            "name": "Drill",
            "asset_kind": "drill",
            "region": store.region.pk,
            "unit_minutes": 60,
            "unit_price": "6.00",
            "free_minutes": 0,
            "daily_cap": "40.00",
            "max_total": "30.00",
            "deposit": "200.00",
            "late_period_minutes": 60,
            "late_fee": "2.00",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "cannot be below the daily cap" in response.content.decode()
    plan.refresh_from_db()
    assert plan.unit_price == D("5.00")


def test_bulk_items_are_counted_billed_per_item_and_move_when_returned_elsewhere(store):
    from leasing.models import BulkItem
    from leasing.services import bulk_lease_return, bulk_lease_start

    _plan(store, asset_kind="chair", deposit=D("20.00"), due_minutes=None, lost_after_minutes=None)
    chairs = BulkItem.objects.create(site=store, kind="chair", total=5, available=5)
    customer = _customer(amount="300.00")
    lease = bulk_lease_start(customer=customer, item=chairs, quantity=4)
    chairs.refresh_from_db()
    assert chairs.available == 1 and balances(customer=customer).held == D("80.00")
    other = _customer()
    with pytest.raises(ValidationError, match="Only 1 chair left"):
        bulk_lease_start(customer=other, item=chairs, quantity=2)
    assert balances(customer=other).held == D("0.00")  # nothing held for a refused rental
    _backdate(lease, hours=2)
    elsewhere = SiteFactory(region=store.region)
    lease = bulk_lease_return(lease=lease, site=elsewhere)
    assert lease.amount == D("40.00")  # 4 chairs × 2 h × 5.00
    assert balances(customer=customer) == Balances(paid=D("260.00"), bonus=D("0.00"), held=D("0.00"))
    chairs.refresh_from_db()
    assert (chairs.total, chairs.available) == (1, 1)
    moved = BulkItem.objects.get(site=elsewhere, kind="chair")
    assert (moved.total, moved.available) == (4, 4)
    with pytest.raises(ValidationError, match="not in use"):
        bulk_lease_return(lease=lease, site=store)
    with pytest.raises(ValidationError, match="1 to 50"):
        bulk_lease_start(customer=customer, item=chairs, quantity=0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bulk_stock_never_goes_below_zero_under_concurrent_rentals(store):
    import threading

    from django.db import connections

    from leasing.models import BulkItem
    from leasing.services import bulk_lease_start

    _plan(store, asset_kind="chair", deposit=D("20.00"), due_minutes=None, lost_after_minutes=None)
    chairs = BulkItem.objects.create(site=store, kind="chair", total=3, available=3)
    customers = [_customer(amount="100.00") for _ in range(6)]
    barrier, outcomes = threading.Barrier(6), []

    def rent(customer):
        try:
            barrier.wait()
            bulk_lease_start(customer=customer, item=chairs, quantity=1)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rent, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 3
    chairs.refresh_from_db()
    assert chairs.available == 0
    assert sum(balances(customer=c).held for c in customers) == D("60.00")


def test_staff_hand_over_and_take_back_through_the_api(store, world, api_client):
    from core.services import scope_grant
    from leasing.models import BulkItem

    _plan(store, due_minutes=None, lost_after_minutes=None)
    _plan(store, asset_kind="chair", deposit=D("20.00"), due_minutes=None, lost_after_minutes=None)
    scope_grant(actor=None, user=world.regional, target=store.region, action="change")
    api_client.force_authenticate(world.regional)
    customer = _customer()
    # Staff refer only to customers of their regions (docs/adr/0001-region-scoping.md).
    customer.home_region = store.region
    customer.save(update_fields=["home_region"])
    asset = Asset.objects.create(serial="DR-20", kind="drill", site=store)
    response = api_client.post(f"/api/v1/assets/{asset.pk}/rent/", {"customer": customer.pk}, format="json")
    assert response.status_code == 201 and response.json()["stage"] == "in_use"
    again = api_client.post(f"/api/v1/assets/{asset.pk}/rent/", {"customer": customer.pk}, format="json")
    assert again.status_code == 400 and "not available" in str(again.json())
    chairs = BulkItem.objects.create(site=store, kind="chair", total=2, available=2)
    rented = api_client.post(
        f"/api/v1/bulk-items/{chairs.pk}/rent/", {"customer": customer.pk, "quantity": 2}, format="json"
    )
    assert rented.status_code == 201 and rented.json()["quantity"] == 2
    back = api_client.post(f"/api/v1/leases/{rented.json()['id']}/bulk-return/", {"site": store.pk}, format="json")
    assert back.status_code == 200 and back.json()["stage"] == "returned"
    unknown = api_client.post(f"/api/v1/bulk-items/{chairs.pk}/rent/", {"customer": 999999}, format="json")
    assert unknown.status_code == 400
