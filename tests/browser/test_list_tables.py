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


def test_a_button_in_a_row_stays_on_one_line_in_chinese(browser, asgi_server, world):
    from staff.models import AnomalyRule, StaffAlert

    StaffAlert.objects.create(
        kind=AnomalyRule.Kind.LARGE_AMOUNT,
        region=world.east,
        site=world.east_store,
        clerk=world.clerk,
        message="Refund of 80.00 on S1 is over 50.00. " * 4,
        evidence={"order": "S1", "at": "2026-12-05T22:12:37.917339+08:00"},
    )
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": asgi_server.url}])
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.manager.username)
    page.goto(f"{asgi_server.url}/staff/alerts/")
    button = page.locator("table.data td button", has_text="确认").first
    box = button.bounding_box()
    line = page.evaluate("(b) => parseFloat(getComputedStyle(b).lineHeight) || 24", button.element_handle())
    assert box["height"] < 2 * line, box  # one line of text and its padding, not 确 over 认
    context.close()
    assert watcher.problems == [], watcher.problems
