"""Sortable columns and the "Columns" menu of the console's lists (issue 22 item 3, ADR 0026),
through the pages: header links sort both ways and keep the filters, an unknown key is ignored,
keyset pages under another ordering lose and repeat nothing, hidden columns are not rendered and
the choice is kept for the same user only."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.models import Order
from tests.factories import DeviceFactory, UserFactory
from tests.orders.test_order_lists import bulk_orders

pytestmark = pytest.mark.django_db

ORDERS = "orders:order-list"


def _pks(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-pk="(\d+)"', page)]


def _header(page: str, col: str) -> str:
    match = re.search(rf'<th scope="col" data-col="{col}"[^>]*>.*?</th>', page, re.S)
    assert match, f"no header {col}"
    return match.group(0)


def _header_link(page: str, col: str) -> str:
    return html.unescape(re.search(r'href="([^"]+)"', _header(page, col)).group(1))


def _orders_with_totals(world, n=6):
    orders = bulk_orders(n, site=world.east_store, step=datetime.timedelta(minutes=1))
    for i, order in enumerate(orders):
        order.total = Decimal("1.00") * ((i * 7) % n + 1)  # all different, not in date order
    Order.objects.bulk_update(orders, ["total"])
    return orders


def test_a_header_sorts_by_its_column_both_ways_and_says_so(world, client):
    orders = _orders_with_totals(world)
    client.force_login(world.admin)
    url = reverse(ORDERS)
    page = client.get(url).content.decode()
    # By default the list runs newest first, and the "Created" header says so.
    assert 'aria-sort="descending"' in _header(page, "created_at")
    assert "aria-sort" not in _header(page, "total")
    assert "href" not in _header(page, "status")  # not sortable: not indexed

    ascending = client.get(url + _header_link(page, "total")).content.decode()
    by_total = sorted(orders, key=lambda o: (o.total, o.pk))
    assert _pks(ascending) == [o.pk for o in by_total]
    assert 'aria-sort="ascending"' in _header(ascending, "total") and "▲" in _header(ascending, "total")
    assert "aria-sort" not in _header(ascending, "created_at")

    descending = client.get(url + _header_link(ascending, "total")).content.decode()
    assert _pks(descending) == [o.pk for o in reversed(by_total)]
    assert 'aria-sort="descending"' in _header(descending, "total") and "▼" in _header(descending, "total")

    by_number = client.get(url, {"ordering": "number"}).content.decode()
    assert _pks(by_number) == [o.pk for o in sorted(orders, key=lambda o: o.number)]
    oldest_first = client.get(url, {"ordering": "created_at"}).content.decode()
    assert _pks(oldest_first) == [o.pk for o in reversed(orders)]


def test_sorting_keeps_the_filter_and_the_filter_keeps_the_sort(world, client):
    east = _orders_with_totals(world, 4)
    bulk_orders(3, site=world.west_store)
    client.force_login(world.admin)
    url = reverse(ORDERS)
    page = client.get(url, {"site": world.east_store.pk}).content.decode()
    link = _header_link(page, "total")
    assert f"site={world.east_store.pk}" in link and "ordering=total" in link
    sorted_page = client.get(url + link).content.decode()
    assert _pks(sorted_page) == [o.pk for o in sorted(east, key=lambda o: (o.total, o.pk))]
    # The filter form keeps the sort, the "Columns" form keeps both.
    filters = re.search(r'<form method="get" class="filters">.*?</form>', sorted_page, re.S).group(0)
    assert '<input type="hidden" name="ordering" value="total">' in filters
    menu = re.search(r'<form method="get" class="columns-form">.*?</form>', sorted_page, re.S).group(0)
    assert 'name="ordering" value="total"' in menu and f'name="site" value="{world.east_store.pk}"' in menu


@pytest.mark.parametrize("key", ["status", "paid_amount", "-customer__phone", "--total", "nonsense", ""])
def test_an_unknown_or_unindexed_sort_key_is_ignored(world, client, key):
    orders = _orders_with_totals(world, 4)
    client.force_login(world.admin)
    response = client.get(reverse(ORDERS), {"ordering": key})
    assert response.status_code == 200
    page = response.content.decode()
    assert _pks(page) == [o.pk for o in orders]  # newest first, as without the key
    assert 'aria-sort="descending"' in _header(page, "created_at")


@pytest.mark.parametrize("key", ["total", "-total", "number", "-number", "created_at"])
def test_keyset_pages_under_each_ordering_have_no_gaps_or_repeats(world, client, monkeypatch, key):
    monkeypatch.setattr("orders.views.OrderListView.page_size", 4)
    orders = bulk_orders(11, site=world.east_store)  # the same instant: ties broken by id
    for i, order in enumerate(orders):
        order.total = Decimal(i % 3)  # ties in the total too
    Order.objects.bulk_update(orders, ["total"])
    client.force_login(world.admin)
    url = reverse(ORDERS)
    seen, params, pages = [], {"ordering": key}, []
    while True:
        page = client.get(url, params).content.decode()
        pages.append(page)
        seen += _pks(page)
        older = re.search(r'href="\?([^"]+)" rel="next"', page)
        if not older:
            break
        params = dict(pair.split("=", 1) for pair in html.unescape(older.group(1)).split("&"))
        assert params["ordering"] == key
    field = key.lstrip("-")
    expected = sorted(orders, key=lambda o: (getattr(o, field), o.pk), reverse=key.startswith("-"))
    assert seen == [o.pk for o in expected]
    assert len(pages) == 3
    # Going back from the last page gives the middle page again.
    back = re.search(r'href="\?([^"]+)" rel="prev"', pages[-1]).group(1)
    assert _pks(client.get(f"{url}?{html.unescape(back)}").content.decode()) == _pks(pages[1])
    # Under another sort the links say "Previous / Next", not "Newer / Older".
    if key != "-created_at":
        assert "Next" in pages[0] and "Older" not in pages[0]


def test_hidden_columns_are_not_rendered_and_are_kept_for_that_user_only(world, client):
    order = _orders_with_totals(world, 2)[0]
    client.force_login(world.admin)
    url = reverse(ORDERS)
    page = client.get(url).content.decode()
    assert 'data-col="refunded_amount"' in page and '<details class="columns-menu"' in page
    shown = [c for c in re.findall(r'name="show" value="([^"]+)"', page) if c not in ("device", "refunded_amount")]
    response = client.get(url, {"columns": "save", "show": shown, "site": world.east_store.pk, "ordering": "total"})
    # Saved, then back to the list with the filter and the sort, without the menu's fields.
    assert response.status_code == 302
    assert "columns=" not in response.url and "ordering=total" in response.url and "site=" in response.url
    page = client.get(response.url).content.decode()
    assert 'data-col="refunded_amount"' not in page and 'data-col="device"' not in page
    assert 'data-col="total"' in page and order.number in page
    assert "data-columns-hidden" in page
    # Kept on the next visit, on this list only.
    assert 'data-col="device"' not in client.get(url).content.decode()

    # Another user sees every column.
    other = UserFactory(role="platform_admin", is_superuser=False)
    client.force_login(other)
    assert 'data-col="refunded_amount"' in client.get(url).content.decode()

    # The essential column (the link) cannot be hidden, even by a hand-made URL.
    client.force_login(world.admin)
    client.get(url, {"columns": "save", "show": ["total"]})
    page = client.get(url).content.decode()
    assert 'data-col="number"' in page and 'data-col="total"' in page and 'data-col="status"' not in page
    # "Show all columns" resets the choice.
    client.get(url, {"columns": "reset"})
    page = client.get(url).content.decode()
    assert all(f'data-col="{col}"' in page for col in ("status", "device", "refunded_amount"))


def test_the_fleet_and_customers_sort_and_hide_columns_too(world, client):
    b = DeviceFactory(site=world.east_store, name="B machine", serial_number="SN-1")
    a = DeviceFactory(site=world.east_store, name="A machine", serial_number="SN-2")
    client.force_login(world.admin)
    url = reverse("devices:device-list")
    page = client.get(url).content.decode()
    assert _pks(page) == [a.pk, b.pk] and 'aria-sort="ascending"' in _header(page, "name")
    by_serial = client.get(url, {"ordering": "-serial_number"}).content.decode()
    assert _pks(by_serial) == [a.pk, b.pk]
    assert _pks(client.get(url, {"ordering": "serial_number"}).content.decode()) == [b.pk, a.pk]
    client.get(url, {"columns": "save", "show": ["kind", "site", "last_seen_at"]})
    page = client.get(url).content.decode()
    assert 'data-col="serial_number"' not in page and ">SN-1<" not in page  # (the map's data still has it)
    assert 'data-col="state"' in page  # essential: the live updates write it

    from tests.factories import CustomerFactory

    old = CustomerFactory(phone="13900000002")
    new = CustomerFactory(phone="13900000001")
    page = client.get(reverse("members:customer-list"), {"ordering": "phone"}).content.decode()
    assert _pks(page) == [new.pk, old.pk]
    assert 'aria-sort="ascending"' in _header(page, "phone")
