"""An open socket follows its user's grants (ADR 15): a grant given while it is open brings the
region's devices, a revocation stops them; a device page's socket closes when its device leaves
the user's scope; an orders socket is told its scope changed."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from core.services import scope_grant, scope_revoke
from devices.routing import websocket_urlpatterns
from devices.services import device_heartbeat
from tests.factories import DeviceFactory
from tests.live import receive_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest_asyncio.fixture(autouse=True)
async def _close_executor_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def _connect(app, user, path):
    communicator = WebsocketCommunicator(app, path)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect()
    assert connected
    return communicator


async def test_the_fleet_socket_gains_and_loses_a_region_without_reconnecting(world):
    west = await sync_to_async(DeviceFactory)(site=world.west_store)
    communicator = await _connect(APP, world.service, "/ws/fleet/")
    await sync_to_async(device_heartbeat)(device=west)
    assert await communicator.receive_nothing(timeout=0.3)

    await sync_to_async(scope_grant)(actor=world.admin, user=world.service, target=world.west)
    assert (await receive_message(communicator))["type"] == "scope"
    await sync_to_async(device_heartbeat)(device=west, telemetry={"temperature": "3.0"})
    assert (await receive_message(communicator))["device"]["id"] == west.pk

    await sync_to_async(scope_revoke)(actor=world.admin, user=world.service, target=world.west)
    assert (await receive_message(communicator))["type"] == "scope"
    await sync_to_async(device_heartbeat)(device=west, telemetry={"temperature": "2.0"})
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_device_pages_socket_closes_when_its_device_leaves_the_scope(world):
    east = await sync_to_async(DeviceFactory)(site=world.east_store)
    communicator = await _connect(APP, world.service, f"/ws/devices/{east.pk}/")
    await sync_to_async(scope_revoke)(actor=world.admin, user=world.service, target=world.east)
    closed = await communicator.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_an_orders_socket_is_told_when_its_scope_changes(world):
    from orders.routing import websocket_urlpatterns as order_urls

    communicator = await _connect(AuthMiddlewareStack(URLRouter(order_urls)), world.finance, "/ws/orders/")
    await sync_to_async(scope_grant)(actor=world.admin, user=world.finance, target=world.west_store)
    assert (await receive_message(communicator))["type"] == "scope"
    await communicator.disconnect()
