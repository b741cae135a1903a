"""A real browser as finance: the summary shows an unreconciled day, the difference is opened
from the list and resolved with a note, and the day turns green."""

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_resolves_a_difference_and_the_day_turns_green(browser, asgi_server, world):
    from accounting.recon_models import ReconItem, StatementDay
    from tests.reconciliation.builders import DAY, recon_item_in, statement_in

    statement = statement_in(world.root)
    StatementDay.objects.create(statement=statement, provider="wechat", region=world.root, day=DAY)
    item = recon_item_in(world.east, reference="WX-STRANGER")
    context = browser.new_context()
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.finance.username)
    page.click("nav.sidenav a:has-text('Reconciliation')")
    page.goto(f"{asgi_server.url}{page.url.split(asgi_server.url)[-1].split('?')[0]}?start={DAY}&end={DAY}")
    row = page.locator(f"tr[data-day='{DAY}']")
    assert "Not reconciled" in row.inner_text()
    row.locator("td[data-provider='wechat'] a").click()
    page.click("table.data a:has-text('WX-STRANGER')")
    page.fill("textarea[name=note]", "A test payment by WeChat Pay support; refunded by them")
    page.click("#resolve-form button[type=submit]")
    page.wait_for_load_state()
    assert "Marked as resolved." in page.content()
    item.refresh_from_db()
    assert item.status == ReconItem.Status.RESOLVED and item.resolved_by == world.finance
    page.goto(f"{asgi_server.url}/accounting/reconciliation/?start={DAY}&end={DAY}")
    assert "Reconciled" in page.locator(f"tr[data-day='{DAY}'] .day-status").inner_text()
    assert "Not reconciled" not in page.locator(f"tr[data-day='{DAY}'] .day-status").inner_text()
    context.close()
    assert watcher.problems == []
