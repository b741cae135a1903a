"""Report pages in a real browser: each chart is drawn (ECharts' canvas), its table is one click
away, in English and Simplified Chinese, without a server, JavaScript or console error."""

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# Pairs of the first chart's texts whose boxes overlap (by more than a pixel).
OVERLAPPING_TEXT = """() => {
  const boxes = [...document.querySelectorAll("figure.chart .chart-canvas svg text")]
    .map((t) => [t.textContent, t.getBoundingClientRect()]).filter(([, b]) => b.width > 0 && b.height > 0);
  const pairs = [];
  boxes.forEach(([ta, a], i) => boxes.slice(i + 1).forEach(([tb, b]) => {
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) pairs.push([ta, tb]);
  }));
  return pairs;
}"""


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
        # A wide table (orders by status has a column per status) scrolls inside, not the page.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), slug
        if slug in ("payments", "heatmap"):
            # Nothing drawn over anything else: a one-slice ring's "100%" sat on the legend, and the
            # heat map's legend on its colour scale.
            assert page.evaluate(OVERLAPPING_TEXT) == [], slug
        if slug == "heatmap":
            texts = page.locator("figure.chart .chart-canvas svg text").all_text_contents()
            assert "Orders" not in texts and "订单" not in texts  # no legend for its one series
        toggle = page.locator("figure.chart .chart-toggle").first
        toggle.click()
        assert page.locator("figure.chart .chart-data").first.is_visible(), slug
    context.close()
    assert watcher.problems == []
