"""The order list in a browser, on a phone and a desktop: a click on "Total" sorts by it (and again,
the other way), and the "Columns" menu hides a column without JavaScript of its own, for the next
visit too (issue 22 item 3, ADR 0026)."""

import datetime
from decimal import Decimal

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)])
def test_sort_by_a_header_and_hide_a_column_on_the_order_list(browser, asgi_server, world, width, height):
    from orders.models import Order
    from tests.orders.test_order_lists import bulk_orders

    orders = bulk_orders(5, site=world.east_store, step=datetime.timedelta(minutes=1))
    for order, total in zip(orders, ("4.00", "1.00", "5.00", "2.00", "3.00"), strict=True):
        order.total = Decimal(total)
    Order.objects.bulk_update(orders, ["total"])
    by_total = [o.number for o in sorted(orders, key=lambda o: o.total)]

    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.regional.username)
    page.goto(f"{asgi_server.url}/orders/")

    def numbers():
        return page.locator("table.data tbody td[data-col='number']").all_inner_texts()

    page.click("th[data-col='total'] a.sort")
    page.wait_for_url("**ordering=total**")
    assert page.locator("th[data-col='total']").get_attribute("aria-sort") == "ascending"
    assert [n.strip() for n in numbers()] == by_total
    page.click("th[data-col='total'] a.sort")
    page.wait_for_url("**ordering=-total**")
    assert page.locator("th[data-col='total']").get_attribute("aria-sort") == "descending"
    assert [n.strip() for n in numbers()] == list(reversed(by_total))

    assert page.locator("td[data-col='device']").count() == 5
    page.click("details.columns-menu > summary")
    page.uncheck("details.columns-menu input[value='device']")
    page.click("details.columns-menu button[value='save']")
    page.wait_for_load_state()
    assert page.locator("td[data-col='device']").count() == 0
    assert page.locator("th[data-col='device']").count() == 0
    assert "ordering=-total" in page.url  # the sort survives the column choice
    page.goto(f"{asgi_server.url}/orders/")
    assert page.locator("th[data-col='device']").count() == 0  # remembered
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.click("details.columns-menu > summary")
    page.click("details.columns-menu button[value='reset']")
    page.wait_for_load_state()
    assert page.locator("th[data-col='device']").count() == 1
    context.close()
    assert watcher.problems == []
