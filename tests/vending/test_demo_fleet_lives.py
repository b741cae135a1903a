"""`make run`'s demo stays alive: after ten (compressed) minutes of the demo fleet simulator and the
beat's offline detection, at least 90% of the demo devices are online, machines sold (paid,
dispensed, completed) and the console's device list shows them online."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from devices.models import Device
from devices.services import devices_mark_offline
from orders.models import Order
from vending.management.commands.demo_fleet import cabinet_driven_devices
from vending.simulation import DemoFleet

STEP_SECONDS = 5


@pytest.mark.django_db
def test_ten_minutes_after_make_run_the_demo_fleet_is_online(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", days=1, orders_per_day=2, verbosity=0)
    demo = Device.objects.filter(credential__token_prefix="dv_demo")
    assert demo.count() >= 30
    sales_before = Order.objects.filter(kind="vending", channel="machine", status="completed").count()
    # Nobody drives the cabinets in this test: the simulator stands in for them once they go quiet.
    fleet = DemoFleet(seed=7, skip=cabinet_driven_devices())
    start = timezone.now()
    offline_seen = 0
    now = start
    while now < start + datetime.timedelta(minutes=10):
        with django_capture_on_commit_callbacks(execute=True):
            fleet.tick(now)
            offline_seen += len(devices_mark_offline(now=now))
        now += datetime.timedelta(seconds=STEP_SECONDS)
    online = demo.filter(state=Device.State.ONLINE).count()
    assert online >= 0.9 * demo.count(), (online, demo.count())
    # Machines sold on their own and the sales went through to the end (dispense acknowledged).
    completed = Order.objects.filter(kind="vending", channel="machine", status="completed").count()
    assert completed > sales_before
    assert not Order.objects.filter(kind="vending", number__isnull=True).exists()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/devices/", {"state": "online"})
    assert page.status_code == 200
    listed = page.context["paginator"].count if page.context.get("paginator") else len(page.context["object_list"])
    assert listed == online
