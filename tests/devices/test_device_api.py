"""The API machines call: pairing by serial, hashed tokens, heartbeats, events, commands."""

import pytest
from django.urls import reverse

from core.models import AuditEntry
from devices.models import DeviceCommand, DeviceCredential, DeviceEvent, Fault, Telemetry
from devices.services import command_send, device_pair, device_token_rotate
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _auth(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return client


def test_pairing_by_serial_returns_a_token_once_and_stores_only_its_hash(api_client):
    device = DeviceFactory(serial_number="VM-0001")
    response = api_client.post("/api/v1/device/pair/", {"serial_number": "VM-0001", "firmware": "2.1"}, format="json")
    assert response.status_code == 201
    token = response.json()["token"]
    credential = DeviceCredential.objects.get(device=device)
    assert token not in credential.token_hash and len(credential.token_hash) == 64
    # Pairing again is refused: a new token only comes from an administrator's rotation.
    again = api_client.post("/api/v1/device/pair/", {"serial_number": "VM-0001"}, format="json")
    assert again.status_code == 400
    assert DeviceCredential.objects.get(device=device).token_hash == credential.token_hash


def test_unknown_serial_is_refused_and_logged(api_client, caplog):
    response = api_client.post("/api/v1/device/pair/", {"serial_number": "NOPE-1"}, format="json")
    assert response.status_code == 400
    assert "NOPE-1" in str(response.json())
    assert AuditEntry.objects.filter(action="device.pair_refused").exists()
    assert "unknown serial" in caplog.text


def test_unknown_and_rotated_tokens_are_refused(api_client, world):
    device = DeviceFactory(site=world.east_store)
    _device, old = device_pair(serial_number=device.serial_number)
    assert _auth(api_client, old).post("/api/v1/device/heartbeat/", {}, format="json").status_code == 200
    new = device_token_rotate(device=device, actor=world.admin)
    assert _auth(api_client, old).post("/api/v1/device/heartbeat/", {}, format="json").status_code == 401
    assert _auth(api_client, "dv_garbage").get("/api/v1/device/commands/").status_code == 401
    assert _auth(api_client, new).post("/api/v1/device/heartbeat/", {}, format="json").status_code == 200


def test_heartbeat_records_telemetry_and_slot_faults(api_client):
    device = DeviceFactory()
    _d, token = device_pair(serial_number=device.serial_number)
    body = {
        "power": True,
        "signal_dbm": -71,
        "temperature": "4.5",
        "door_open": False,
        "firmware": "2.2",
        "slot_faults": [{"code": "MOTOR", "slot": "12", "message": "motor stalled"}],
    }
    response = _auth(api_client, token).post("/api/v1/device/heartbeat/", body, format="json")
    assert response.status_code == 200 and response.json()["state"] == "online"
    telemetry = Telemetry.objects.get(device=device)
    assert (telemetry.signal_dbm, str(telemetry.temperature), telemetry.firmware) == (-71, "4.5", "2.2")
    assert Fault.objects.get(device=device).slot == "12"


def test_staff_see_a_devices_latest_telemetry_read_only(api_client, world):
    device = DeviceFactory(site=world.east_store)
    _d, token = device_pair(serial_number=device.serial_number)
    _auth(api_client, token).post("/api/v1/device/heartbeat/", {"temperature": "3.5", "door_open": True}, format="json")
    api_client.credentials()
    api_client.force_authenticate(world.regional)
    shown = api_client.get(f"/api/v1/devices/{device.pk}/").json()
    assert (shown["temperature"], shown["door_open"], shown["telemetry_at"] is not None) == ("3.5", True, True)
    api_client.patch(f"/api/v1/devices/{device.pk}/", {"temperature": "9.0", "name": "Renamed"}, format="json")
    device.refresh_from_db()
    assert (device.name, str(device.temperature)) == ("Renamed", "3.5")


@pytest.mark.parametrize(
    "body",
    [
        {"signal_dbm": "strong"},
        {"signal_dbm": 20},
        {"temperature": "hot"},
        {"power": "maybe"},
        {"slot_faults": "all broken"},
        {"slot_faults": [{"slot": "1"}]},
    ],
)
def test_malformed_heartbeats_get_field_errors_and_change_nothing(api_client, body):
    device = DeviceFactory()
    _d, token = device_pair(serial_number=device.serial_number)
    response = _auth(api_client, token).post("/api/v1/device/heartbeat/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) & set(body)
    device.refresh_from_db()
    assert device.last_seen_at is None and not Telemetry.objects.exists()


def test_a_device_fetches_acknowledges_and_reports_only_its_own_commands(api_client):
    mine, other = DeviceFactory(), DeviceFactory()
    _d, token = device_pair(serial_number=mine.serial_number)
    command = command_send(device=mine, kind="open_door", payload={"door": 3})
    foreign = command_send(device=other, kind="reboot")
    client = _auth(api_client, token)
    listed = client.get("/api/v1/device/commands/").json()
    assert [row["command_id"] for row in listed] == [str(command.command_id)]
    assert client.post(f"/api/v1/device/commands/{foreign.command_id}/ack/").status_code == 400
    assert client.post(f"/api/v1/device/commands/{command.command_id}/ack/").json()["status"] == "acknowledged"
    # Acknowledged commands are not handed out again.
    assert client.get("/api/v1/device/commands/").json() == []
    done = client.post(f"/api/v1/device/commands/{command.command_id}/result/", {"succeeded": True}, format="json")
    assert done.json()["status"] == "succeeded"
    assert client.post(f"/api/v1/device/commands/{command.command_id}/result/", {}, format="json").status_code == 400


def test_device_events_are_logged(api_client):
    device = DeviceFactory()
    _d, token = device_pair(serial_number=device.serial_number)
    client = _auth(api_client, token)
    assert client.post("/api/v1/device/events/", {"kind": "door_opened"}, format="json").status_code == 201
    assert client.post("/api/v1/device/events/", {"kind": "DROP TABLE"}, format="json").status_code == 400
    assert DeviceEvent.objects.filter(device=device, kind="door_opened").count() == 1


def test_staff_send_commands_only_to_devices_they_may_change(api_client, world):
    east = DeviceFactory(site=world.east_store)
    west = DeviceFactory(site=world.west_store)
    api_client.force_authenticate(world.regional)
    ok = api_client.post(reverse("device-commands", args=[east.pk]), {"kind": "reboot"}, format="json")
    assert ok.status_code == 201
    assert (
        api_client.post(reverse("device-commands", args=[west.pk]), {"kind": "reboot"}, format="json").status_code
        == 404
    )
    bad = api_client.post(reverse("device-commands", args=[east.pk]), {"kind": "self_destruct"}, format="json")
    assert bad.status_code == 400
    api_client.force_authenticate(world.clerk)  # may view the store's devices, not command them
    assert api_client.post(
        reverse("device-commands", args=[east.pk]), {"kind": "reboot"}, format="json"
    ).status_code in (403, 404)
    assert DeviceCommand.objects.count() == 1


def test_only_administrators_rotate_tokens(api_client, world):
    device = DeviceFactory(site=world.east_store)
    api_client.force_authenticate(world.service)
    assert api_client.post(reverse("device-rotate-token", args=[device.pk])).status_code in (403, 404)
    api_client.force_authenticate(world.admin)
    response = api_client.post(reverse("device-rotate-token", args=[device.pk]))
    assert response.status_code == 200 and response.json()["token"].startswith("dv_")


def test_a_redelivered_event_is_stored_once(api_client):
    device = DeviceFactory()
    _d, token = device_pair(serial_number=device.serial_number)
    client = _auth(api_client, token)
    body = {"kind": "door_closed", "event_id": "6f1c1f0e-8d1e-4b8e-9a57-0f1b2c3d4e5f", "data": {"door": 3}}
    first = client.post("/api/v1/device/events/", body, format="json")
    second = client.post("/api/v1/device/events/", body, format="json")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert DeviceEvent.objects.filter(device=device, kind="door_closed").count() == 1
