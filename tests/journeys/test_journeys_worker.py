"""Issue 16's journeys end to end on PostgreSQL and Redis with a real Celery worker (one for the
module): every step a person or machine takes goes through HTTP (device API, customer API, the
providers' callbacks, the console) or the serial gateway's simulated cabinet; the worker delivers
the notifications (the SMS land in the console outbox). Nothing is called from Python but reads
for the assertions and, for the rental, the clock moved forward an hour.

The courier's locker journey (partner API → gateway drop-off → SMS → gateway pickup → webhook
delivered once) is tests/lockers/test_operator_orders_worker.py, with a worker too."""

import datetime
import hashlib
import re
import secrets
import time
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import OutboxMessage
from devices.models import Device
from devices.services import device_pair
from leasing.models import Asset, Lease, RatePlan
from lockers.services import compartments_create
from members.models import Customer, CustomerToken, MemberLevel
from orders.models import Payment
from tests.factories import DeviceFactory, ProductFactory, SiteFactory
from tests.wallet.test_online_providers import NOTICES, _post, keys  # noqa: F401  (the fixture)
from wallet.models import BonusTier
from wallet.services import recharge_credit

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
CODE = re.compile(r"\b(\d{8})\b")


@pytest.fixture(scope="module")
def worker():
    """One Celery worker (a thread, solo pool) on the Redis broker for every journey here."""
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from config.celery import app

    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL=redis://...")
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    app.conf.task_always_eager, app.conf.broker_url = eager, broker


@pytest.fixture
def journey(worker, settings):
    settings.SMS_PROVIDER = "core.sms.ConsoleOutboxSMSProvider"
    yield
    connection.close()


def _wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _phone() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


def _device(device) -> APIClient:
    _d, token = device_pair(serial_number=device.serial_number)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    client.device = device
    return client


def _signed_in(phone: str) -> APIClient:
    """The app signs in with the SMS code the worker delivered to the outbox."""
    app = APIClient()
    assert app.post("/api/v1/customer/sign-in/", {"phone": phone}, format="json").status_code == 202
    assert _wait_for(lambda: OutboxMessage.objects.filter(address__endswith=phone[-8:]).exists())
    body = OutboxMessage.objects.filter(address__endswith=phone[-8:]).latest("pk").body
    code = re.search(r"\b(\d{4,8})\b", body).group(1)
    token = app.post("/api/v1/customer/sign-in/verify/", {"phone": phone, "code": code}, format="json")
    assert token.status_code == 201, token.content
    app.credentials(HTTP_AUTHORIZATION=f"Customer {token.json()['token']}")
    app.customer = Customer.objects.get(pk=token.json()["customer"])
    return app


def _app_for(customer) -> APIClient:
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    app.customer = customer
    return app


def _machine(site, price="4.00", quantity=5) -> APIClient:
    from inventory.services import stock_move
    from vending.services import slot_create

    device = DeviceFactory(kind=Device.Kind.VENDING, site=site)
    slot = slot_create(device=device, code="A1", product=ProductFactory(sale_price=D(price)), capacity=10)
    stock_move(level=slot.level, quantity=quantity, reason="restock", reference="initial")
    return _device(device)


def _run_command(device: APIClient, kind: str, succeeded=True) -> dict:
    """The machine polls its commands, acknowledges the one waiting and reports its result."""
    pending = device.get("/api/v1/device/commands/").json()
    assert [c["kind"] for c in pending] == [kind], pending
    command = pending[0]["command_id"]
    assert device.post(f"/api/v1/device/commands/{command}/ack/").status_code == 200
    result = device.post(f"/api/v1/device/commands/{command}/result/", {"succeeded": succeeded}, format="json")
    assert result.status_code == 200, result.content
    return pending[0]


def _me(app) -> dict:
    return app.get("/api/v1/customer/me/").json()


def test_machine_sale_paid_by_the_card_reader_is_dispensed_and_completed(journey, world):
    machine = _machine(world.east_store, price="3.50")
    started = machine.post("/api/v1/device/vends/", {"slot": "A1", "request_id": "j-card-1"}, format="json")
    assert started.status_code == 201 and started.json()["status"] == "new"
    body = {"method": "card", "amount": "3.50", "reference": "MDB-APPROVAL-7"}
    paid = machine.post("/api/v1/device/vends/j-card-1/pay/", body, format="json")
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "fulfilling" and paid.json()["payment"]["status"] == "succeeded"
    assert _run_command(machine, "dispense")["payload"]["slot"] == "A1"
    sale = machine.get("/api/v1/device/vends/j-card-1/").json()
    assert sale["status"] == "completed" and sale["paid"] == "3.50"


def test_machine_sale_paid_by_qr_through_the_signed_provider_callback_is_dispensed(
    journey,
    world,
    keys,  # noqa: F811
):
    machine = _machine(world.east_store, price="6.00")
    machine.post("/api/v1/device/vends/", {"slot": "A1", "request_id": "j-qr-1"}, format="json")
    asked = machine.post("/api/v1/device/vends/j-qr-1/pay/", {"method": "alipay"}, format="json")
    assert asked.status_code == 200, asked.content
    payment = asked.json()["payment"]
    assert payment["status"] == "pending" and payment["qr"].startswith("https://qr.alipay.com/")
    assert machine.get("/api/v1/device/commands/").json() == []  # nothing dispensed before the money
    notice = NOTICES["alipay"](keys, Payment.objects.get(pk=payment["id"]))  # what Alipay sends, signed
    assert _post(Client(), "alipay", notice).status_code == 200
    assert _run_command(machine, "dispense")["payload"]["slot"] == "A1"
    sale = machine.get("/api/v1/device/vends/j-qr-1/").json()
    assert sale["status"] == "completed" and sale["payment"]["status"] == "succeeded"


def test_member_buys_at_a_machine_with_wallet_balance_from_the_app_and_earns_points(journey, world):
    MemberLevel.objects.get_or_create(level=0, defaults={"name": "Member", "min_spend": 0, "points_multiplier": 1})
    phone = _phone()
    app = _signed_in(phone)
    recharge_credit(customer=app.customer, amount=D("20.00"), provider="cash", key=f"j-seed:{app.customer.pk}")
    machine = _machine(world.east_store, price="4.00")
    [slot] = machine.get("/api/v1/device/slots/").json()
    quote = app.post("/api/v1/customer/machine/scan/", {"code": slot["app_code"]}, format="json").json()
    assert quote["member_price"] == "4.00" and "wallet" in quote["methods"]
    bought = app.post(
        "/api/v1/customer/machine/buy/",
        {"code": slot["app_code"], "method": "wallet", "request_id": "j-app-1"},
        format="json",
    )
    assert bought.status_code == 201, bought.content
    assert bought.json()["status"] == "fulfilling" and _me(app)["balance"] == "16.00"
    _run_command(machine, "dispense")
    order = app.get(f"/api/v1/customer/orders/{bought.json()['order']}/").json()
    assert order["status"] == "completed"
    assert _me(app)["points"] > 0
    assert [row["reason"] for row in app.get("/api/v1/customer/points/").json()["results"]] == ["earned"]


def test_a_dispense_that_fails_is_refunded_to_the_wallet(journey, world):
    app = _app_for(Customer.objects.create(phone=f"+86{_phone()}", home_region=world.east))
    recharge_credit(customer=app.customer, amount=D("10.00"), provider="cash", key=f"j-seed:{app.customer.pk}")
    machine = _machine(world.east_store, price="4.00", quantity=1)
    [slot] = machine.get("/api/v1/device/slots/").json()
    bought = app.post(
        "/api/v1/customer/machine/buy/",
        {"code": slot["app_code"], "method": "wallet", "request_id": "j-fail-1"},
        format="json",
    )
    assert bought.status_code == 201 and _me(app)["balance"] == "6.00"
    _run_command(machine, "dispense", succeeded=False)
    order = app.get(f"/api/v1/customer/orders/{bought.json()['order']}/").json()
    assert order["status"] == "refunded" and order["refunded_amount"] == "4.00"
    assert _me(app)["balance"] == "10.00"
    assert machine.get("/api/v1/device/slots/").json()[0]["quantity"] == 1  # the item went back


def test_counter_pickup_code_issued_on_the_console_and_redeemed_at_the_counter(journey, world):
    phone = _phone()
    manager, clerk = Client(), Client()
    manager.force_login(world.manager)
    clerk.force_login(world.clerk)
    issued = manager.post(
        "/pickup/issue/",
        {"action": "new", "site": world.east_store.pk, "recipient_phone": phone, "reference": "WEB-J1"},
        follow=True,
    )
    assert issued.status_code == 200 and "the pickup code was sent to the customer" in issued.content.decode()
    assert _wait_for(lambda: OutboxMessage.objects.filter(template="pickup_ready", address__endswith=phone).exists())
    code = CODE.search(OutboxMessage.objects.get(template="pickup_ready", address__endswith=phone).body).group(1)
    wrong = clerk.post("/pickup/counter/", {"action": "check", "site": world.west_store.pk, "code": code})
    assert "Hand over" not in wrong.content.decode()  # another store's counter
    handed = clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": code})
    assert "Hand over order" in handed.content.decode()
    app = _app_for(Customer.objects.get(phone__endswith=phone))
    [order] = app.get("/api/v1/customer/orders/").json()["results"]
    assert order["status"] == "completed" and order["kind"] == "pickup"
    again = clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": code})
    assert "Hand over order" not in again.content.decode()


def test_customer_rents_a_power_bank_by_qr_returns_it_at_another_station_and_pays_by_usage(journey, world):
    site = SiteFactory(region=world.east)
    RatePlan.objects.create(
        name="Power bank",
        asset_kind="powerbank",
        region=world.east,
        unit_minutes=60,
        unit_price=D("3.00"),
        free_minutes=5,
        daily_cap=D("30.00"),
        deposit=D("99.00"),
    )
    station = _device(DeviceFactory(kind=Device.Kind.RENTAL, site=site))
    Asset.objects.create(serial="PB-J1", kind="powerbank", station=station.device, slot="2", site=site)
    app = _app_for(Customer.objects.create(phone=f"+86{_phone()}", home_region=world.east))
    recharge_credit(customer=app.customer, amount=D("120.00"), provider="cash", key=f"j-seed:{app.customer.pk}")
    code = station.get("/api/v1/device/app-code/").json()["app_code"]
    offer = app.post("/api/v1/customer/rentals/scan/", {"code": code}, format="json").json()
    assert offer["offers"][0]["deposit"] == "99.00"
    rented = app.post("/api/v1/customer/rentals/", {"code": code, "kind": "powerbank"}, format="json")
    assert rented.status_code == 201, rented.content
    assert _run_command(station, "eject")["payload"]["asset"] == "PB-J1"
    assert _me(app)["held"] == "99.00"
    lease_id = rented.json()["id"]
    # The clock moves on: the customer kept it for a little over two hours.
    Lease.objects.filter(pk=lease_id).update(rented_at=timezone.now() - datetime.timedelta(minutes=121))
    assert app.get(f"/api/v1/customer/rentals/{lease_id}/").json()["running_cost"] == "9.00"
    other = _device(DeviceFactory(kind=Device.Kind.RENTAL, site=SiteFactory(region=world.east)))
    returned = other.post(
        "/api/v1/device/events/", {"kind": "asset_returned", "data": {"asset": "PB-J1", "slot": "1"}}, format="json"
    )
    assert returned.status_code == 201
    lease = app.get(f"/api/v1/customer/rentals/{lease_id}/").json()
    assert lease["stage"] == "returned" and lease["amount"] == "9.00"
    me = _me(app)
    assert (me["balance"], me["held"]) == ("111.00", "0.00")
    assert app.get("/api/v1/customer/orders/").json()["results"][0]["status"] == "completed"


def test_recharge_100_with_10_bonus_refunded_at_the_till_leaves_nothing_spendable(
    journey,
    world,
    keys,  # noqa: F811
):
    BonusTier.objects.create(region=world.east, min_amount=D("100"), bonus=D("10"))
    app = _app_for(Customer.objects.create(phone=f"+86{_phone()}", home_region=world.east))
    started = app.post("/api/v1/customer/recharge/", {"amount": "100.00", "method": "stripe"}, format="json")
    assert started.status_code == 201 and started.json()["bonus"] == "10.00"
    notice = NOTICES["stripe"](keys, Payment.objects.get(pk=started.json()["payment"]))  # Stripe's signed event
    assert _post(Client(), "stripe", notice).status_code == 200
    me = _me(app)
    assert (me["balance"], me["bonus"]) == ("100.00", "10.00")
    [recharge] = app.get("/api/v1/customer/recharges/").json()["results"]
    till = Client()
    till.force_login(world.admin)
    found = till.get("/staff/cashier/", {"number": recharge["number"]})  # the clerk types the number
    assert found.status_code == 302, found.content.decode()[:300]
    refunded = till.post(
        found["Location"],
        {"form": "refund", "amount": "100.00", "reason": "customer moved away"},
    )
    assert refunded.status_code == 302, refunded.content.decode()[:300]
    me = _me(app)
    assert (me["balance"], me["bonus"], me["held"]) == ("0.00", "0.00", "0.00")
    # Nothing spendable: the wallet cannot pay even a small purchase at a machine.
    machine = _machine(world.east_store, price="1.00")
    [slot] = machine.get("/api/v1/device/slots/").json()
    refused = app.post(
        "/api/v1/customer/machine/buy/",
        {"code": slot["app_code"], "method": "wallet", "request_id": "j-after-refund"},
        format="json",
    )
    assert refused.status_code == 400
    statuses = {row["number"]: row["status"] for row in app.get("/api/v1/customer/orders/").json()["results"]}
    assert statuses[recharge["number"]] == "refunded"


def test_customer_books_a_locker_in_the_app_drops_off_and_collects_through_the_gateway(journey, world, tmp_path):
    from gateway.driver import CabinetGateway
    from gateway.simulator import Cabinet
    from gateway.sinks import LocalSink

    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=bank, sizes=["S", "M", "L"])
    phone = _phone()
    app = _signed_in(phone)
    Customer.objects.filter(pk=app.customer.pk).update(home_region=world.east)
    recharge_credit(customer=app.customer, amount=D("10.00"), provider="cash", key=f"j-seed:{app.customer.pk}")
    [offer] = [b for b in app.get("/api/v1/customer/locker-bookings/banks/").json() if b["id"] == bank.pk]
    price = {s["size"]: s["price"] for s in offer["sizes"]}["M"]
    booked = app.post(
        "/api/v1/customer/locker-bookings/",
        {"bank": bank.pk, "size": "M", "method": "wallet", "request_id": "j-lock-1"},
        format="json",
    )
    assert booked.status_code == 201, booked.content
    booked = booked.json()
    assert booked["price"] == price and _me(app)["balance"] == str(D("10.00") - D(price))
    door = booked["door"]
    with Cabinet(addresses=(1,), locks=3, directory=str(tmp_path)) as cabinet:
        gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: bank}), timeout=0.2, retries=2)
        gateway.bus.open()
        gateway.cycle(idle=0.02)
        cabinet.send_keypad(1, booked["dropoff_code"])
        assert _wait_for(lambda: gateway.cycle(idle=0.05) or cabinet.boards[1].pulses[door - 1] == 1)
        cabinet.boards[1].close_door(door - 1)
        gateway.cycle(idle=0.05)
        sent = OutboxMessage.objects.filter(template="pickup_ready", address__endswith=phone)
        assert _wait_for(sent.exists)
        cabinet.send_keypad(1, CODE.search(sent.get().body).group(1))
        assert _wait_for(lambda: gateway.cycle(idle=0.05) or cabinet.boards[1].pulses[door - 1] == 2)
        cabinet.boards[1].close_door(door - 1)
        gateway.cycle(idle=0.05)
        gateway.bus.close()
    shown = app.get(f"/api/v1/customer/locker-bookings/{booked['id']}/").json()
    assert shown["status"] == "completed" and shown["stage"] == "collected"
