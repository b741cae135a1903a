"""The courier's locker journey on PostgreSQL and Redis with a real Celery worker: the partner API
places the order, the serial gateway (simulated cabinet) takes the drop-off and pickup codes, the
worker sends the SMS into the console outbox and the partner's webhooks, each change once."""

import json
import re
import time

import pytest
from django.db import connection

from core.models import OutboxMessage
from devices.models import Device
from gateway.driver import CabinetGateway
from gateway.simulator import Cabinet
from gateway.sinks import LocalSink
from lockers.services import compartments_create
from orders.models import WebhookDelivery
from tests.factories import DeviceFactory
from tests.orders.partner_helpers import create_partner, partner_api
from tests.orders.receiver import start_receiver
from tests.orders.test_partner_webhooks_worker import worker  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_courier_journey_with_a_worker(world, settings, worker, tmp_path):  # noqa: F811
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = True
    settings.SMS_PROVIDER = "core.sms.ConsoleOutboxSMSProvider"
    receiver, server = start_receiver()
    try:
        bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
        compartments_create(bank=bank, sizes=["S", "M", "L"])
        partner, key, _secret = create_partner(world.admin, region=world.east, banks=[bank], webhook_url=receiver.url)
        api = partner_api(key)
        response = api.post(
            "/api/v1/partner/locker-orders/",
            {"bank": bank.pk, "size": "S", "recipient_phone": "13900000021", "parcel_reference": "YT-21"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="yt-21",
        )
        assert response.status_code == 201, response.content
        placed = response.json()
        door = placed["door"]
        with Cabinet(addresses=(1,), locks=3, directory=str(tmp_path)) as cabinet:
            gateway = CabinetGateway(cabinet.port, [1], LocalSink({1: bank}), timeout=0.2, retries=2)
            gateway.bus.open()
            gateway.cycle(idle=0.02)
            cabinet.send_keypad(1, placed["dropoff_code"])
            assert _wait_for(lambda: gateway.cycle(idle=0.05) or cabinet.boards[1].pulses[door - 1] == 1)
            cabinet.boards[1].close_door(door - 1)
            gateway.cycle(idle=0.05)
            assert _wait_for(lambda: OutboxMessage.objects.filter(template="pickup_ready").exists())
            code = re.search(r"\b(\d{8})\b", OutboxMessage.objects.get(template="pickup_ready").body).group(1)
            cabinet.send_keypad(1, code)
            assert _wait_for(lambda: gateway.cycle(idle=0.05) or cabinet.boards[1].pulses[door - 1] == 2)
            cabinet.boards[1].close_door(door - 1)
            gateway.cycle(idle=0.05)
            gateway.bus.close()
        assert api.get(f"/api/v1/partner/locker-orders/{placed['id']}/").json()["status"] == "completed"

        def delivered_completed():
            return [r for r in receiver.requests if json.loads(r.body)["data"].get("to_status") == "completed"]

        assert _wait_for(lambda: len(delivered_completed()) == 1, seconds=30)
        time.sleep(1)  # nothing more arrives after delivery
        assert len(delivered_completed()) == 1
        assert WebhookDelivery.objects.filter(client=partner).exclude(status="delivered").count() == 0
        assert len(receiver.requests) == WebhookDelivery.objects.filter(client=partner).count()
    finally:
        server.shutdown()
        server.server_close()
        connection.close()
