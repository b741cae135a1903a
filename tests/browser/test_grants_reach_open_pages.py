"""A grant reaches an open fleet page at once: the platform administrator gives a service user a
region on the grants page, and that user's open fleet page shows the region's devices and its
websocket carries their updates, without a reload; taking the region back removes both."""

import json
import threading

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _heartbeat_in_another_thread(device, **telemetry):
    from django.db import connection

    from devices.services import device_heartbeat

    def beat():
        try:
            device_heartbeat(device=device, telemetry=telemetry)
        finally:
            connection.close()

    thread = threading.Thread(target=beat)
    thread.start()
    thread.join()


def _device_ids(frames):
    ids = []
    for frame in frames:
        data = json.loads(frame)
        for message in data["messages"] if data.get("type") == "batch" else [data]:
            if message.get("type") == "device":
                ids.append(message["device"]["id"])
    return ids


def test_a_region_given_and_taken_back_reaches_the_open_fleet_page(browser, asgi_server, world):
    from tests.factories import DeviceFactory

    east = DeviceFactory(site=world.east_store, name="East cooler")
    west = DeviceFactory(site=world.west_store, name="West cooler")

    service_context = browser.new_context()
    page = service_context.new_page()
    watcher = Watcher(page)
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload)))
    log_in(page, asgi_server.url, world.service.username)
    page.goto(f"{asgi_server.url}/devices/")
    page.wait_for_selector("#live-status.on", timeout=10000)
    page.evaluate("window.__loadedAt = performance.timeOrigin")
    assert page.locator(f'tr[data-device="{west.pk}"]').count() == 0

    admin_context = browser.new_context()
    admin = admin_context.new_page()
    admin_watcher = Watcher(admin)
    log_in(admin, asgi_server.url, world.admin.username)
    admin.goto(f"{asgi_server.url}/staff/grants/{world.service.pk}/")
    admin.select_option("#id_region", str(world.west.pk))
    admin.click("#grant-form button[type=submit]")
    admin.wait_for_selector(f'tr[data-grant="region-{world.west.pk}"]', timeout=10000)

    # The open page gains the region's device, and its socket carries the device's changes.
    row = f'tr[data-device="{west.pk}"]'
    page.wait_for_selector(row, timeout=10000)
    _heartbeat_in_another_thread(west, temperature="5.0")
    page.wait_for_selector(f'{row}[data-state="online"]', timeout=10000)
    assert page.inner_text(f"{row} .state") == "Online"
    assert page.evaluate("window.__loadedAt === performance.timeOrigin")  # same document: no reload

    admin.click(f'tr[data-grant="region-{world.west.pk}"] button[type=submit]')
    admin.wait_for_selector(f'tr[data-grant="region-{world.west.pk}"]', state="detached", timeout=10000)
    page.wait_for_selector(row, state="detached", timeout=10000)
    seen = len(frames)
    _heartbeat_in_another_thread(west, temperature="6.0")
    _heartbeat_in_another_thread(east, temperature="4.0")  # still in scope: marks when the frames are in
    page.wait_for_selector(f'tr[data-device="{east.pk}"][data-state="online"]', timeout=10000)
    after = _device_ids(frames[seen:])
    assert east.pk in after and west.pk not in after
    assert page.locator(row).count() == 0
    assert page.evaluate("window.__loadedAt === performance.timeOrigin")
    service_context.close()
    admin_context.close()
    assert watcher.problems == [] and admin_watcher.problems == []
