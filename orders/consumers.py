"""`/ws/orders/`: live order changes for the console, only for orders the user's grants cover."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from core.live import BatchReceiver
from staff.websocket import UserSocket


def _order_groups_for(user) -> list[str]:
    from core.scoping import user_grants

    if not (user.is_authenticated and user.is_active and user.has_perm("orders.view_order")):
        return []
    grants = user_grants(user, "view")
    if grants.everything:
        return ["orders.all"]
    groups = [f"orders.region.{path.strip('/').split('/')[-1]}" for path in grants.region_paths]
    return groups + [f"orders.site.{site_id}" for site_id in grants.site_ids]


class OrdersConsumer(UserSocket, BatchReceiver, AsyncJsonWebsocketConsumer):
    async def scope_groups(self) -> list[str]:
        return await database_sync_to_async(_order_groups_for)(self.scope["user"])

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

    async def order_changed(self, event):
        order = event["order"]
        await self.send_json(
            {
                "type": "order",
                "id": order["order_id"],
                "number": order["number"],
                "status": order["to_status"],
                "action": order["action"],
                "kind": order["kind"],
            }
        )

    async def money_moved(self, event):
        await self.send_json({"type": "money", **event["money"]})
