"""Live order tracking over websockets: scoped groups, a sale followed from placement to the end."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from orders.routing import websocket_urlpatterns
from tests.factories import SiteFactory, make_order
from tests.live import receive_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest_asyncio.fixture(autouse=True)
async def _close_executor_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def _connect(user):
    communicator = WebsocketCommunicator(APP, "/ws/orders/")
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    return communicator, connected


async def test_staff_follow_their_regions_orders_and_never_anothers(world):
    communicator, connected = await _connect(world.regional)
    assert connected
    west_site = await sync_to_async(SiteFactory)(region=world.west)
    await sync_to_async(make_order)(site=west_site, paid=True)
    order = await sync_to_async(make_order)(site=world.east_store, paid=True)
    received = await receive_messages(communicator, 3)
    assert await communicator.receive_nothing(timeout=0.3)
    orders = [(m["number"], m["status"]) for m in received if m["type"] == "order"]
    assert orders == [(order.number, "new"), (order.number, "paid")]
    money = [m for m in received if m["type"] == "money"]  # the collection, for the live feed
    assert [(m["number"], m["kind"], m["amount"]) for m in money] == [(order.number, "payment", "10.00")]
    await communicator.disconnect()


async def test_users_without_order_permission_are_refused(world):
    _c, connected = await _connect(world.supplier_user)
    assert not connected
