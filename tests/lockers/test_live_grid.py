"""The locker bank's compartment grid: scoped page, and live updates as doors open and close."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from devices.models import Device
from devices.routing import websocket_urlpatterns
from devices.services import device_event_record
from lockers.services import compartments_create
from tests.factories import DeviceFactory
from tests.live import receive_message

APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest_asyncio.fixture
async def _close_executor_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


@pytest.mark.django_db
def test_the_grid_page_is_scoped(world, client):
    east = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    west = DeviceFactory(kind=Device.Kind.LOCKER, site=world.west_store)
    compartments_create(bank=east, sizes=["S", "M"])
    client.force_login(world.regional)
    page = client.get(f"/lockers/banks/{east.pk}/")
    assert page.status_code == 200 and page.content.count(b'data-door="') == 2
    assert client.get(f"/lockers/banks/{west.pk}/").status_code == 404
    # Live updates carry the state; the page holds the labels in its reader's language.
    chinese = client.get(f"/lockers/banks/{east.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert '"free": "\\u7a7a\\u95f2"' in chinese.content.decode()  # 空闲, as json_script escapes it


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_door_event_reaches_the_grid_live(world, _close_executor_connections):
    bank = await sync_to_async(DeviceFactory)(kind=Device.Kind.LOCKER, site=world.east_store)
    await sync_to_async(compartments_create)(bank=bank, sizes=["M"])
    communicator = WebsocketCommunicator(APP, f"/ws/devices/{bank.pk}/")
    communicator.scope["user"] = world.regional
    connected, _code = await communicator.connect()
    assert connected
    await sync_to_async(device_event_record)(device=bank, kind="door_opened", data={"door": 1})
    message = await receive_message(communicator)
    assert message["type"] == "compartment"
    assert (message["compartment"]["door"], message["compartment"]["door_open"]) == (1, True)
    await communicator.disconnect()
