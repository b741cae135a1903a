"""A device named like markup shows as text on the fleet map, and the Content-Security-Policy
would block an inline script if one ever slipped through."""

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = '<img src=x onerror="window.__xss=1">Cooler'


def test_a_device_name_with_markup_is_shown_as_text_on_the_fleet_map(browser, asgi_server, world):
    from decimal import Decimal

    from tests.factories import DeviceFactory

    DeviceFactory(site=world.east_store, name=NAME, latitude=Decimal("31.23"), longitude=Decimal("121.47"))
    context = browser.new_context()
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/devices/")
    page.wait_for_selector("#fleet-map path.marker")
    page.hover("#fleet-map path.marker")
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert tooltip.inner_text() == NAME
    assert page.locator(".leaflet-tooltip img").count() == 0
    assert page.evaluate("window.__xss") is None
    # The policy forbids inline script: one injected anyway does not run, and is reported.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
        " document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__inline") is None
    context.close()
    csp_reports = [p for p in watcher.problems if "Content Security Policy" in p]
    assert len(csp_reports) == 1, watcher.problems
    assert [p for p in watcher.problems if p not in csp_reports] == []
