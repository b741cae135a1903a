"""Websocket consumers for live fleet status.

`/ws/fleet/` joins the groups the user's grants cover — `fleet.all` for staff who see every
region, else one group per granted region and site — so a browser never receives a device outside
its scope. When the user's grants change, the socket follows them while it stays open
(staff.websocket.UserSocket.grants_changed) and tells the page with a `scope` message. `/ws/devices/<id>/` is one device's page, after a check that the user may see it.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.live import BatchReceiver
from devices import live
from staff.websocket import UserSocket


def _fleet_groups(user) -> list[str]:
    from core.scoping import user_grants

    if not (user.is_authenticated and user.is_active and user.has_perm("devices.view_device")):
        return []
    grants = user_grants(user, "view")
    if grants.everything:
        return [live.ALL]
    groups = [live.region_group(path.strip("/").split("/")[-1]) for path in grants.region_paths]
    return groups + [live.site_group(site_id) for site_id in grants.site_ids]


def _device_groups(user, device_id: int) -> list[str]:
    from devices.models import Device

    if not (user.is_authenticated and user.has_perm("devices.view_device")):
        return []
    if not Device.objects.restrict(user, "view").filter(pk=device_id).exists():
        return []
    return [live.device_group(device_id)]


class _LiveConsumer(UserSocket, BatchReceiver, AsyncJsonWebsocketConsumer):
    groups_joined: list[str]

    async def scope_groups(self) -> list[str]:
        raise NotImplementedError

    async def connect(self):
        self.groups_joined = await self.scope_groups()
        if not self.groups_joined:
            await self.close(code=4403)
            return
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def device_update(self, event):
        message = {"type": "device", "device": event["device"], "telemetry": event.get("telemetry", {})}
        if "sent_at" in event:
            message["sent_at"] = event["sent_at"]
        await self.send_json(message)

    async def compartment_update(self, event):
        await self.send_json({"type": "compartment", "compartment": event["compartment"]})


class FleetConsumer(_LiveConsumer):
    async def scope_groups(self):
        return await database_sync_to_async(_fleet_groups)(self.scope["user"])


class DeviceConsumer(_LiveConsumer):
    async def scope_groups(self):
        return await database_sync_to_async(_device_groups)(
            self.scope["user"], int(self.scope["url_route"]["kwargs"]["pk"])
        )
