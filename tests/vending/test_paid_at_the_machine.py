"""A machine sells and is paid through the device API alone: its card reader, its coin mech, or
an online payment whose QR code it shows and whose provider callback pays it. The dispense
command follows, the machine reports the result, and the sale completes or is refunded."""

from decimal import Decimal

import pytest

from devices.models import Device
from devices.services import device_pair
from orders.models import Order, Payment
from tests.factories import DeviceFactory
from tests.wallet.test_online_providers import NOTICES, _post
from vending.services import slot_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def machine(api_client, db):
    from inventory.services import stock_move
    from tests.factories import ProductFactory

    device = DeviceFactory(kind=Device.Kind.VENDING)
    slot = slot_create(device=device, code="A1", product=ProductFactory(sale_price=Decimal("3.50")), capacity=10)
    stock_move(level=slot.level, quantity=5, reason="restock", reference="initial")
    _device, token = device_pair(serial_number=device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    api_client.slot = slot
    return api_client


def _start(client, request_id):
    response = client.post("/api/v1/device/vends/", {"slot": "A1", "request_id": request_id}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _dispense(client, command_id, succeeded=True):
    pending = client.get("/api/v1/device/commands/").json()
    assert [c["command_id"] for c in pending] == [command_id]
    assert pending[0]["kind"] == "dispense" and pending[0]["payload"]["slot"] == "A1"
    assert client.post(f"/api/v1/device/commands/{command_id}/ack/").status_code == 200
    result = client.post(f"/api/v1/device/commands/{command_id}/result/", {"succeeded": succeeded}, format="json")
    assert result.status_code == 200, result.content


def test_card_reader_payment_dispenses_and_completes(machine, django_capture_on_commit_callbacks):
    sale = _start(machine, "m-1")
    assert sale["status"] == "new" and sale["dispense_command"] is None and sale["payment"] is None
    body = {"method": "card", "amount": "3.50", "reference": "MDB-APPROVAL-991"}
    with django_capture_on_commit_callbacks(execute=True):
        paid = machine.post("/api/v1/device/vends/m-1/pay/", body, format="json")
    assert paid.status_code == 200, paid.content
    paid = paid.json()
    assert paid["status"] == "fulfilling" and paid["payment"]["status"] == "succeeded"
    assert paid["payment"]["method"] == "card" and paid["payment"]["reference"] == "MDB-APPROVAL-991"
    # The reply was lost; the machine sends the same report again and gets the same answer.
    again = machine.post("/api/v1/device/vends/m-1/pay/", body, format="json")
    assert again.status_code == 200 and again.json()["payment"]["id"] == paid["payment"]["id"]
    assert Payment.objects.filter(order_id=paid["order"]).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(machine, paid["dispense_command"])
    assert machine.get("/api/v1/device/vends/m-1/").json()["status"] == "completed"


def test_coin_payment_whose_dispense_fails_is_refunded_and_the_item_goes_back(
    machine, django_capture_on_commit_callbacks
):
    level = machine.slot.level
    sale = _start(machine, "m-2")
    with django_capture_on_commit_callbacks(execute=True):
        paid = machine.post("/api/v1/device/vends/m-2/pay/", {"method": "coin", "amount": "3.50"}, format="json")
    assert paid.status_code == 200, paid.content
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(machine, paid.json()["dispense_command"], succeeded=False)
    order = Order.objects.get(pk=sale["order"])
    assert order.status == "refunded" and order.refunded_amount == Decimal("3.50")
    level.refresh_from_db()
    assert level.quantity == 5


@pytest.mark.parametrize("code", ["alipay", "wechat", "stripe"])
def test_qr_payment_is_paid_by_the_provider_callback_then_dispensed(
    code,
    keys,
    machine,
    client,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    sale = _start(machine, f"q-{code}")
    asked = machine.post(f"/api/v1/device/vends/q-{code}/pay/", {"method": code}, format="json")
    assert asked.status_code == 200, asked.content
    payment = asked.json()["payment"]
    assert payment["status"] == "pending" and payment["qr"] and payment["amount"] == "3.50"
    assert asked.json()["dispense_command"] is None
    # Retrying after a lost reply shows the same QR code; no second payment is created.
    retry = machine.post(f"/api/v1/device/vends/q-{code}/pay/", {"method": code}, format="json").json()
    assert retry["payment"]["qr"] == payment["qr"]
    # While the QR payment waits, the coin mech cannot also take money for the same sale.
    coins = machine.post(f"/api/v1/device/vends/q-{code}/pay/", {"method": "coin", "amount": "3.50"}, format="json")
    assert coins.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        notified = _post(client, code, NOTICES[code](keys, Payment.objects.get(pk=payment["id"])))
    assert notified.status_code == 200
    polled = machine.get(f"/api/v1/device/vends/q-{code}/").json()
    assert polled["status"] == "fulfilling" and polled["payment"]["qr"] is None
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(machine, polled["dispense_command"])
    assert Order.objects.get(pk=sale["order"]).status == "completed"


def test_wrong_reports_are_refused_and_change_nothing(machine, api_client):
    _start(machine, "b-1")
    wrong_amount = machine.post("/api/v1/device/vends/b-1/pay/", {"method": "coin", "amount": "1.00"}, format="json")
    assert wrong_amount.status_code == 400 and "3.50" in str(wrong_amount.json())
    no_reference = machine.post("/api/v1/device/vends/b-1/pay/", {"method": "card", "amount": "3.50"}, format="json")
    assert no_reference.status_code == 400 and "reference" in no_reference.json()
    not_offered = machine.post("/api/v1/device/vends/b-1/pay/", {"method": "alipay"}, format="json")
    assert not_offered.status_code == 400  # no Alipay credentials in this deployment
    for amount in ("NaN", "Infinity", "-3.50", "1e309"):
        hostile = machine.post("/api/v1/device/vends/b-1/pay/", {"method": "coin", "amount": amount}, format="json")
        assert hostile.status_code == 400
    assert not Payment.objects.exists()
    # Another machine cannot pay, see or cancel this machine's sale.
    other = DeviceFactory(kind=Device.Kind.VENDING)
    _d, token = device_pair(serial_number=other.serial_number)
    from rest_framework.test import APIClient

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    assert (
        stranger.post("/api/v1/device/vends/b-1/pay/", {"method": "coin", "amount": "3.50"}, format="json").status_code
        == 404
    )
    assert stranger.get("/api/v1/device/vends/b-1/").status_code == 404
    assert stranger.post("/api/v1/device/vends/b-1/cancel/").status_code == 404
    assert not Payment.objects.exists()


def test_a_sale_that_expired_or_was_cancelled_takes_no_payment(machine):
    level = machine.slot.level
    _start(machine, "c-1")
    level.refresh_from_db()
    assert level.quantity == 4
    cancelled = machine.post("/api/v1/device/vends/c-1/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert machine.post("/api/v1/device/vends/c-1/cancel/").json()["status"] == "cancelled"  # a retry
    level.refresh_from_db()
    assert level.quantity == 5
    late = machine.post("/api/v1/device/vends/c-1/pay/", {"method": "coin", "amount": "3.50"}, format="json")
    assert late.status_code == 400 and not Payment.objects.exists()
