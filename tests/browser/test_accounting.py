"""Revenue sharing in a real browser: finance reads the dashboard and approves a withdrawal
(then confirms the bank transfer paid); a partner's user sees its own earnings and no one else's."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from accounting import accruals, withdrawals
from tests.accounting.builders import accrual_for
from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_approves_a_withdrawal_and_confirms_the_bank_transfer(browser, asgi_server, world):
    world.partner.payout_account = "6222000011112222"
    world.partner.payout_name = "Own partner Ltd"
    world.partner.save()
    accrual_for(world.partner, total=Decimal("500.00"))
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=30))
    withdrawal = withdrawals.withdrawal_request(
        partner=world.partner, amount=Decimal("30.00"), actor=world.partner_user
    )

    page = browser.new_context().new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.finance.username)
    page.click("nav.sidenav a[data-url-name='accounting:finance']")
    page.wait_for_selector("figure.chart .chart-canvas canvas, figure.chart .chart-canvas svg")
    review = page.locator(".card", has_text="Withdrawals to review")
    assert review.locator(".card-value").inner_text().startswith("1 · 30.00")
    assert page.locator(".card", has_text="Available").first.locator(".card-value").inner_text() == "20.00"
    page.click(f"text={withdrawal.number}")
    page.click("button[data-action=approve]")
    page.wait_for_load_state()
    assert page.locator("[data-status]").get_attribute("data-status") == "approved"
    page.fill("form:has(button[data-action=confirm]) input[name=reference]", "BK-2026-1")
    page.click("button[data-action=confirm]")
    page.wait_for_load_state()
    assert page.locator("[data-status]").get_attribute("data-status") == "paid"
    assert "BK-2026-1" in page.content()
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid" and withdrawal.write_offs.exists()
    assert watcher.problems == []


def test_a_partner_sees_only_its_own_earnings(browser, asgi_server, world):
    own = accrual_for(world.partner, total=Decimal("120.00"))
    other = accrual_for(world.other_partner, total=Decimal("90.00"))

    page = browser.new_context().new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.partner_user.username)
    links = page.eval_on_selector_all("nav.sidenav a", "links => links.map(a => a.dataset.urlName)")
    portal = ["accounting:portal", "accounting:portal-withdrawals", "accounting:portal-statement"]
    assert [link for link in links if link.startswith("accounting:")] == portal
    assert set(links) - set(portal) <= {"core:dashboard", "core:notification-list"}, links
    page.click("nav.sidenav a[data-url-name='accounting:portal']")
    page.wait_for_selector(
        "#earned-by-day ~ *, figure[data-chart=earned-by-day] canvas, figure[data-chart=earned-by-day] svg"
    )
    html = page.content()
    assert own.order.number in html and other.order.number not in html
    assert page.locator("[data-balance=pending]").inner_text() == "12.00"
    shown = set(re.findall(r'data-pk="(\d+)"', html))
    assert shown == {str(own.pk)}
    page.click("figure[data-chart=earned-by-site] .chart-toggle")
    assert str(own.site) in page.locator("figure[data-chart=earned-by-site] .chart-data").inner_text()
    response = page.goto(f"{asgi_server.url}/accounting/withdrawals/")
    assert response.status == 403
    # The refused page itself is the only complaint (the browser logs the 403).
    assert [p for p in watcher.problems if "403" not in p] == []
