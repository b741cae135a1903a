"""The demo's finance user reads the orders and money of every region (and changes none), and the
live collections feed (/ws/orders/ on the monitor page) connects and streams a new collection."""

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from core.models import Region, Site
from orders.models import Order
from orders.routing import websocket_urlpatterns
from tests.factories import make_order
from tests.live import receive_messages

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
APP = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest_asyncio.fixture(autouse=True)
async def _close_executor_connections():
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


def _pages_as_finance():
    call_command("seed_demo", days=1, orders_per_day=6, verbosity=0)
    finance = get_user_model().objects.get(username="finance")
    client = Client()
    client.force_login(finance)
    orders = client.get(reverse("orders:order-list"))
    assert orders.status_code == 200
    assert orders.context["count"].value == Order.objects.count() and orders.context["count"].exact
    cities = Region.objects.filter(code__in=["demo-sh", "demo-hz", "demo-sz"])
    listed = {order.region_id for order in orders.context["object_list"]}
    assert len(listed) >= 2  # orders of more than one city (the demo spreads them)
    regions = client.get(reverse("core:region-list"))
    assert regions.status_code == 200 and all(city.name in regions.content.decode() for city in cities)
    sites = client.get(reverse("core:site-list"))
    assert sites.context["paginator"].count == Site.objects.count()
    monitor = client.get(reverse("staff:monitor"))
    assert monitor.status_code == 200 and "monitor.js" in monitor.content.decode()
    # Read-only: nothing to change in any region.
    from core.scoping import user_grants

    assert user_grants(finance, "change").empty
    return finance, Site.objects.get(code="sz-store-1")


async def test_finance_sees_every_region_and_its_live_feed_connects():
    finance, shenzhen = await sync_to_async(_pages_as_finance)()
    communicator = WebsocketCommunicator(APP, "/ws/orders/")
    communicator.scope["user"] = finance
    connected, _code = await communicator.connect()
    assert connected
    order = await sync_to_async(make_order)(site=shenzhen, paid=True)
    received = await receive_messages(communicator, 3)
    money = [m for m in received if m["type"] == "money"]
    assert [(m["number"], m["kind"]) for m in money] == [(order.number, "payment")]
    await communicator.disconnect()
