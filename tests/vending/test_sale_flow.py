"""The vending sale end to end: stock, payment, dispense command, the machine's answer."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from devices.services import fault_open
from inventory.models import StockMovement
from orders.models import OrderEvent, OrderStatus
from orders.services import payment_collect
from tests.devices.helpers import answer_pending
from vending.services import vend_cancel, vend_start

pytestmark = pytest.mark.django_db
S = OrderStatus


def _buy(slot, request_id, callbacks, *, succeeded=True):
    with callbacks(execute=True):
        vend = vend_start(device=slot.device, slot_code=slot.code, request_id=request_id)
        payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    with callbacks(execute=True):
        answer_pending(slot.device, succeeded=succeeded, result={} if succeeded else {"error": "motor stalled"})
    vend.order.refresh_from_db()
    return vend


def test_a_sale_takes_payment_dispenses_and_completes(slot, django_capture_on_commit_callbacks):
    vend = _buy(slot, "r-1", django_capture_on_commit_callbacks)
    assert vend.order.status == S.COMPLETED
    slot.level.refresh_from_db()
    assert slot.level.quantity == 9
    assert list(StockMovement.objects.filter(level=slot.level, reason="sale").values_list("delta", flat=True)) == [-1]


def test_a_dispense_failure_refunds_in_full_restores_stock_and_logs_every_step(
    slot, django_capture_on_commit_callbacks
):
    vend = _buy(slot, "r-2", django_capture_on_commit_callbacks, succeeded=False)
    order = vend.order
    assert order.status == S.REFUNDED and order.refunded_amount == order.paid_amount == order.total
    slot.level.refresh_from_db()
    assert slot.level.quantity == 10
    log = list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("action", "to_status", "actor_kind"))
    assert log[0] == ("created", "new", "device")
    assert ("dispense.requested", "fulfilling", "system") in log
    assert ("dispense.failed", "failed", "device") in log
    assert log[-1][1] == "refunded" and log[-1][2] == "system"
    assert any(action == "payment" for action, _s, _a in log)


def test_the_same_machine_request_twice_returns_the_same_sale(slot):
    first = vend_start(device=slot.device, slot_code="A1", request_id="same")
    assert vend_start(device=slot.device, slot_code="A1", request_id="same") == first
    with pytest.raises(ValidationError, match="different sale"):
        vend_start(device=slot.device, slot_code="B9", request_id="same")
    slot.level.refresh_from_db()
    assert slot.level.quantity == 9


@pytest.mark.parametrize("problem", ["unknown slot", "fault", "inactive", "sold out", "no request id"])
def test_refusals_are_clear_and_write_nothing(slot, problem):
    from orders.models import Order

    code, request_id = "A1", "x-1"
    if problem == "unknown slot":
        code = "Z9"
    elif problem == "fault":
        fault_open(device=slot.device, code="MOTOR", slot="A1")
    elif problem == "inactive":
        slot.product.is_active = False
        slot.product.save()
    elif problem == "sold out":
        from inventory.services import stock_move

        stock_move(level=slot.level, quantity=-10, reason="adjustment")
    elif problem == "no request id":
        request_id = ""
    before = Order.objects.count()
    with pytest.raises(ValidationError) as caught:
        vend_start(device=slot.device, slot_code=code, request_id=request_id)
    assert caught.value.messages
    assert Order.objects.count() == before


def test_an_unpaid_sale_cancelled_or_timed_out_gives_its_item_back(slot):
    from django.utils import timezone

    from vending.models import Vend
    from vending.services import vends_expire_unpaid

    vend = vend_start(device=slot.device, slot_code="A1", request_id="c-1")
    vend_cancel(vend=vend, actor=None, reason="changed mind")
    stale = vend_start(device=slot.device, slot_code="A1", request_id="c-2")
    Vend.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=10))
    assert vends_expire_unpaid() == 1
    slot.level.refresh_from_db()
    assert slot.level.quantity == 10
    stale.order.refresh_from_db()
    assert stale.order.status == S.EXPIRED


def test_a_dispense_that_expires_unanswered_fails_and_refunds(slot, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from devices.models import DeviceCommand
    from devices.services import commands_expire

    with django_capture_on_commit_callbacks(execute=True):
        vend = vend_start(device=slot.device, slot_code="A1", request_id="e-1")
        payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    DeviceCommand.objects.update(expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        commands_expire(now=timezone.now() + timezone.timedelta(seconds=1))
    vend.order.refresh_from_db()
    assert vend.order.status == S.REFUNDED
    assert vend.order.refunded_amount == Decimal(vend.order.total)


def test_a_machine_starts_a_sale_over_the_device_api_once(slot, api_client):
    from devices.services import device_pair

    _device, token = device_pair(serial_number=slot.device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    body = {"slot": "A1", "request_id": "m-77"}
    first = api_client.post("/api/v1/device/vends/", body, format="json")
    second = api_client.post("/api/v1/device/vends/", body, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] == second.json()["number"]
    unknown = api_client.post("/api/v1/device/vends/", {"slot": "Q1", "request_id": "m-78"}, format="json")
    assert unknown.status_code == 400 and "slot" in unknown.json()


def test_payment_and_dispense_command_commit_together_or_not_at_all(slot, monkeypatch):
    """The command is queued inside the payment's transaction: if it cannot be, the payment is
    not taken either, so no sale is ever paid and left without a dispense."""
    from devices.models import DeviceCommand
    from orders.models import Payment
    from vending import services as vending_services

    vend = vend_start(device=slot.device, slot_code="A1", request_id="atomic-1")

    def broken(**kwargs):
        raise RuntimeError("command queue down")

    monkeypatch.setattr(vending_services, "command_send", broken)
    with pytest.raises(RuntimeError):
        payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    vend.order.refresh_from_db()
    assert vend.order.status == S.NEW and vend.order.paid_amount == 0
    assert not Payment.objects.filter(order=vend.order).exists()
    monkeypatch.undo()

    payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    vend.order.refresh_from_db()
    assert vend.order.status == S.FULFILLING and vend.order.paid_amount == vend.order.total
    command = DeviceCommand.objects.get(device=slot.device, kind="dispense")
    assert command.command_id == vend.command_id  # the id reserved with the sale
    assert command.payload == {"slot": "A1", "order": vend.order.number}
    payment = Payment.objects.get(order=vend.order)
    assert payment.status == Payment.Status.SUCCEEDED and payment.succeeded_at is not None
    log = list(OrderEvent.objects.filter(order=vend.order).order_by("pk").values_list("action", "to_status"))
    assert log == [
        ("created", "new"),
        ("payment", "new"),
        ("status", "paid"),
        ("dispense.requested", "fulfilling"),
    ]


@pytest.mark.django_db(transaction=True)
def test_a_sale_outside_a_transaction_takes_its_number_first_and_a_refusal_leaves_a_gap(slot):
    from inventory.services import stock_move

    first = vend_start(device=slot.device, slot_code="A1", request_id="n-1")
    stock_move(level=slot.level, quantity=-9, reason="adjustment")
    with pytest.raises(ValidationError, match="Sold out"):
        vend_start(device=slot.device, slot_code="A1", request_id="n-2")
    stock_move(level=slot.level, quantity=1, reason="restock")
    third = vend_start(device=slot.device, slot_code="A1", request_id="n-3")
    gap = int(third.order.number[-4:]) - int(first.order.number[-4:])
    assert gap == 2  # the refused sale's number is not reused; numbers stay unique and increasing
    assert third.order.number[:7] == first.order.number[:7]
