"""A member buys at a machine from the app: the machine lists its slots with their app codes, the
member scans one, sees their price, pays from their wallet (or points, or a QR provider), the
machine dispenses, and the member earns points — or, when the dispense fails, gets the money back
in the wallet. A forged code, someone else's sale and an empty wallet are refused."""

import hashlib
import secrets
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from devices.models import Device
from devices.services import device_pair
from members.models import Customer, CustomerToken, MemberLevel
from orders.models import Order
from tests.factories import DeviceFactory, ProductFactory
from vending.services import slot_create
from wallet.services import balances, recharge_credit

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def machine(db):
    from inventory.services import stock_move

    device = DeviceFactory(kind=Device.Kind.VENDING)
    slot = slot_create(device=device, code="B2", product=ProductFactory(sale_price=D("10.00")), capacity=10)
    stock_move(level=slot.level, quantity=3, reason="restock", reference="initial")
    _device, token = device_pair(serial_number=device.serial_number)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    client.slot = slot
    return client


def _member(*, balance="0", level=0):
    customer = Customer.objects.create(phone=f"+86139{secrets.randbelow(10**8):08d}", level=level)
    if D(balance):
        recharge_credit(customer=customer, amount=D(balance), provider="cash", key=f"seed:{customer.pk}")
    key = secrets.token_urlsafe(16)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    client.customer = customer
    return client


def _app_code(machine):
    slots = machine.get("/api/v1/device/slots/").json()
    assert [s["code"] for s in slots] == ["B2"] and slots[0]["quantity"] == 3
    return slots[0]["app_code"]


def _dispense(machine, succeeded):
    pending = machine.get("/api/v1/device/commands/").json()
    assert len(pending) == 1 and pending[0]["kind"] == "dispense"
    command = pending[0]["command_id"]
    assert machine.post(f"/api/v1/device/commands/{command}/ack/").status_code == 200
    assert (
        machine.post(f"/api/v1/device/commands/{command}/result/", {"succeeded": succeeded}, format="json").status_code
        == 200
    )


def test_member_pays_from_the_wallet_gets_the_item_and_earns_points(machine, django_capture_on_commit_callbacks):
    MemberLevel.objects.create(level=1, name="Silver", min_spend=0, discount_percent=D("10"), points_multiplier=1)
    member = _member(balance="50", level=1)
    code = _app_code(machine)
    quote = member.post("/api/v1/customer/machine/scan/", {"code": code}, format="json")
    assert quote.status_code == 200, quote.content
    assert quote.json()["price"] == "10.00" and quote.json()["member_price"] == "9.00"
    assert "wallet" in quote.json()["methods"] and quote.json()["in_stock"] is True
    body = {"code": code, "method": "wallet", "request_id": "tap-1"}
    with django_capture_on_commit_callbacks(execute=True):
        bought = member.post("/api/v1/customer/machine/buy/", body, format="json")
    assert bought.status_code == 201, bought.content
    assert bought.json()["total"] == "9.00" and bought.json()["status"] == "fulfilling"
    # The app retries after a lost reply: the same sale, charged once.
    again = member.post("/api/v1/customer/machine/buy/", body, format="json")
    assert again.status_code == 201 and again.json()["order"] == bought.json()["order"]
    assert balances(customer=member.customer).paid == D("41.00")
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(machine, succeeded=True)
    followed = member.get(f"/api/v1/customer/orders/{bought.json()['order']}/").json()
    assert followed["status"] == "completed" and followed["channel"] == "app"
    member.customer.refresh_from_db()
    assert member.customer.points > 0
    assert member.get("/api/v1/customer/points/").json()["results"][0]["reason"] == "earned"


def test_a_failed_dispense_puts_the_money_back_in_the_wallet(machine, django_capture_on_commit_callbacks):
    member = _member(balance="20")
    code = _app_code(machine)
    with django_capture_on_commit_callbacks(execute=True):
        bought = member.post(
            "/api/v1/customer/machine/buy/", {"code": code, "method": "wallet", "request_id": "r-1"}, format="json"
        )
    assert bought.status_code == 201, bought.content
    assert balances(customer=member.customer).paid == D("10.00")
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(machine, succeeded=False)
    assert Order.objects.get(pk=bought.json()["order"]).status == "refunded"
    assert balances(customer=member.customer).paid == D("20.00")
    machine.slot.level.refresh_from_db()
    assert machine.slot.level.quantity == 3


def test_forged_codes_empty_wallets_and_strangers_are_refused(machine):
    code = _app_code(machine)
    poor = _member(balance="5")
    for forged in (code[:-2] + ("AA" if not code.endswith("AA") else "BB"), "garbage", ""):
        assert poor.post("/api/v1/customer/machine/scan/", {"code": forged}, format="json").status_code == 400
    short = poor.post(
        "/api/v1/customer/machine/buy/", {"code": code, "method": "wallet", "request_id": "p-1"}, format="json"
    )
    assert short.status_code == 400 and "method" in short.json()
    assert balances(customer=poor.customer).paid == D("5.00")
    machine.slot.level.refresh_from_db()
    assert machine.slot.level.quantity == 3  # the item went back
    not_offered = poor.post(
        "/api/v1/customer/machine/buy/", {"code": code, "method": "alipay", "request_id": "p-2"}, format="json"
    )
    assert not_offered.status_code == 400
    assert APIClient().post("/api/v1/customer/machine/scan/", {"code": code}, format="json").status_code in (401, 403)
    rich = _member(balance="50")
    mine = rich.post(
        "/api/v1/customer/machine/buy/", {"code": code, "method": "wallet", "request_id": "x-1"}, format="json"
    ).json()
    assert poor.get(f"/api/v1/customer/orders/{mine['order']}/").status_code == 404
