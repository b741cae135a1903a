"""Delivery orders imported from the files Taobao / Tmall and JD export (fixtures/), through the
import page: one order per platform order number (several rows are one order), channel IMPORT,
verified and allocated; the same file again imports nothing; any bad row means nothing is written,
with each problem by line and by the file's own column header; the layouts are edited in the console."""

import io
import pathlib
from decimal import Decimal

import pytest

from fulfilment.models import Delivery, PlatformMapping
from orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus
from tests.fulfilment.conftest import stock

pytestmark = pytest.mark.django_db
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
IMPORT = "/fulfilment/import/"


def _upload(browser, region, platform, name, content=None, follow=False):
    content = (FIXTURES / name).read_bytes() if content is None else content
    upload = io.BytesIO(content)
    upload.name = name
    mapping = PlatformMapping.objects.get(platform=platform)
    return browser.post(IMPORT, {"region": region.pk, "mapping": mapping.pk, "file": upload}, follow=follow)


def _deliveries():
    return Order.objects.filter(kind=OrderKind.DELIVERY).count()


def test_taobao_file_rows_of_one_order_are_grouped_and_the_file_imports_once(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    stock(shop.bj_loc, shop.tea, 10)
    stock(shop.bj_loc, shop.snack, 10)
    browser = browser_of(world.regional)
    response = _upload(browser, world.east, "taobao", "taobao_orders.csv", follow=True)
    assert "2 orders in the file: 2 new" in response.content.decode()
    first = Delivery.objects.get(platform="taobao", platform_order_number="2519876543210001")
    second = Delivery.objects.get(platform="taobao", platform_order_number="2519876543210002")
    assert (first.recipient_name, first.phone, first.city, first.district, first.address) == (
        "张伟",
        "13800138000",
        "上海市",
        "浦东新区",
        "世纪大道100号",
    )
    assert first.order.channel == Channel.IMPORT and first.order.region == world.east
    assert first.order.status == OrderStatus.ALLOCATED
    assert [(line.product.sku, line.quantity, line.unit_price) for line in first.order.lines.all()] == [
        ("TEA-500", 2, Decimal("3.50"))
    ]
    assert sorted((line.product.sku, line.quantity) for line in second.order.lines.all()) == [
        ("SNACK-01", 3),
        ("TEA-500", 1),
    ]
    # Beijing address: the Beijing warehouse ships it.
    assert {a.level.location for a in second.order.allocations.all()} == {shop.bj_loc}
    events = OrderEvent.objects.filter(order__in=[first.order, second.order]).count()
    again = _upload(browser, world.east, "taobao", "taobao_orders.csv", follow=True)
    assert "0 new (0 held for checking), 2 imported before" in again.content.decode()
    assert _deliveries() == 2 and OrderEvent.objects.filter(order__kind=OrderKind.DELIVERY).count() == events


def test_jd_file_in_gb18030_matches_products_by_barcode(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    browser = browser_of(world.regional)
    response = _upload(browser, world.east, "jd", "jd_orders.csv", follow=True)
    assert "2 orders in the file: 2 new (1 held for checking)" in response.content.decode()
    tea = Delivery.objects.get(platform="jd", platform_order_number="290123456789")
    assert (tea.province, tea.city, tea.district, tea.address) == ("上海", "上海市", "徐汇区", "漕溪北路88号")
    assert tea.order.status == OrderStatus.ALLOCATED and tea.order.lines.get().product == shop.tea
    snack = Delivery.objects.get(platform="jd", platform_order_number="290123456790")
    assert (snack.province, snack.city) == ("浙江省", "杭州市")
    assert [hold["code"] for hold in snack.holds] == ["stock"]  # no snacks in any warehouse


def test_xlsx_export_imports_too(world, shop, browser_of):
    from openpyxl import Workbook

    stock(shop.sh_loc, shop.tea, 10)
    book = Workbook()
    sheet = book.active
    sheet.append(["订单号", "商品ID", "商品名称", "订购数量", "京东价", "客户姓名", "客户地址", "联系电话"])
    sheet.append(["290999", "TEA-500", "东方树叶", 1, 3.5, "周杰", "上海市黄浦区南京东路1号", "13800138111"])
    content = io.BytesIO()
    book.save(content)
    response = _upload(browser_of(world.regional), world.east, "jd", "jd.xlsx", content=content.getvalue(), follow=True)
    assert "1 orders in the file: 1 new" in response.content.decode()
    assert Delivery.objects.get(platform_order_number="290999").order.status == OrderStatus.ALLOCATED


def test_a_bad_row_imports_nothing_and_says_where(world, shop, browser_of):
    stock(shop.sh_loc, shop.tea, 10)
    browser = browser_of(world.regional)
    _upload(browser, world.east, "jd", "jd_orders.csv")
    count, events = _deliveries(), OrderEvent.objects.count()
    response = _upload(browser, world.east, "jd", "jd_orders_bad.csv")
    assert response.status_code == 200
    errors = [(e.line, e.column) for e in response.context["errors"]]
    assert errors == [(3, "商品ID"), (4, "联系电话"), (5, "订单号")], response.context["errors"]
    page = response.content.decode()
    assert "Nothing was imported" in page and "no product with this SKU or barcode" in page
    assert "already imported as order" in page
    assert _deliveries() == count and OrderEvent.objects.count() == events
    assert not Delivery.objects.filter(platform_order_number="290123456800").exists()


def test_missing_columns_and_other_regions_are_refused(world, shop, browser_of):
    browser = browser_of(world.regional)
    response = _upload(browser, world.east, "taobao", "jd_orders.csv")
    assert {e.column for e in response.context["errors"]} >= {"订单编号", "收货人姓名"}
    response = _upload(browser, world.west, "jd", "jd_orders.csv")
    assert "region" in response.context["form"].errors
    assert _deliveries() == 0


def test_layouts_are_listed_and_edited_by_the_platform_administrator(world, shop, browser_of):
    regional = browser_of(world.regional)
    page = regional.get("/fulfilment/layouts/").content.decode()
    assert "订单编号" in page and "订购数量" in page
    jd = PlatformMapping.objects.get(platform="jd")
    assert regional.post(f"/fulfilment/layouts/{jd.pk}/", {"name": "x"}).status_code == 403
    admin = browser_of(world.admin)
    data = {"name": "京东 (JD)", **{f"col_{field}": header for field, header in jd.columns.items()}}
    data["col_sku"] = "商家SKUID"
    assert admin.post(f"/fulfilment/layouts/{jd.pk}/", data).status_code == 302
    jd.refresh_from_db()
    assert jd.columns["sku"] == "商家SKUID" and jd.columns["order_number"] == "订单号"
    del data["col_phone"]
    response = admin.post(f"/fulfilment/layouts/{jd.pk}/", data)
    assert response.status_code == 200 and "col_phone" in response.context["form"].errors
