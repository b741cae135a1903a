"""In a real browser on a tablet-sized screen: a clerk scans a product twice with a keyboard-mode
scanner (quantity 2), searches another by name and picks it, scans an unknown code (told so,
nothing added), removes a line, sells, and the shelf drops by what was sold."""

from decimal import Decimal

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clerk_scans_searches_and_sells_from_the_shelf(browser, asgi_server, world):
    from playwright.sync_api import expect

    from inventory.models import StockLevel
    from orders.models import Order
    from tests.factories import ProductFactory, stock_shelf

    tea = ProductFactory(name="Jasmine tea", barcode="6901234567892", sale_price=Decimal("4.00"))
    bun = ProductFactory(name="Red bean bun", barcode="6901234567908", sale_price=Decimal("2.50"))
    gum = ProductFactory(name="Mint gum", barcode="6901234567915", sale_price=Decimal("1.00"))
    for product in (tea, bun, gum):
        stock_shelf(world.east_store, product, 5)

    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    watch = Watcher(page)
    log_in(page, asgi_server.url, world.clerk.username)
    page.goto(f"{asgi_server.url}/staff/cashier/")
    page.select_option("#till_site", str(world.east_store.pk))

    def scan(code):
        page.fill("#till-scan", code)
        page.press("#till-scan", "Enter")

    scan(tea.barcode)
    page.wait_for_selector("#till-lines tr:has-text('Jasmine tea')")
    scan(tea.barcode)
    expect(page.locator("#till-lines input[name=quantity]")).to_have_value("2")
    scan("0000000000000")
    page.wait_for_selector("#till-message:has-text('0000000000000')")
    assert page.locator("#till-lines tr").count() == 1
    scan("Red bean")
    page.click(".till-hit:has-text('Red bean bun')")
    scan(gum.barcode)
    page.wait_for_selector("#till-lines tr:has-text('Mint gum')")
    page.click("#till-lines tr:has-text('Mint gum') button:has-text('Remove')")
    assert page.locator("#till-lines tr").count() == 2
    assert page.inner_text("#till-total") == "10.50"
    page.click("#till-sell")
    page.wait_for_selector("#collect-form")

    order = Order.objects.get(site=world.east_store)
    assert sorted((line.description[:5], line.quantity) for line in order.lines.all()) == [("Jasmi", 2), ("Red b", 1)]
    shelf = {
        level.product_id: level.quantity
        for level in StockLevel.objects.filter(location__site=world.east_store, location__kind="shelf")
    }
    assert (shelf[tea.pk], shelf[bun.pk], shelf[gum.pk]) == (3, 4, 5)
    assert not watch.problems, watch.problems
    context.close()
