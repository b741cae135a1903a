"""Live fleet status over websockets: scoped groups, updates on heartbeat, refusals."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from devices.routing import websocket_urlpatterns
from devices.services import device_heartbeat
from tests.factories import DeviceFactory
from tests.live import receive_message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest_asyncio.fixture(autouse=True)
async def _close_executor_connections():
    """sync_to_async runs ORM calls in a worker thread; close its connection after each test so
    the test database can be dropped."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


async def _connect(user, path="/ws/fleet/"):
    communicator = WebsocketCommunicator(APP, path)
    communicator.scope["user"] = user
    connected, code = await communicator.connect()
    return communicator, connected, code


async def test_a_regional_admin_receives_own_region_devices_and_never_another_regions(world):
    east = await sync_to_async(DeviceFactory)(site=world.east_store)
    west = await sync_to_async(DeviceFactory)(site=world.west_store)
    communicator, connected, _code = await _connect(world.regional)
    assert connected
    await sync_to_async(device_heartbeat)(device=west, telemetry={"temperature": "5.0"})
    await sync_to_async(device_heartbeat)(device=east, telemetry={"temperature": "4.0"})
    message = await receive_message(communicator)
    assert message["device"]["id"] == east.pk and message["device"]["state"] == "online"
    assert message["telemetry"]["temperature"] == "4.0"
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_platform_admin_sees_every_region(world):
    west = await sync_to_async(DeviceFactory)(site=world.west_store)
    communicator, connected, _code = await _connect(world.admin)
    assert connected
    await sync_to_async(device_heartbeat)(device=west)
    assert (await receive_message(communicator))["device"]["id"] == west.pk
    await communicator.disconnect()


async def test_strangers_and_out_of_scope_device_pages_are_refused(world):
    from django.contrib.auth.models import AnonymousUser

    west = await sync_to_async(DeviceFactory)(site=world.west_store)
    _c, connected, code = await _connect(AnonymousUser())
    assert not connected
    _c, connected, code = await _connect(world.supplier_user)  # no device permission
    assert not connected
    _c, connected, code = await _connect(world.regional, f"/ws/devices/{west.pk}/")
    assert not connected and code == 4403
