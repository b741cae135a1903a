"""Locker orders and pickup-code orders started by the party who starts them in real life — a
courier through the partner API, a clerk on the console, staff through the scoped API — driven to
the end through HTTP and the serial gateway only; refusals write nothing; return-to-sender tasks
are completed on the service staff's page."""

import datetime
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from core.models import OutboxMessage
from devices.models import Device, DeviceCommand
from devices.services import device_pair
from gateway.driver import CabinetGateway
from gateway.simulator import Cabinet
from gateway.sinks import LocalSink
from lockers.models import Compartment, LockerOrder, ReturnTask
from lockers.services import compartments_create
from members.models import Customer
from orders.models import IdempotencyRecord, Order, OrderKind, OrderStatus
from pickup.models import PickupCode
from tests.factories import DeviceFactory, make_order
from tests.orders.partner_helpers import create_partner, partner_api
from tests.orders.receiver import start_receiver

pytestmark = pytest.mark.django_db
CODE = re.compile(r"\b(\d{8})\b")
LOCKER_ORDERS = "/api/v1/partner/locker-orders/"


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.ConsoleOutboxSMSProvider"


@pytest.fixture
def receiver(settings):
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = True  # the receiver is http://127.0.0.1
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def bank(world):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=bank, sizes=["S", "M", "L"])
    return bank


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _code_sent(template: str, phone_end: str) -> str:
    message = OutboxMessage.objects.filter(template=template, address__endswith=phone_end).latest("pk")
    return CODE.search(message.body).group(1)


def test_courier_order_through_the_partner_api_dropped_off_and_collected_through_the_gateway(
    world, bank, outbox, receiver, tmp_path, django_capture_on_commit_callbacks
):
    partner, key, _secret = create_partner(world.admin, region=world.east, banks=[bank], webhook_url=receiver.url)
    api = partner_api(key)
    request = {"bank": bank.pk, "size": "M", "recipient_phone": "13900000001", "parcel_reference": "SF-1001"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(LOCKER_ORDERS, request, format="json", HTTP_IDEMPOTENCY_KEY="parcel-SF-1001")
    assert response.status_code == 201, response.content
    placed = response.json()
    assert (placed["size"], placed["door"], placed["stage"], placed["status"]) == ("M", 2, "assigned", "fulfilling")
    assert placed["parcel_reference"] == "SF-1001"
    dropoff = placed["dropoff_code"]
    # The courier's system retries after a lost answer: the same order and code, nothing new.
    again = api.post(LOCKER_ORDERS, request, format="json", HTTP_IDEMPOTENCY_KEY="parcel-SF-1001")
    assert again.json() == placed and again.headers["Idempotent-Replayed"] == "true"
    assert LockerOrder.objects.count() == 1
    assert Order.objects.get(pk=placed["order_id"]).total == 0  # free to the recipient
    listed = api.get(LOCKER_ORDERS).json()["results"]
    assert [row["number"] for row in listed] == [placed["number"]] and "dropoff_code" not in listed[0]

    door = placed["door"]
    with Cabinet(addresses=(1,), locks=3, directory=str(tmp_path)) as cabinet:
        gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: bank}), timeout=0.2, retries=2)
        gateway.bus.open()

        def cycle(idle=0.05):
            with django_capture_on_commit_callbacks(execute=True):
                gateway.cycle(idle=idle)

        cycle(0.02)
        assert cabinet.boards[1].pulses[door - 1] == 0  # nothing opens before the courier is there
        # The courier types the drop-off code at the bank: the reserved door opens.
        cabinet.send_keypad(1, dropoff)
        cycle()
        cycle()
        assert cabinet.boards[1].pulses[door - 1] == 1
        # The parcel goes in, the door closes: ready, and the recipient gets the code by SMS.
        cabinet.boards[1].close_door(door - 1)
        cycle()
        assert api.get(f"{LOCKER_ORDERS}{placed['id']}/").json()["stage"] == "ready"
        code = _code_sent("pickup_ready", "13900000001")
        assert code != dropoff
        # The drop-off code is spent: typed again, nothing opens.
        cabinet.send_keypad(1, dropoff)
        cycle()
        cycle()
        assert cabinet.boards[1].pulses[door - 1] == 1
        # The recipient types the pickup code: the door opens once; they take the parcel.
        cabinet.send_keypad(1, code)
        cycle()
        cycle()
        assert cabinet.boards[1].pulses[door - 1] == 2
        cabinet.boards[1].close_door(door - 1)
        cycle()
        gateway.bus.close()

    final = api.get(f"{LOCKER_ORDERS}{placed['id']}/").json()
    assert (final["stage"], final["status"]) == ("collected", "completed")
    assert Compartment.objects.get(bank=bank, door=door).state == "free"
    events = [json.loads(r.body)["data"] for r in receiver.requests]
    completed = [e for e in events if e.get("to_status") == "completed"]
    assert len(completed) == 1 and completed[0]["order"]["external_reference"] == "SF-1001"
    assert [e.get("to_status") for e in events].count("fulfilling") == 1


def test_no_fitting_compartment_is_refused_and_writes_nothing(world, bank, outbox):
    _partner, key, _secret = create_partner(world.admin, region=world.east, banks=[bank])
    api = partner_api(key)
    before = (Order.objects.count(), Customer.objects.count(), LockerOrder.objects.count())
    request = {"bank": bank.pk, "size": "XL", "recipient_phone": "13900000002"}
    response = api.post(LOCKER_ORDERS, request, format="json", HTTP_IDEMPOTENCY_KEY="xl-1")
    assert response.status_code == 400
    assert "No free compartment of size XL or larger" in json.dumps(response.json())
    assert (Order.objects.count(), Customer.objects.count(), LockerOrder.objects.count()) == before
    assert not IdempotencyRecord.objects.exists()
    assert set(Compartment.objects.filter(bank=bank).values_list("state", flat=True)) == {"free"}
    bad_phone = api.post(
        LOCKER_ORDERS, {**request, "size": "L", "recipient_phone": "12345"}, format="json", HTTP_IDEMPOTENCY_KEY="xl-1"
    )
    assert bad_phone.status_code == 400 and bad_phone.json() == {
        "recipient_phone": ["Enter the recipient's mobile number."]
    }
    assert (Order.objects.count(), Customer.objects.count(), LockerOrder.objects.count()) == before
    # Corrected with the same key: it goes through.
    request["size"] = "L"
    assert api.post(LOCKER_ORDERS, request, format="json", HTTP_IDEMPOTENCY_KEY="xl-1").status_code == 201


def test_a_partner_cannot_use_a_bank_or_store_it_was_not_given(world, bank, outbox):
    other_bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    compartments_create(bank=other_bank, sizes=["M"])
    _partner, key, _secret = create_partner(world.admin, region=world.east, banks=[bank])
    api = partner_api(key)
    before = (Order.objects.count(), Customer.objects.count())
    response = api.post(
        LOCKER_ORDERS,
        {"bank": other_bank.pk, "size": "M", "recipient_phone": "13900000003"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="other-bank",
    )
    assert response.status_code == 403
    assert "may not use the locker bank" in response.json()["detail"]
    response = api.post(
        "/api/v1/partner/pickup-orders/",
        {"site": world.east_store.pk, "recipient_phone": "13900000003"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="store",
    )
    assert response.status_code == 403
    assert "may not use the store" in response.json()["detail"]
    assert (Order.objects.count(), Customer.objects.count()) == before
    assert Compartment.objects.get(bank=other_bank).state == "free"


def test_partner_pickup_order_at_a_given_store_sends_the_code(world, outbox, django_capture_on_commit_callbacks):
    _partner, key, _secret = create_partner(world.admin, region=world.east, sites=[world.east_store])
    api = partner_api(key)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/partner/pickup-orders/",
            {"site": world.east_store.pk, "recipient_phone": "13900000009", "reference": "SHOP-77"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="shop-77",
        )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "fulfilling" and response.json()["kind"] == "pickup"
    code = _code_sent("pickup_ready", "13900000009")
    assert [row["external_reference"] for row in api.get("/api/v1/partner/pickup-orders/").json()["results"]] == [
        "SHOP-77"
    ]
    with django_capture_on_commit_callbacks(execute=True):
        _browser(world.clerk).post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": code})
    assert Order.objects.get(pk=response.json()["id"]).status == OrderStatus.COMPLETED


def test_counter_pickup_code_issued_from_the_console_and_redeemed_at_the_counter(
    world, outbox, django_capture_on_commit_callbacks
):
    manager = _browser(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            "/pickup/issue/",
            {"action": "new", "site": world.east_store.pk, "recipient_phone": "13900000004", "reference": "WEB-4"},
            follow=True,
        )
    assert response.status_code == 200
    order = Order.objects.get(kind=OrderKind.PICKUP, external_reference="WEB-4")
    assert order.status == OrderStatus.FULFILLING and order.total == 0
    assert "the pickup code was sent to the customer" in response.content.decode()
    code = _code_sent("pickup_ready", "13900000004")
    assert code not in response.content.decode()  # the page never shows it
    clerk = _browser(world.clerk)
    with django_capture_on_commit_callbacks(execute=True):
        handed = clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": code})
    assert f"Hand over order {order.number}" in handed.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    # A counter sale paid at the till and collected later: the clerk sends its code by number.
    customer = Customer.objects.create(phone="+8613900000005")
    sale = make_order(site=world.east_store, kind=OrderKind.COUNTER, paid=True, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post("/pickup/issue/", {"action": "order", "number": sale.number})
    sale.refresh_from_db()
    assert sale.status == OrderStatus.FULFILLING
    code = _code_sent("pickup_ready", "13900000005")
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post("/pickup/counter/", {"action": "check", "site": world.east_store.pk, "code": code})
    sale.refresh_from_db()
    assert sale.status == OrderStatus.COMPLETED
    # Issuing again for a completed order is refused with a message, nothing changes.
    page = clerk.post("/pickup/issue/", {"action": "order", "number": sale.number})
    assert "only a paid order gets a pickup code" in page.content.decode()
    assert PickupCode.objects.filter(order=sale).count() == 1


def test_a_clerk_places_a_locker_order_on_the_console_and_the_dropoff_code_opens_the_door(
    world, bank, outbox, api_client, django_capture_on_commit_callbacks
):
    clerk = _browser(world.clerk)
    assert bank.name in clerk.get("/lockers/orders/new/").content.decode()
    response = clerk.post(
        "/lockers/orders/new/",
        {
            "bank": bank.pk,
            "size": "S",
            "recipient_phone": "13900000006",
            "parcel_reference": "DESK-6",
            "overdue_fee": "on",
        },
    )
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    dropoff = re.search(r"data-dropoff-code>(\d+)<", response.content.decode()).group(1)
    locker_order = LockerOrder.objects.get(order__external_reference="DESK-6")
    assert locker_order.compartment.size == "S" and locker_order.order.channel == "console"
    _bank, token = device_pair(serial_number=bank.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    opened = api_client.post("/api/v1/device/pickup/", {"code": dropoff, "session": "k1"}, format="json")
    assert opened.status_code == 200, opened.content
    assert opened.json() == {
        "door": locker_order.compartment.door,
        "order": locker_order.order.number,
        "purpose": "dropoff",
    }
    command = DeviceCommand.objects.filter(device=bank, kind="open_door").latest("pk")
    assert command.payload == {"door": locker_order.compartment.door, "purpose": "deposit"}
    # No compartment left that fits: a clear message on the form, nothing written.
    for size in ("M", "L"):
        clerk.post("/lockers/orders/new/", {"bank": bank.pk, "size": size, "recipient_phone": "13900000006"})
    before = Order.objects.count()
    full = clerk.post("/lockers/orders/new/", {"bank": bank.pk, "size": "S", "recipient_phone": "13900000006"})
    assert "No free compartment of size S or larger" in full.content.decode()
    assert Order.objects.count() == before
    # A store without the permission: refused.
    assert _browser(world.service).get("/lockers/orders/new/").status_code == 403


def test_staff_api_places_locker_and_pickup_orders_in_scope_only(world, bank, outbox, api_client):
    west_bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.west_store)
    compartments_create(bank=west_bank, sizes=["M"])
    api_client.force_authenticate(world.regional)
    response = api_client.post(
        "/api/v1/locker-orders/",
        {"bank": bank.pk, "size": "M", "recipient_phone": "13900000007", "open_now": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["dropoff_code"].isdigit()
    assert DeviceCommand.objects.filter(device=bank, kind="open_door", payload__purpose="deposit").count() == 1
    refused = api_client.post(
        "/api/v1/locker-orders/", {"bank": west_bank.pk, "size": "M", "recipient_phone": "13900000007"}, format="json"
    )
    assert refused.status_code == 400 and "bank" in refused.json()
    assert not LockerOrder.objects.filter(bank=west_bank).exists()
    machine = DeviceFactory(kind=Device.Kind.VENDING, site=world.east_store)
    not_a_bank = api_client.post(
        "/api/v1/locker-orders/", {"bank": machine.pk, "size": "M", "recipient_phone": "13900000007"}, format="json"
    )
    assert not_a_bank.status_code == 400 and not_a_bank.json()["bank"] == ["Choose a locker bank."]
    listed = api_client.get("/api/v1/locker-orders/").json()["results"]
    assert [row["id"] for row in listed] == [response.json()["id"]]
    issued = api_client.post(
        "/api/v1/pickup-orders/", {"site": world.east_store.pk, "recipient_phone": "13900000008"}, format="json"
    )
    assert issued.status_code == 201, issued.content
    assert issued.json()["order_status"] == "fulfilling" and "code" not in issued.json()
    bad = api_client.post("/api/v1/pickup-orders/", {"site": world.east_store.pk}, format="json")
    assert bad.status_code == 400


def test_return_to_sender_completed_on_the_service_staff_page(
    world, bank, outbox, api_client, django_capture_on_commit_callbacks
):
    from lockers.tasks import lockers_expire as expire_task

    api_client.force_authenticate(world.regional)
    placed = api_client.post(
        "/api/v1/locker-orders/",
        {"bank": bank.pk, "size": "M", "recipient_phone": "13900000010", "sender_phone": "13900000011", "keep_days": 1},
        format="json",
    ).json()
    _bank, token = device_pair(serial_number=bank.serial_number)
    device = Client(HTTP_AUTHORIZATION=f"Device {token}")
    with django_capture_on_commit_callbacks(execute=True):
        device.post("/api/v1/device/pickup/", {"code": placed["dropoff_code"]}, content_type="application/json")
        device.post(
            "/api/v1/device/events/",
            {"kind": "door_closed", "data": {"door": placed["door"]}},
            content_type="application/json",
        )
    locker_order = LockerOrder.objects.get(pk=placed["id"])
    assert locker_order.stage == "ready"
    code_row = PickupCode.objects.get(order=locker_order.order, purpose="pickup")
    # The parcel is in the locker: the store's counter does not take its code.
    at_counter = _browser(world.clerk).post(
        "/pickup/counter/",
        {"action": "check", "site": world.east_store.pk, "code": _code_sent("pickup_ready", "13900000010")},
    )
    assert "Invalid or expired code." in at_counter.content.decode()
    assert PickupCode.objects.get(pk=code_row.pk).status == "live"
    assert code_row.expires_at - locker_order.ready_at < datetime.timedelta(days=1, minutes=1)
    PickupCode.objects.filter(pk=code_row.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        expire_task.delay()
    task = ReturnTask.objects.get(locker_order=locker_order)

    service = _browser(world.service)
    page = service.get("/lockers/returns/")
    assert f'data-return-task="{task.pk}"' in page.content.decode()
    # "Parcel taken" before the door was opened: refused, nothing changes.
    page = service.post(f"/lockers/returns/{task.pk}/done/", follow=True)
    assert "Open the compartment first" in page.content.decode()
    service.post(f"/lockers/returns/{task.pk}/open/")
    command = DeviceCommand.objects.filter(device=bank, kind="open_door").latest("pk")
    assert command.payload == {"door": placed["door"], "purpose": "return"}
    with django_capture_on_commit_callbacks(execute=True):
        service.post(f"/lockers/returns/{task.pk}/done/")
    task.refresh_from_db()
    locker_order.refresh_from_db()
    assert task.done_at and task.done_by == world.service
    assert locker_order.order.status == OrderStatus.FAILED
    assert Compartment.objects.get(pk=locker_order.compartment_id).state == "free"
    sender = OutboxMessage.objects.get(template="locker_returned")
    assert sender.address.endswith("13900000011") and locker_order.order.number in sender.body
    assert f'data-return-task="{task.pk}"' not in service.get("/lockers/returns/").content.decode()
    # Twice: refused.
    assert "done already" in service.post(f"/lockers/returns/{task.pk}/done/", follow=True).content.decode()
