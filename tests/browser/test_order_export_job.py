"""A large order export from the inquiry page: the button leads to the job page, whose progress bar
fills from the status endpoint and ends with a download link for every row (issue 19, ADR 0025)."""

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_large_export_shows_progress_then_a_download_of_every_row(
    browser, asgi_server, world, settings, tmp_path, monkeypatch
):
    import csv
    import io

    from tests.orders.test_order_lists import bulk_orders

    settings.VAR_DIR = tmp_path
    monkeypatch.setattr("core.exports.DIRECT_EXPORT_LIMIT", 10)
    bulk_orders(35, site=world.east_store)
    bulk_orders(4, site=world.west_store)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/orders/")
    page.click("a[data-export]:has-text('Export CSV')")
    page.wait_for_selector("#export-done:not([hidden])")
    assert page.locator("#export-progress").get_attribute("value") == "100"
    assert page.locator("[data-export-rows]").inner_text() == "35"
    with page.expect_download() as info:
        page.click("#export-download")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert len(rows) == 1 + 35
    context.close()
    assert watcher.problems == []
