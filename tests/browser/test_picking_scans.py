"""In a real browser on a phone (390×844): a packer opens the warehouse's pick list, starts an order
and scans with a keyboard-mode scanner (the code typed into the focused box, then Enter). A wrong
item is refused with a message and a low beep and nothing counted; a scan whose answer is lost on
the way is sent again with the same scan id and counted once; the last item packs the order."""

from decimal import Decimal

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Records every tone the page plays (Web Audio), so the test can tell a refusal's beep from a count's.
BEEPS = """
window.__beeps = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) { window.__beeps.push(this.frequency.value); return start.apply(this, args); };
"""


def test_a_packer_scans_an_order_packed_on_a_phone(browser, asgi_server, world):
    from playwright.sync_api import expect

    from fulfilment.models import Allocation, PackScan
    from inventory.models import StockLevel, StockMovement
    from orders.models import OrderStatus
    from tests.factories import ProductFactory
    from tests.fulfilment.builders import allocated_order, warehouse

    tea = ProductFactory(name="Jasmine tea", barcode="6901234567892", sale_price=Decimal("4.00"))
    bun = ProductFactory(name="Red bean bun", barcode="6901234567908", sale_price=Decimal("2.50"))
    gum = ProductFactory(name="Mint gum", barcode="6901234567915")
    site, location = warehouse(world.east, stock={tea: 5, bun: 3, gum: 2})
    order = allocated_order(location=location, lines=[(tea, 2), (bun, 1)])

    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    context.add_init_script(BEEPS)
    page = context.new_page()
    watch = Watcher(page)
    log_in(page, asgi_server.url, world.service.username)
    page.goto(f"{asgi_server.url}/fulfilment/picking/")
    page.click(f"#pick-warehouses a:has-text('{site.name}')")
    page.click(f"a:has-text('{order.number}')")
    page.click("#pick-start")
    page.wait_for_selector("#pick-form[data-ready]")  # the script answers scans, not the plain form
    assert page.evaluate("document.activeElement.id") == "pick-scan"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The lines fill the phone's width (the console's phone tables are scrolling blocks that stop short).
    assert page.evaluate("document.querySelector('#pick-lines tbody tr').getBoundingClientRect().width") > 330

    def scan(code):
        page.keyboard.type(code)  # the scanner types into the focused box...
        page.keyboard.press("Enter")  # ...and ends with Enter

    tea_row = page.locator("#pick-lines tr", has_text="Jasmine tea")
    scan(tea.barcode)
    expect(tea_row.locator(".picked")).to_have_text("1 / 2")
    expect(page.locator("#pick-message")).to_have_text("Jasmine tea: 1 of 2.")

    # A wrong item: refused, said and beeped low; nothing counted.
    scan(gum.barcode)
    expect(page.locator("#pick-message")).to_contain_text("Wrong item: Mint gum")
    assert page.evaluate("window.__beeps") == [1320, 220]
    assert PackScan.objects.filter(order=order).count() == 1

    # The second tea's answer is lost on the way: the page sends the same scan id again.
    sent = []

    def lose_first_answer(route):
        sent.append(route.request.post_data_json["scan_id"])
        if len(sent) == 1:
            route.fetch()  # the server gets it and counts it...
            route.abort("connectionreset")  # ...but the answer never arrives
        else:
            route.continue_()

    def scans(url):
        return "/scan/" in url

    page.route(scans, lose_first_answer)
    scan(tea.barcode)
    expect(page.locator("#pick-message")).to_have_text("Already counted: Jasmine tea.")
    page.unroute(scans)
    assert len(sent) == 2 and sent[0] == sent[1]
    expect(tea_row.locator(".picked")).to_have_text("2 / 2")
    assert Allocation.objects.get(order=order, line__product=tea).picked == 2

    scan(bun.barcode)
    expect(page.locator("#pick-message")).to_contain_text(f"Order {order.number} is packed.")
    expect(page.locator("#pick-status")).to_have_text("Packed")
    expect(page.locator("#pick-form")).to_be_hidden()
    assert page.locator("#pick-next").count() == 0  # service staff pack; shipping is not theirs

    order.refresh_from_db()
    assert order.status == OrderStatus.PACKED
    levels = {lv.product_id: (lv.quantity, lv.reserved) for lv in StockLevel.objects.filter(location=location)}
    assert levels == {tea.pk: (3, 0), bun.pk: (2, 0), gum.pk: (2, 0)}
    assert StockMovement.objects.filter(reference=order.number, reason="scan").count() == 3
    lost = "console: Failed to load resource: net::ERR_CONNECTION_RESET"  # the answer the test dropped
    assert [p for p in watch.problems if p != lost] == [], watch.problems
    context.close()


def test_who_may_ship_is_led_on_to_shipping_once_packed(browser, asgi_server, world):
    from playwright.sync_api import expect

    from tests.factories import ProductFactory
    from tests.fulfilment.builders import allocated_order, warehouse

    tea = ProductFactory(name="Jasmine tea", barcode="6901234567892", sale_price=Decimal("4.00"))
    site, location = warehouse(world.east, stock={tea: 5})
    order = allocated_order(location=location, lines=[(tea, 1)])
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    watch = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/fulfilment/picking/orders/{order.pk}/?warehouse={site.pk}")
    page.click("#pick-start")
    page.wait_for_selector("#pick-form[data-ready]")  # the script answers scans, not the plain form
    expect(page.locator("#pick-next")).to_be_hidden()
    page.keyboard.type(tea.barcode)
    page.keyboard.press("Enter")
    expect(page.locator("#pick-message")).to_contain_text(f"Order {order.number} is packed.")
    expect(page.locator("#pick-next")).to_be_visible()
    page.click("#pick-next a")
    expect(page.locator("main")).to_contain_text(order.number)  # the packed orders waiting for a label
    assert watch.problems == [], watch.problems
    context.close()
