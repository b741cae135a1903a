"""In a real browser: a clerk opens the till and a shift, the network goes away (Playwright's
`context.set_offline`), the page is reopened from what the service worker kept, and the clerk
makes three cash sales from the catalog kept in IndexedDB: the page says it is offline and how
many sales wait. Back online, the till sends them; the server has each sale once, in the shift's
expected cash, and the shelf dropped by what was sold."""

from decimal import Decimal

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_three_cash_sales_made_offline_reach_the_server_once_each(browser, asgi_server, world):
    from playwright.sync_api import expect

    from inventory.models import StockLevel
    from orders.models import Order, Payment
    from staff.counter import shift_expected
    from staff.models import OfflineSale, Shift
    from tests.factories import ProductFactory, stock_shelf

    tea = ProductFactory(name="Jasmine tea", barcode="6901234560011", sale_price=Decimal("4.00"))
    bun = ProductFactory(name="Red bean bun", barcode="6901234560028", sale_price=Decimal("2.50"))
    for product in (tea, bun):
        stock_shelf(world.east_store, product, 10)

    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    watch = Watcher(page)
    log_in(page, asgi_server.url, world.clerk.username)
    page.goto(f"{asgi_server.url}/staff/cashier/")
    page.fill("#shift_opening_float", "100.00")
    page.click("#open-shift")
    page.wait_for_selector("#expected-cash")
    site = str(world.east_store.pk)
    page.select_option("#till_site", site)
    page.wait_for_selector(f"#till-form[data-kept='{site}']")
    # Once the service worker controls the page, a visit keeps the page itself.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    from django.core.signals import request_started

    reached = []  # what reaches the server

    def note(sender, environ=None, scope=None, **kwargs):
        reached.append((scope or {}).get("path") or (environ or {}).get("PATH_INFO"))

    request_started.connect(note)
    page.reload()
    assert "/staff/cashier/" in reached
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_selector(f"#till-form[data-kept='{site}']")

    context.set_offline(True)
    reached.clear()
    reloaded = page.reload()  # the server cannot be reached: the page comes from the service worker's copy
    request_started.disconnect(note)
    assert reloaded.from_service_worker
    assert "/staff/cashier/" not in reached, reached
    page.wait_for_selector("body[data-till=offline]")
    expect(page.locator("#offline-banner")).to_be_visible()
    expect(page.locator("#offline-state")).to_contain_text("Offline")
    expect(page.locator("#till-sell")).to_be_hidden()
    expect(page.locator("#offline-pay")).to_be_visible()
    page.select_option("#till_site", site)

    def scan(code):
        page.fill("#till-scan", code)
        page.press("#till-scan", "Enter")

    sales = [([tea.barcode, tea.barcode], "10.00"), ([bun.barcode], "5.00"), ([tea.barcode, bun.barcode], "20.00")]
    for number, (codes, tendered) in enumerate(sales, start=1):
        for code in codes:
            scan(code)
        page.wait_for_selector("#till-lines input[name=quantity]")
        page.select_option("#offline-method", "cash")
        page.fill("#offline-tendered", tendered)
        page.click("#offline-take")
        page.wait_for_selector(f"#offline-queued[data-count='{number}']", state="attached")
    expect(page.locator("#offline-queued")).to_contain_text("3 sales kept on this till")
    expect(page.locator("#till-message")).to_contain_text("Change: 13.50")  # 20.00 for 4.00 + 2.50
    assert not Order.objects.filter(site=world.east_store).exists()

    context.set_offline(False)
    page.wait_for_selector("#offline-queued[data-count='0']", state="attached")
    expect(page.locator("#offline-synced")).to_contain_text("3 offline sales sent; 0 flagged")
    expect(page.locator("#till-sell")).to_be_visible()

    shift = Shift.objects.get(clerk=world.clerk, closed_at__isnull=True)
    orders = Order.objects.filter(site=world.east_store)
    assert sorted(order.total for order in orders) == [Decimal("2.50"), Decimal("6.50"), Decimal("8.00")]
    assert OfflineSale.objects.filter(clerk=world.clerk, status="synced").count() == 3
    payments = Payment.objects.filter(order__in=orders)
    assert payments.count() == 3 and all(p.offline and p.shift_id == shift.pk for p in payments)
    assert shift_expected(shift) == Decimal("117.00")
    expect(page.locator("#expected-cash")).to_have_text("117.00")
    shelf = {
        level.product_id: level.quantity
        for level in StockLevel.objects.filter(location__site=world.east_store, location__kind="shelf")
    }
    assert (shelf[tea.pk], shelf[bun.pk]) == (7, 8)
    offline_noise = ("ERR_INTERNET_DISCONNECTED", "Failed to fetch", "ERR_NETWORK_CHANGED")
    problems = [problem for problem in watch.problems if not any(noise in problem for noise in offline_noise)]
    assert not problems, problems
    context.close()


def test_with_the_network_up_and_the_server_down_the_till_sells_by_card_and_sends_it_later(browser, asgi_server, world):
    """The network is up but the server does not answer (its API refuses connections): the first
    scan finds out, the till turns offline, sells from what it kept and takes a card payment;
    when the server is back the sale is sent once."""
    from playwright.sync_api import expect

    from orders.models import Payment
    from staff.models import OfflineSale
    from tests.factories import ProductFactory, stock_shelf

    gum = ProductFactory(name="Mint gum", barcode="6901234560035", sale_price=Decimal("1.50"))
    stock_shelf(world.east_store, gum, 4)
    # Without the service worker, so the page's own routing stands in for the server going away.
    context = browser.new_context(viewport={"width": 1024, "height": 768}, service_workers="block")
    page = context.new_page()
    watch = Watcher(page)
    log_in(page, asgi_server.url, world.clerk.username)
    page.goto(f"{asgi_server.url}/staff/cashier/")
    site = str(world.east_store.pk)
    page.select_option("#till_site", site)
    page.wait_for_selector(f"#till-form[data-kept='{site}']")

    def server_down(route):
        route.abort("connectionrefused")

    page.route("**/api/v1/**", server_down)
    page.route("**/staff/cashier/sw.js", server_down)
    page.fill("#till-scan", gum.barcode)
    page.press("#till-scan", "Enter")
    page.wait_for_selector("body[data-till=offline]")
    page.wait_for_selector("#till-lines tr:has-text('Mint gum')")
    expect(page.locator("#offline-banner")).to_be_visible()
    assert page.locator("#offline-method option").all_inner_texts() == ["Card"]  # no shift: no cash
    page.click("#offline-take")
    expect(page.locator("#offline-message")).to_contain_text("terminal's reference")
    page.fill("#offline-reference", "POS-778")
    page.click("#offline-take")
    page.wait_for_selector("#offline-queued[data-count='1']", state="attached")
    assert not OfflineSale.objects.exists()

    page.unroute("**/api/v1/**")
    page.unroute("**/staff/cashier/sw.js")
    page.evaluate("window.dispatchEvent(new Event('online'))")  # as the till's probe finds it back
    page.wait_for_selector("#offline-queued[data-count='0']", state="attached")
    expect(page.locator("#offline-synced")).to_contain_text("1 offline sales sent")
    sale = OfflineSale.objects.get()
    assert sale.method == "card" and sale.amount == Decimal("1.50")
    assert Payment.objects.get(order=sale.order).reference == "POS-778"
    offline_noise = ("ERR_CONNECTION_REFUSED", "Failed to fetch", "net::")
    problems = [problem for problem in watch.problems if not any(noise in problem for noise in offline_noise)]
    assert not problems, problems
    context.close()
