"""A customer books a locker compartment in the app: sees the banks of their region with each
size's price (the region's setting) and free count, books and pays with the wallet (the drop-off
code comes with the answer) or an online provider (the callback pays it, then the app asks for the
code), drops the parcel off with the code at the bank's keypad (device API), gets the pickup code,
and collects. Refused with nothing kept: no compartment fits, a bank of another region, not enough
balance. An unpaid booking expires and frees its compartment."""

import datetime
import hashlib
import secrets
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from core.models import Notification
from core.region_settings import region_setting_set
from devices.models import Device
from devices.services import device_pair
from lockers.bookings import locker_bookings_expire
from lockers.models import Compartment, LockerOrder
from lockers.services import compartments_create
from members.models import Customer, CustomerToken
from orders.models import Order, Payment
from tests.factories import DeviceFactory
from tests.wallet.test_online_providers import NOTICES, _post, keys  # noqa: F401  (the fixture)
from wallet.services import balances, recharge_credit

pytestmark = pytest.mark.django_db
D = Decimal


def _member(region, *, balance="0"):
    customer = Customer.objects.create(phone=f"+86139{secrets.randbelow(10**8):08d}", home_region=region)
    if D(balance):
        recharge_credit(customer=customer, amount=D(balance), provider="cash", key=f"seed:{customer.pk}")
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    client.customer = customer
    return client


@pytest.fixture
def bank(world):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=bank, sizes=["S", "M"])
    _device, token = device_pair(serial_number=bank.serial_number)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    bank.client = client
    return bank


def _door_closed(bank, door):
    response = bank.client.post(
        "/api/v1/device/events/", {"kind": "door_closed", "data": {"door": door}}, format="json"
    )
    assert response.status_code in (200, 201, 202), response.content


def test_wallet_booking_gives_the_dropoff_code_and_the_parcel_goes_round(
    world, bank, django_capture_on_commit_callbacks
):
    region_setting_set(actor=world.admin, region=world.east, key="lockers.booking_price.S", raw="2.50")
    member = _member(world.east, balance="20")
    banks = member.get("/api/v1/customer/locker-bookings/banks/")
    assert banks.status_code == 200, banks.content
    [offer] = [b for b in banks.json() if b["id"] == bank.pk]
    assert {s["size"]: (s["price"], s["free"]) for s in offer["sizes"]}["S"] == ("2.50", 1)
    assert "wallet" in offer["methods"]
    # At the bank: the QR code on its screen gives the same offer.
    code = bank.client.get("/api/v1/device/app-code/").json()["app_code"]
    scanned = member.post("/api/v1/customer/locker-bookings/scan/", {"code": code}, format="json")
    assert scanned.status_code == 200 and scanned.json() == offer
    forged = member.post("/api/v1/customer/locker-bookings/scan/", {"code": code[:-2] + "xx"}, format="json")
    assert forged.status_code == 400
    body = {"bank": bank.pk, "size": "S", "method": "wallet", "request_id": "bk-1"}
    with django_capture_on_commit_callbacks(execute=True):
        booked = member.post("/api/v1/customer/locker-bookings/", body, format="json")
    assert booked.status_code == 201, booked.content
    booked = booked.json()
    assert booked["price"] == "2.50" and booked["status"] == "fulfilling" and booked["stage"] == "assigned"
    assert booked["door"] == 1 and len(booked["dropoff_code"]) >= 6 and booked["pay_until"] is None
    assert balances(customer=member.customer).paid == D("17.50")
    # A retry after a lost answer: the same booking, charged once, with a fresh working code.
    again = member.post("/api/v1/customer/locker-bookings/", body, format="json").json()
    assert again["id"] == booked["id"] and again["dropoff_code"]
    assert balances(customer=member.customer).paid == D("17.50")
    opened = bank.client.post("/api/v1/device/pickup/", {"code": again["dropoff_code"]}, format="json")
    assert opened.status_code == 200, opened.content
    assert opened.json()["purpose"] == "dropoff"
    with django_capture_on_commit_callbacks(execute=True):
        _door_closed(bank, 1)
    assert LockerOrder.objects.get(pk=booked["id"]).stage == "ready"
    sent = Notification.objects.filter(template="pickup_ready", recipient_id=member.customer.pk)
    assert sent.exists()
    listed = member.get("/api/v1/customer/locker-bookings/").json()
    assert [row["stage"] for row in listed["results"]] == ["ready"]


def test_online_booking_is_paid_by_the_callback_then_the_app_gets_the_code(
    world,
    bank,
    keys,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    member = _member(world.east)
    body = {"bank": bank.pk, "size": "M", "method": "alipay", "request_id": "bk-q"}
    booked = member.post("/api/v1/customer/locker-bookings/", body, format="json")
    assert booked.status_code == 201, booked.content
    booked = booked.json()
    assert booked["status"] == "new" and booked["dropoff_code"] == "" and booked["pay_until"]
    assert booked["payment"]["status"] == "pending" and booked["payment"]["qr"] and booked["price"] == "4.00"
    early = member.post(f"/api/v1/customer/locker-bookings/{booked['id']}/dropoff-code/")
    assert early.status_code == 400 and "Pay" in str(early.json())
    with django_capture_on_commit_callbacks(execute=True):
        paid = _post(client, "alipay", NOTICES["alipay"](keys, Payment.objects.get(pk=booked["payment"]["id"])))
    assert paid.status_code == 200
    shown = member.get(f"/api/v1/customer/locker-bookings/{booked['id']}/").json()
    assert shown["status"] == "fulfilling" and shown["paid"] == "4.00"
    code = member.post(f"/api/v1/customer/locker-bookings/{booked['id']}/dropoff-code/")
    assert code.status_code == 201, code.content
    opened = bank.client.post("/api/v1/device/pickup/", {"code": code.json()["dropoff_code"]}, format="json")
    assert opened.status_code == 200 and opened.json()["purpose"] == "dropoff"


def test_refusals_keep_nothing(world, bank):
    member = _member(world.east, balance="3")
    before = (Order.objects.count(), list(Compartment.objects.values_list("state", flat=True)))
    # Not enough balance for an M (4.00): refused, the compartment is free again.
    poor = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "M", "method": "wallet", "request_id": "p-1"},
        format="json",
    )
    assert poor.status_code == 400 and "method" in poor.json()
    assert list(Compartment.objects.values_list("state", flat=True)) == before[1]
    assert Order.objects.get(external_reference="", idempotency_key__endswith=":p-1").status == "cancelled"
    # The app retries the refused booking: still refused, nothing charged, nothing reserved.
    retried = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "M", "method": "wallet", "request_id": "p-1"},
        format="json",
    )
    assert retried.status_code == 400 and "book again" in str(retried.json())
    # No compartment of size L or larger.
    big = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "L", "method": "wallet", "request_id": "p-2"},
        format="json",
    )
    assert big.status_code == 400 and "No free compartment" in str(big.json())
    # A bank of another region, and one that does not exist.
    west_bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.west_store)
    compartments_create(bank=west_bank, sizes=["S"])
    for bank_id in (west_bank.pk, 999999):
        other = member.post(
            "/api/v1/customer/locker-bookings/",
            {"bank": bank_id, "size": "S", "method": "wallet", "request_id": f"p-{bank_id}"},
            format="json",
        )
        assert other.status_code == 400 and "bank" in other.json()
    assert west_bank.pk not in [b["id"] for b in member.get("/api/v1/customer/locker-bookings/banks/").json()]
    assert Order.objects.count() == before[0] + 1  # only the cancelled one of the empty wallet
    assert list(Compartment.objects.filter(bank=bank).values_list("state", flat=True)) == ["free", "free"]
    # Someone else's booking is not found.
    stranger = _member(world.east, balance="10")
    mine = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "S", "method": "points", "request_id": "p-3"},
        format="json",
    )
    assert mine.status_code == 400  # no points either
    assert stranger.get("/api/v1/customer/locker-bookings/").json()["results"] == []


def test_an_unpaid_booking_expires_and_frees_its_compartment(world, bank, keys):  # noqa: F811
    member = _member(world.east)
    booked = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "S", "method": "wechat", "request_id": "x-1"},
        format="json",
    ).json()
    assert Compartment.objects.get(bank=bank, door=1).state == "reserved"
    assert locker_bookings_expire() == 0
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=16)
    assert locker_bookings_expire(now=later) == 1
    assert locker_bookings_expire(now=later) == 0
    assert Compartment.objects.get(bank=bank, door=1).state == "free"
    shown = member.get(f"/api/v1/customer/locker-bookings/{booked['id']}/").json()
    assert shown["status"] == "expired" and shown["stage"] == "cancelled"
    code = member.post(f"/api/v1/customer/locker-bookings/{booked['id']}/dropoff-code/")
    assert code.status_code == 400
    assert member.post(f"/api/v1/customer/locker-bookings/{booked['id']}/cancel/").status_code == 400


def test_the_customer_cancels_an_unpaid_booking_but_not_a_paid_one(world, bank, keys):  # noqa: F811
    member = _member(world.east, balance="10")
    waiting = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "S", "method": "stripe", "request_id": "c-1"},
        format="json",
    ).json()
    stranger = _member(world.east)
    assert stranger.post(f"/api/v1/customer/locker-bookings/{waiting['id']}/cancel/").status_code == 404
    cancelled = member.post(f"/api/v1/customer/locker-bookings/{waiting['id']}/cancel/")
    assert cancelled.status_code == 200, cancelled.content
    assert (cancelled.json()["status"], cancelled.json()["stage"]) == ("cancelled", "cancelled")
    assert Compartment.objects.get(bank=bank, door=1).state == "free"
    paid = member.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "S", "method": "wallet", "request_id": "c-2"},
        format="json",
    ).json()
    refused = member.post(f"/api/v1/customer/locker-bookings/{paid['id']}/cancel/")
    assert refused.status_code == 400 and "not paid yet" in str(refused.json())
    assert balances(customer=member.customer).paid == D("7.00")
