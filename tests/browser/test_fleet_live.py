"""The fleet page updates a device's state over the websocket as its heartbeat arrives, without a
reload, and a regional administrator never sees another region's devices."""

import threading

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _heartbeat_in_another_thread(device, **telemetry):
    """The page's event loop owns this thread (Playwright); a machine reports from elsewhere."""
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


def test_regional_fleet_page_goes_live_without_reload_and_stays_in_scope(browser, asgi_server, world):
    from tests.factories import DeviceFactory

    east = DeviceFactory(site=world.east_store, name="East cooler")
    west = DeviceFactory(site=world.west_store, name="West cooler")
    context = browser.new_context()
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/devices/")
    assert "West cooler" not in page.content()
    page.wait_for_selector("#live-status.on", timeout=10000)
    page.evaluate("window.__loadedAt = performance.timeOrigin")
    row = f'tr[data-device="{east.pk}"]'
    assert page.get_attribute(row, "data-state") == "unpaired"

    _heartbeat_in_another_thread(west, temperature="5.0")
    _heartbeat_in_another_thread(east, temperature="4.0")
    page.wait_for_selector(f'{row}[data-state="online"]', timeout=10000)
    assert page.inner_text(f"{row} .state") == "Online"
    assert page.evaluate("window.__loadedAt === performance.timeOrigin")  # same document: no reload
    assert "West cooler" not in page.content()
    assert page.locator(f'tr[data-device="{west.pk}"]').count() == 0
    context.close()
    assert watcher.problems == []


def test_a_live_update_is_labelled_in_the_readers_language(browser, asgi_server, world):
    """Messages carry the state; the label comes from the page, so a Chinese reader gets Chinese
    whatever language the sending worker runs in."""
    from tests.factories import DeviceFactory

    east = DeviceFactory(site=world.east_store, name="East cooler")
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-Hans"})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/devices/")
    assert page.get_attribute("html", "lang") == "zh-hans"
    page.wait_for_selector("#live-status.on", timeout=10000)
    _heartbeat_in_another_thread(east, temperature="4.0")
    row = f'tr[data-device="{east.pk}"]'
    page.wait_for_selector(f'{row}[data-state="online"]', timeout=10000)
    assert page.inner_text(f"{row} .state") == "在线"
    context.close()
    assert watcher.problems == []
