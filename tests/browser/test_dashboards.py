"""Every role's dashboard in a real browser, in English and in Simplified Chinese: the cards are
there, every chart is drawn (ECharts puts an svg in .chart-canvas), money has two decimals, no
console error; a sale updates the administrator's figure without a reload; on a phone the cards
stack in one column. The replaced telemetry and performance charts are drawn by the same component."""

import re
import threading
from decimal import Decimal as D

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROLES = ["platform_admin", "regional_admin", "store_manager", "clerk", "service_staff", "supplier", "finance"]
MONEY = re.compile(r"^(CNY\s+)?-?\d[\d,]*\.\d\d$")
COUNT = re.compile(r"^\d[\d,]*$")


@pytest.fixture
def users(world):
    from devices.models import Device, Fault
    from orders.models import OrderKind
    from orders.services import LineSpec, order_create, payment_collect
    from staff.counter import shift_open
    from tests.factories import DeviceFactory, ProductFactory, make_order
    from vending.models import RestockTask

    product = ProductFactory(supplier=world.supplier)
    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("100.00"))
    for site, quantity in ((world.east_store, 1500), (world.west_store, 3)):
        order = order_create(
            kind=OrderKind.COUNTER,
            actor=None,
            site=site,
            lines=[LineSpec(description="x", unit_price=D("2.50"), product=product, quantity=quantity)],
        )
        payment_collect(
            order=order, provider="cash", amount=order.total, actor=world.clerk, shift=shift if quantity > 3 else None
        )
    make_order(site=world.west_store, total=D("12.30"), paid=True)
    machine = DeviceFactory(site=world.east_store, state=Device.State.ONLINE, name="East cooler")
    DeviceFactory(site=world.east_store, state=Device.State.OFFLINE)
    Fault.objects.create(device=machine, code="JAM")
    RestockTask.objects.create(device=machine, route="R1")
    return {
        "platform_admin": world.admin,
        "regional_admin": world.regional,
        "store_manager": world.manager,
        "clerk": world.clerk,
        "service_staff": world.service,
        "supplier": world.supplier_user,
        "finance": world.finance,
    }


def _open(browser, base, user, language, **context_args):
    context = browser.new_context(**context_args)
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, base, user.username)
    page.goto(f"{base}/")
    page.wait_for_load_state("networkidle")
    return context, page, watcher


OVERLAPPING = """() => [...document.querySelectorAll("figure.chart")].flatMap((figure) => {
  const boxes = [...figure.querySelectorAll(".chart-canvas svg text")]
    .map((t) => [t.textContent, t.getBoundingClientRect()]).filter(([, b]) => b.width > 0);
  return boxes.flatMap(([ta, a], i) => boxes.slice(i + 1)
    .filter(([, b]) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
    .map(([tb]) => [ta, tb]));
})"""


def _charts_drawn(page) -> int:
    charts = page.locator("figure.chart")
    for index in range(charts.count()):
        charts.nth(index).locator(".chart-canvas svg").wait_for(timeout=10000)
    return charts.count()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("role", ROLES)
def test_each_roles_dashboard_draws_its_cards_and_charts(browser, asgi_server, users, role, language):
    context, page, watcher = _open(browser, asgi_server.url, users[role], language)
    assert page.get_attribute("html", "lang") == language
    cards = page.locator("section.dash-card")
    assert cards.count() >= 1, f"{role} has an empty dashboard"
    charted = _charts_drawn(page)
    if role in ("platform_admin", "regional_admin", "finance", "supplier", "store_manager"):
        assert charted >= 1, f"{role}'s dashboard has no chart"
    for value in page.locator(".dash-value").all_inner_texts():
        value = " ".join(value.split())
        assert MONEY.match(value) or COUNT.match(value), f"{role}: {value!r} is not a formatted figure"
    for row in page.locator(".dash-rows .num").all_inner_texts():
        assert MONEY.match(row.strip()) or COUNT.match(row.strip()), f"{role}: {row!r}"
    if role == "regional_admin":
        # 1,500 × 2.50 sold in the east today; the west's sales are not theirs.
        expected = "3,750.00"  # grouped by three in both languages (config/formats/zh_Hans)
        assert page.inner_text('[data-card="sales-today"] .dash-value').endswith(expected)
        assert "West" not in page.inner_text("#dashboard")
    if charted:
        # The numbers are one click away.
        page.locator("figure.chart .chart-toggle").first.click()
        assert page.locator("figure.chart .chart-data table").first.is_visible()
    context.close()
    assert watcher.problems == [], f"{role} ({language}): {watcher.problems}"


def _sale_in_another_thread(site, total):
    from django.db import connection

    from tests.factories import make_order

    def sell():
        try:
            make_order(site=site, total=total, paid=True)
        finally:
            connection.close()

    thread = threading.Thread(target=sell)
    thread.start()
    thread.join()


def test_sales_today_updates_live_without_a_reload(browser, asgi_server, users, world):
    context, page, watcher = _open(browser, asgi_server.url, users["regional_admin"], "en")
    page.wait_for_selector('body[data-dashboard-live="on"]', timeout=10000)
    page.evaluate("window.__loadedAt = performance.timeOrigin")
    figure = '[data-card="sales-today"] .dash-value'
    assert page.get_attribute(figure, "data-value") == "3750.00"
    _sale_in_another_thread(world.west_store, D("99.00"))  # not theirs
    _sale_in_another_thread(world.east_store, D("10.00"))
    page.wait_for_selector(f'{figure}[data-value="3760.00"]', timeout=15000)
    assert page.evaluate("window.__loadedAt === performance.timeOrigin")
    _charts_drawn(page)  # the refreshed cards' charts are drawn again
    context.close()
    assert watcher.problems == []


@pytest.mark.parametrize("role", ["platform_admin", "service_staff", "finance"])
def test_on_a_phone_the_cards_stack_in_one_column(browser, asgi_server, users, role):
    context, page, watcher = _open(
        browser, asgi_server.url, users[role], "en", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    _charts_drawn(page)
    boxes = [card.bounding_box() for card in page.locator("section.dash-card").all()]
    assert len(boxes) >= 2
    assert len({round(box["x"]) for box in boxes}) == 1, "cards side by side on a phone"
    assert all(box["x"] + box["width"] <= 390 for box in boxes), "a card runs off the screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
    assert watcher.problems == []


def test_telemetry_and_performance_charts_are_drawn_by_the_chart_component(browser, asgi_server, users, world):
    from django.utils import timezone

    from devices.models import Device, Telemetry

    machine = Device.objects.get(name="East cooler")
    now = timezone.now()
    Telemetry.objects.bulk_create(
        [
            Telemetry(
                device=machine, at=now - timezone.timedelta(minutes=30 * step), temperature=D("4.5"), signal_dbm=-70
            )
            for step in range(6)
        ]
    )
    for language in ("en", "zh-hans"):
        context, page, watcher = _open(browser, asgi_server.url, users["regional_admin"], language)
        page.goto(f"{asgi_server.url}/devices/{machine.pk}/")
        page.wait_for_selector('figure[data-chart="telemetry-chart"] .chart-canvas svg', timeout=10000)
        svg = page.inner_html('figure[data-chart="telemetry-chart"] .chart-canvas')
        assert "dBm" in svg and "°C" in svg  # both axes labelled with their units
        page.goto(f"{asgi_server.url}/staff/performance/")
        page.wait_for_selector('figure[data-chart="performance-chart"] .chart-canvas svg', timeout=10000)
        cell = page.locator("#performance tbody tr td.num").first.inner_text()
        assert cell == "3,750.00"
        context.close()
        assert watcher.problems == [], watcher.problems


def test_devices_online_updates_live_from_the_fleet_socket(browser, asgi_server, users, world):
    from tests.browser.test_fleet_live import _heartbeat_in_another_thread
    from tests.factories import DeviceFactory

    waking = DeviceFactory(site=world.east_store, name="East freezer")
    far = DeviceFactory(site=world.west_store, name="West freezer")
    context, page, watcher = _open(browser, asgi_server.url, users["service_staff"], "en")
    page.wait_for_selector('body[data-dashboard-live="on"]', timeout=10000)
    figure = '[data-card="devices"] .dash-value'
    assert page.get_attribute(figure, "data-value") == "1"
    _heartbeat_in_another_thread(far, temperature="4.0")  # not theirs
    _heartbeat_in_another_thread(waking, temperature="4.0")
    page.wait_for_selector(f'{figure}[data-value="2"]', timeout=15000)
    context.close()
    assert watcher.problems == []


def test_a_one_slice_ring_keeps_its_label_off_the_legend(browser, asgi_server, users, world):
    """Every machine online: the ring is one slice, whose "100%" sat on the legend below, with
    "0%" labels for the empty states crowding it."""
    from devices.models import Device

    Device.objects.update(state=Device.State.ONLINE)
    context, page, watcher = _open(browser, asgi_server.url, world.admin, "zh-hans")
    _charts_drawn(page)
    texts = page.locator("figure.chart .chart-canvas svg text").all_text_contents()
    assert "100%" in texts and "0%" not in texts
    assert page.evaluate(OVERLAPPING) == []
    context.close()
    assert watcher.problems == [], watcher.problems


LEGEND_NAMES_OUTSIDE = """() => [...document.querySelectorAll("figure.chart[data-rendered]")].flatMap((figure) => {
  const spec = JSON.parse(document.getElementById(figure.dataset.chart).textContent);
  const names = spec.type === "pie" ? spec.x : spec.series.map((s) => s.name);
  const canvas = figure.querySelector(".chart-canvas").getBoundingClientRect();
  const texts = [...figure.querySelectorAll(".chart-canvas svg text")];
  return names.filter((name) => !texts.some((t) => {
    const box = t.getBoundingClientRect();
    return t.textContent === name && box.width > 0 && box.left >= canvas.left - 1 && box.right <= canvas.right + 1
      && box.top >= canvas.top - 1 && box.bottom <= canvas.bottom + 1;
  })).map((name) => [figure.dataset.chart, name]);
})"""


@pytest.mark.parametrize("width", [390, 1366])
def test_every_legend_name_shows_in_full_on_a_narrow_card(browser, asgi_server, users, world, width):
    """The devices ring in a narrow card named only its first two states behind scroll arrows,
    and the long names of "Sales by region" ran into each other: every legend name is drawn
    within its chart now, and none over another."""
    context, page, watcher = _open(
        browser, asgi_server.url, world.admin, "en", viewport={"width": width, "height": 900}
    )
    assert _charts_drawn(page) >= 2
    assert page.evaluate(LEGEND_NAMES_OUTSIDE) == []
    texts = page.locator("figure.chart .chart-canvas svg text").all_text_contents()
    assert "Maintenance" in texts and "Same weekday last week by this time" in texts
    assert page.evaluate(OVERLAPPING) == []
    context.close()
    assert watcher.problems == [], watcher.problems
