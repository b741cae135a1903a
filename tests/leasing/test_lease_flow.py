"""Rent → eject → return → bill, with deposits held in the wallet."""

import datetime
import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from devices.models import Device
from devices.services import device_event_record
from leasing.models import Asset, Lease, RatePlan
from leasing.services import lease_return, lease_start
from orders.models import OrderStatus
from tests.devices.helpers import answer_pending
from tests.factories import CustomerFactory, DeviceFactory, SiteFactory
from wallet.services import Balances, balances, recharge_credit


@pytest.fixture
def station(db):
    site = SiteFactory()
    RatePlan.objects.create(
        name="Power bank",
        asset_kind="powerbank",
        region=site.region,
        unit_minutes=60,
        unit_price=D("3.00"),
        free_minutes=5,
        daily_cap=D("30.00"),
        max_total=D("99.00"),
        deposit=D("99.00"),
    )
    return DeviceFactory(kind=Device.Kind.RENTAL, site=site)


def _asset(station, serial="PB-1"):
    return Asset.objects.create(serial=serial, kind="powerbank", station=station, slot="3", site=station.site)


def _customer(amount="150.00"):
    customer = CustomerFactory()
    recharge_credit(customer=customer, amount=amount, provider="cash", key=f"seed-{customer.pk}")
    return customer


def _rent(station, customer, asset, callbacks, *, eject_ok=True):
    with callbacks(execute=True):
        lease = lease_start(customer=customer, asset=asset)
        answer_pending(station, succeeded=eject_ok)
    lease.refresh_from_db()
    return lease


@pytest.mark.django_db
def test_rent_return_elsewhere_and_bill_from_the_deposit(station, django_capture_on_commit_callbacks):
    customer, asset = _customer(), _asset(station)
    lease = _rent(station, customer, asset, django_capture_on_commit_callbacks)
    assert lease.stage == "in_use"
    assert balances(customer=customer) == Balances(paid=D("51.00"), bonus=D("0.00"), held=D("99.00"))
    Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=61))
    other = DeviceFactory(kind=Device.Kind.RENTAL, site=SiteFactory(region=station.site.region))
    with django_capture_on_commit_callbacks(execute=True):
        device_event_record(
            device=other,
            kind="asset_returned",
            data={"asset": "PB-1", "slot": "7"},
            event_id="0b7ed4c6-3b4f-4b8f-9a3e-1f2e3d4c5b6a",
        )
        # The station retries the same report, and a second report without an id: billed once.
        device_event_record(
            device=other,
            kind="asset_returned",
            data={"asset": "PB-1", "slot": "7"},
            event_id="0b7ed4c6-3b4f-4b8f-9a3e-1f2e3d4c5b6a",
        )
        device_event_record(device=other, kind="asset_returned", data={"asset": "PB-1", "slot": "7"})
    lease.refresh_from_db()
    asset.refresh_from_db()
    assert (lease.stage, lease.minutes, lease.amount) == ("returned", 62, D("6.00"))
    assert (asset.state, asset.station, asset.slot) == ("available", other, "7")
    assert lease.order.status == OrderStatus.COMPLETED and lease.order.total == D("6.00")
    assert balances(customer=customer) == Balances(paid=D("144.00"), bonus=D("0.00"), held=D("0.00"))


@pytest.mark.django_db
def test_an_eject_failure_releases_the_hold_and_leaves_the_asset_available(station, django_capture_on_commit_callbacks):
    customer, asset = _customer(), _asset(station)
    lease = _rent(station, customer, asset, django_capture_on_commit_callbacks, eject_ok=False)
    asset.refresh_from_db()
    assert lease.stage == "cancelled" and asset.state == "available"
    assert balances(customer=customer).held == D("0.00") and balances(customer=customer).paid == D("150.00")
    assert lease.order.status == OrderStatus.CANCELLED


@pytest.mark.django_db
def test_refusals_change_no_money_and_no_asset(station):
    from wallet.services import InsufficientFunds

    asset = _asset(station)
    poor = _customer("10.00")
    with pytest.raises(InsufficientFunds):
        lease_start(customer=poor, asset=asset)
    asset.refresh_from_db()
    assert asset.state == "available" and balances(customer=poor).paid == D("10.00")
    Asset.objects.filter(pk=asset.pk).update(state="maintenance")
    with pytest.raises(ValidationError, match="not available"):
        lease_start(customer=_customer(), asset=asset)
    assert lease_return(asset_serial=asset.serial, station=station) is None  # not rented: nothing billed


@pytest.mark.django_db
def test_a_return_in_another_region_is_refused(station, django_capture_on_commit_callbacks):
    customer, asset = _customer(), _asset(station)
    _rent(station, customer, asset, django_capture_on_commit_callbacks)
    far = DeviceFactory(kind=Device.Kind.RENTAL, site=SiteFactory())
    with pytest.raises(ValidationError, match="outside the region"):
        lease_return(asset_serial=asset.serial, station=far)
    assert Lease.objects.get().stage == "in_use"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_customers_renting_one_asset_at_once(station):
    asset = _asset(station)
    customers = [_customer(), _customer()]
    barrier = threading.Barrier(2)
    results = [None, None]

    def rent(index):
        try:
            barrier.wait()
            results[index] = lease_start(customer=customers[index], asset=asset)
        except ValidationError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=rent, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [r for r in results if isinstance(r, Lease)]
    lost = [i for i, r in enumerate(results) if isinstance(r, ValidationError)]
    assert len(won) == 1 and len(lost) == 1
    assert "not available" in " ".join(results[lost[0]].messages)
    loser = customers[lost[0]]
    assert balances(customer=loser) == Balances(paid=D("150.00"), bonus=D("0.00"), held=D("0.00"))


@pytest.mark.django_db(transaction=True)
def test_rent_eject_return_bill_through_the_gateway_and_simulated_station(station, tmp_path):
    from gateway.driver import CabinetGateway
    from gateway.simulator import Cabinet
    from gateway.sinks import LocalSink

    customer, asset = _customer(), _asset(station)
    with Cabinet(addresses=(1,), locks=8, directory=str(tmp_path)) as cabinet:
        gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: station}), timeout=0.2, retries=2)
        gateway.bus.open()
        gateway.cycle(idle=0.02)
        lease = lease_start(customer=customer, asset=asset)
        gateway.cycle(idle=0.05)  # the eject command travels over the serial line
        assert cabinet.boards[1].pulses[2] == 1  # slot 3
        lease.refresh_from_db()
        assert lease.stage == "in_use"
        Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=30))
        cabinet.send_asset_returned(1, 5, asset.serial)  # pushed back into slot 6, its tag read
        gateway.cycle(idle=0.05)
        gateway.bus.close()
    lease.refresh_from_db()
    asset.refresh_from_db()
    assert asset.slot == "6" and asset.station == station
    assert (lease.stage, lease.amount) == ("returned", D("3.00"))
    assert balances(customer=customer) == Balances(paid=D("147.00"), bonus=D("0.00"), held=D("0.00"))


@pytest.mark.django_db
def test_long_term_periods_are_billed_once_each_however_often_the_job_runs(station):
    from leasing.models import LeaseCharge
    from leasing.services import leases_bill_periods

    plan = RatePlan.objects.get()
    plan.billing_period, plan.period_price, plan.deposit = "week", D("20.00"), D("0")
    plan.save()
    customer = _customer("100.00")
    asset = Asset.objects.create(serial="DRILL-1", kind="powerbank", site=station.site)  # handed over at a store
    lease = lease_start(customer=customer, asset=asset)
    assert lease.stage == "in_use"
    Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(days=8))
    assert leases_bill_periods() == 2  # the first week and the second, started
    assert leases_bill_periods() == 0  # same periods: nothing more
    assert balances(customer=customer).paid == D("60.00")
    assert LeaseCharge.objects.filter(lease=lease, paid=True).count() == 2
    returned = lease_return(asset_serial="DRILL-1", site=station.site)
    returned.order.refresh_from_db()
    assert returned.amount == D("0.00") and returned.order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_a_lease_reaching_its_maximum_is_closed_as_bought(station, django_capture_on_commit_callbacks):
    from leasing.services import leases_close_at_maximum

    customer, asset = _customer("150.00"), _asset(station)
    lease = _rent(station, customer, asset, django_capture_on_commit_callbacks)
    Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(days=5))
    assert leases_close_at_maximum() == 1
    assert leases_close_at_maximum() == 0
    lease.refresh_from_db()
    asset.refresh_from_db()
    assert (lease.stage, lease.amount, asset.state) == ("bought", D("99.00"), "sold")
    assert balances(customer=customer) == Balances(paid=D("51.00"), bonus=D("0.00"), held=D("0.00"))


@pytest.mark.django_db
def test_a_clerk_scans_a_return_at_the_store_and_staff_see_the_running_cost(
    station, api_client, world, django_capture_on_commit_callbacks
):
    from core.services import scope_grant

    scope_grant(actor=None, user=world.regional, target=station.site.region, action="change")
    customer, asset = _customer(), _asset(station)
    lease = _rent(station, customer, asset, django_capture_on_commit_callbacks)
    Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=90))
    api_client.force_authenticate(world.regional)
    listed = api_client.get("/api/v1/leases/").json()["results"]
    assert listed[0]["running_cost"] == "6.00"
    store = SiteFactory(region=station.site.region)
    scope_grant(actor=None, user=world.regional, target=store, action="change")
    done = api_client.post("/api/v1/leases/return-scan/", {"asset": asset.serial, "site": store.pk}, format="json")
    assert done.status_code == 200 and done.json()["amount"] == "6.00"
    again = api_client.post("/api/v1/leases/return-scan/", {"asset": asset.serial, "site": store.pk}, format="json")
    assert again.status_code == 400
