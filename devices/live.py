"""Live fleet status over the channel layer.

A device's change goes to the groups of every region on its path, its site and itself, plus
`fleet.all` for staff who see everything. A websocket consumer joins only the groups the user's
grants cover (see consumers.py), so a browser never receives a device outside its scope.
"""

from __future__ import annotations

from core.live import choice_labels, group_send_many
from devices.models import Device

ALL = "fleet.all"


def region_group(region_id) -> str:
    return f"region.{region_id}"


def site_group(site_id) -> str:
    return f"site.{site_id}"


def device_group(device_id) -> str:
    return f"device.{device_id}"


def device_groups(device) -> list[str]:
    region_ids = [part for part in device.site.region.path.strip("/").split("/") if part]
    return [ALL, *(region_group(i) for i in region_ids), site_group(device.site_id), device_group(device.pk)]


def device_snapshot(device) -> dict:
    """What a live page needs of a device. Labels are the page's (in its reader's language, see
    `state_labels`), not the sender's."""
    return {
        "id": device.pk,
        "name": device.name,
        "serial_number": device.serial_number,
        "kind": device.kind,
        "state": device.state,
        "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
        "latitude": float(device.latitude) if device.latitude is not None else None,
        "longitude": float(device.longitude) if device.longitude is not None else None,
        "site": device.site_id,
    }


def state_labels() -> dict[str, str]:
    return choice_labels(Device.State.choices)


def publish(device, *, telemetry: dict | None = None, sent_at: float | None = None) -> None:
    """Send the device's current state to its groups. Never raises: live pages are best effort."""
    message = {"type": "device.update", "device": device_snapshot(device), "telemetry": telemetry or {}}
    if sent_at is not None:
        message["sent_at"] = sent_at
    group_send_many(device_groups(device), message)
