"""Service staff on a phone-sized screen: open today's restock route, plan it, follow the first
stop to its restock page, confirm the refill, and find the stop marked done on the route."""

import datetime
from decimal import Decimal as D

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_service_staff_plan_and_confirm_todays_route_on_a_phone(browser, asgi_server, world, settings, local_morning):
    from core.models import Site
    from devices.models import Device
    from tests.factories import DeviceFactory, ProductFactory, SiteFactory
    from vending.models import RestockTask
    from vending.restock import restock_task_create
    from vending.services import slot_create

    settings.RESTOCK_DAY_START, settings.RESTOCK_DAY_END = 0, 24 * 60 - 1  # whenever the test runs
    SiteFactory(
        region=world.east, kind=Site.Kind.WAREHOUSE, name="East depot", latitude=D("31.2"), longitude=D("121.4")
    )
    for n in range(3):
        site = SiteFactory(
            region=world.east,
            name=f"Venue {n}",
            latitude=D("31.21") + D("0.01") * n,
            longitude=D("121.42"),
            opening_time=datetime.time(0, 0),
            closing_time=datetime.time(23, 59),
        )
        machine = DeviceFactory(site=site, kind=Device.Kind.VENDING, name=f"Snack machine {n}")
        slot_create(device=machine, code="A1", product=ProductFactory(), capacity=20, par_level=6)
        restock_task_create(device=machine, actor=None)
    # A second machine in the first venue, a few metres from the first: one marker for the venue.
    beside = DeviceFactory(
        site=Site.objects.get(name="Venue 0"),
        kind=Device.Kind.VENDING,
        name="Drinks machine 0",
        latitude=D("31.2101"),
        longitude=D("121.4201"),
    )
    slot_create(device=beside, code="A1", product=ProductFactory(), capacity=20, par_level=6)
    restock_task_create(device=beside, actor=None)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.service.username)
    page.goto(f"{asgi_server.url}/vending/restock/route/")
    assert "No route planned for this day yet." in page.content()
    page.click("#plan-route")
    page.wait_for_selector(".route-stop")
    assert page.locator(".route-stop").count() == 4
    assert page.locator("#route-map .route-marker").count() == 3  # the venues on the map
    # On a phone the labels are the stop numbers only; the venue's two read "n, m".
    labels = sorted(page.locator("#route-map .route-label").all_inner_texts(), key=len)
    assert len(labels) == 3 and all(text.replace(", ", "").isdigit() for text in labels), labels
    assert ", " in labels[-1]
    # The list fits the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    first = page.locator(".route-stop").first
    name = first.locator(".stop-name").inner_text()
    first.locator("a").click()
    page.wait_for_selector("#restock-form")
    page.click("#restock-form button[type=submit]")
    page.wait_for_load_state()
    assert "Restock confirmed" in page.content()
    task = RestockTask.objects.get(device__name=name)
    assert task.status == RestockTask.Status.DONE and task.route_stop == 1
    page.goto(f"{asgi_server.url}/vending/restock/route/")
    assert page.locator(".route-stop.done").count() == 1
    assert name in page.locator(".route-stop.done").inner_text()
    context.close()
    assert watcher.problems == []
