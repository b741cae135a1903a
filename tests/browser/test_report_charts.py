"""Report pages in a real browser: each chart is drawn (ECharts' canvas), its table is one click
away, in English and Simplified Chinese, without a server, JavaScript or console error."""

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_report_charts_render(browser, asgi_server, world, language):

    from decimal import Decimal

    from django.utils import timezone

    from reports.rollups import rollup_rebuild
    from tests.factories import DeviceFactory, make_order

    device = DeviceFactory(site=world.east_store)
    for total in ("12.00", "7.50", "3.20"):
        make_order(site=world.east_store, paid=True, device=device, total=Decimal(total))
    rollup_rebuild(date_from=timezone.localdate(), date_to=timezone.localdate())
    context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.admin.username)
    for slug in ("sales", "payments", "heatmap", "statuses", "profit"):
        page.goto(f"{asgi_server.url}/reports/{slug}/")
        page.wait_for_selector("figure.chart[data-rendered] .chart-canvas svg", timeout=10000)
        toggle = page.locator("figure.chart .chart-toggle").first
        toggle.click()
        assert page.locator("figure.chart .chart-data").first.is_visible(), slug
    context.close()
    assert watcher.problems == []
