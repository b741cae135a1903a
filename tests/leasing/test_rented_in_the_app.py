"""A customer rents a power bank by scanning the station's QR code in the app, the station ejects
it (device API), the customer follows the running cost, returns it at another station of the
region (device API event) and pays by usage from the deposit; long-term leases are renewed in the
app. Forged codes, another customer's lease and an empty station are refused."""

import datetime
import hashlib
import secrets
from decimal import Decimal as D

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from devices.models import Device
from devices.services import device_pair
from leasing.models import Asset, Lease, RatePlan
from members.models import CustomerToken
from tests.factories import CustomerFactory, DeviceFactory, SiteFactory
from wallet.services import Balances, balances, recharge_credit

pytestmark = pytest.mark.django_db


def _device_client(device):
    _d, token = device_pair(serial_number=device.serial_number)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return client


def _customer_client(amount="150.00", level=0):
    customer = CustomerFactory(level=level)
    if D(amount):
        recharge_credit(customer=customer, amount=D(amount), provider="cash", key=f"seed-{customer.pk}")
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    client.customer = customer
    return client


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
        deposit=D("99.00"),
        pay_later_level=3,
    )
    device = DeviceFactory(kind=Device.Kind.RENTAL, site=site)
    Asset.objects.create(serial="PB-1", kind="powerbank", station=device, slot="3", site=site)
    client = _device_client(device)
    client.device = device
    client.code = client.get("/api/v1/device/app-code/").json()["app_code"]
    return client


def _eject(station):
    pending = station.get("/api/v1/device/commands/").json()
    assert [c["kind"] for c in pending] == ["eject"] and pending[0]["payload"]["asset"] == "PB-1"
    command = pending[0]["command_id"]
    assert station.post(f"/api/v1/device/commands/{command}/ack/").status_code == 200
    assert (
        station.post(f"/api/v1/device/commands/{command}/result/", {"succeeded": True}, format="json").status_code
        == 200
    )


def test_rent_by_qr_return_at_another_station_and_pay_by_usage(station, django_capture_on_commit_callbacks):
    renter = _customer_client()
    offer = renter.post("/api/v1/customer/rentals/scan/", {"code": station.code}, format="json")
    assert offer.status_code == 200, offer.content
    [powerbank] = offer.json()["offers"]
    assert powerbank["kind"] == "powerbank" and powerbank["available"] == 1
    assert powerbank["deposit"] == "99.00" and powerbank["pay_later"] is False
    with django_capture_on_commit_callbacks(execute=True):
        rented = renter.post("/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json")
    assert rented.status_code == 201, rented.content
    with django_capture_on_commit_callbacks(execute=True):
        _eject(station)
    lease_id = rented.json()["id"]
    assert balances(customer=renter.customer).held == D("99.00")
    Lease.objects.filter(pk=lease_id).update(rented_at=timezone.now() - datetime.timedelta(minutes=61))
    running = renter.get(f"/api/v1/customer/rentals/{lease_id}/").json()
    assert running["stage"] == "in_use" and running["running_cost"] == "6.00"
    # Returned at another station of the region; the station reports it over the device API.
    other = _device_client(DeviceFactory(kind=Device.Kind.RENTAL, site=SiteFactory(region=station.device.site.region)))
    with django_capture_on_commit_callbacks(execute=True):
        returned = other.post(
            "/api/v1/device/events/", {"kind": "asset_returned", "data": {"asset": "PB-1", "slot": "1"}}, format="json"
        )
    assert returned.status_code == 201
    done = renter.get(f"/api/v1/customer/rentals/{lease_id}/").json()
    assert done["stage"] == "returned" and done["amount"] == "6.00"
    assert balances(customer=renter.customer) == Balances(paid=D("144.00"), bonus=D("0.00"), held=D("0.00"))
    orders = renter.get("/api/v1/customer/orders/").json()["results"]
    assert orders[0]["status"] == "completed"


def test_members_of_the_pay_later_level_rent_without_a_deposit(station, django_capture_on_commit_callbacks):
    member = _customer_client(amount="0", level=3)
    offer = member.post("/api/v1/customer/rentals/scan/", {"code": station.code}, format="json").json()
    assert offer["offers"][0]["pay_later"] is True and offer["offers"][0]["deposit"] == "0.00"
    with django_capture_on_commit_callbacks(execute=True):
        rented = member.post("/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json")
    assert rented.status_code == 201 and rented.json()["pay_later"] is True


def test_bad_codes_empty_stations_and_other_peoples_leases_are_refused(station, django_capture_on_commit_callbacks):
    poor = _customer_client(amount="10.00")
    forged = station.code[:-3] + "xyz"
    assert poor.post("/api/v1/customer/rentals/scan/", {"code": forged}, format="json").status_code == 400
    # Not enough for the deposit: refused, nothing held, the power bank stays in the station.
    short = poor.post("/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json")
    assert short.status_code == 400
    assert Asset.objects.get(serial="PB-1").state == "available" and not Lease.objects.exists()
    renter = _customer_client()
    with django_capture_on_commit_callbacks(execute=True):
        lease = renter.post("/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json")
    assert lease.status_code == 201
    empty = _customer_client().post(
        "/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json"
    )
    assert empty.status_code == 400 and "kind" in empty.json()
    assert poor.get(f"/api/v1/customer/rentals/{lease.json()['id']}/").status_code == 404
    assert poor.post(f"/api/v1/customer/rentals/{lease.json()['id']}/renew/", {}, format="json").status_code == 404
    # A short rental is billed by the minute, not renewed.
    renew = renter.post(f"/api/v1/customer/rentals/{lease.json()['id']}/renew/", {"periods": 1}, format="json")
    assert renew.status_code == 400
    # A vending machine's code is not a rental station's.
    vending = _device_client(DeviceFactory(kind=Device.Kind.VENDING))
    code = vending.get("/api/v1/device/app-code/").json()["app_code"]
    assert renter.post("/api/v1/customer/rentals/scan/", {"code": code}, format="json").status_code == 400


def test_a_long_term_lease_is_renewed_in_the_app(station, django_capture_on_commit_callbacks):
    RatePlan.objects.filter(asset_kind="powerbank").update(billing_period="month", period_price=D("20.00"))
    renter = _customer_client()
    with django_capture_on_commit_callbacks(execute=True):
        rented = renter.post("/api/v1/customer/rentals/", {"code": station.code, "kind": "powerbank"}, format="json")
        _eject(station)
    lease = Lease.objects.get(pk=rented.json()["id"])
    due = lease.due_at
    renewed = renter.post(f"/api/v1/customer/rentals/{lease.pk}/renew/", {"periods": 2}, format="json")
    assert renewed.status_code == 200, renewed.content
    lease.refresh_from_db()
    assert lease.due_at == due + datetime.timedelta(days=60)
