"""Service staff on a phone-sized screen (390×844): open today's replenishment plan, see the machine
whose slot runs empty with its prekit, plan the visits, follow today's route to the first stop's
restock page, confirm the refill, and find the stop done on the route. Screenshots of each step go
to VAR_DIR/screenshots/ for a person to look at."""

import datetime
from decimal import Decimal as D

import pytest

from tests.browser.helpers import Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_service_staff_plan_visits_and_confirm_one_on_a_phone(browser, asgi_server, world, settings, local_morning):
    from django.utils import timezone

    from core.models import Site
    from devices.models import Device
    from inventory.models import StockMovement
    from inventory.services import stock_move
    from tests.factories import DeviceFactory, ProductFactory, SiteFactory
    from vending.models import RestockTask
    from vending.services import slot_create

    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    settings.RESTOCK_DAY_START, settings.RESTOCK_DAY_END = 0, 24 * 60 - 1  # whenever the test runs
    SiteFactory(
        region=world.east, kind=Site.Kind.WAREHOUSE, name="East depot", latitude=D("31.2"), longitude=D("121.4")
    )
    # Two machines selling 4 a day for four weeks: "Snack machine 0" has 3 left (empty today),
    # "Snack machine 1" was just filled (lasts).
    for n, left in enumerate((3, 20)):
        site = SiteFactory(
            region=world.east,
            name=f"Venue {n}",
            latitude=D("31.21") + D("0.01") * n,
            longitude=D("121.42"),
            opening_time=datetime.time(0, 0),
            closing_time=datetime.time(23, 59),
        )
        machine = DeviceFactory(site=site, kind=Device.Kind.VENDING, name=f"Snack machine {n}")
        slot = slot_create(device=machine, code="A1", product=ProductFactory(), capacity=20, par_level=20)
        moves = [stock_move(level=slot.level, quantity=20, reason="restock")]
        for _day in range(28):
            moves.append(stock_move(level=slot.level, quantity=-4, reason="sale"))
            if slot.level.__class__.objects.get(pk=slot.level_id).quantity < 4:
                moves.append(stock_move(level=slot.level, quantity=16, reason="restock"))
        for age, move in enumerate(reversed(moves)):
            StockMovement.objects.filter(pk=move.pk).update(
                at=timezone.now() - datetime.timedelta(days=28.5 * (age + 1) / len(moves))
            )
        now = slot.level.__class__.objects.get(pk=slot.level_id).quantity
        if now != left:
            stock_move(level=slot.level, quantity=left - now, reason="adjustment")

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, world.service.username)
    page.goto(f"{asgi_server.url}/vending/restock/replenishment/")
    visits = page.locator("#visits .visit")
    assert visits.count() == 1
    assert "Snack machine 0" in visits.first.inner_text()
    assert "average of the last 28 days" in page.locator("#plan-basis").inner_text()
    assert page.locator("#visits tr.due .bring").inner_text() == "17"  # 3 left, par 20
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the list fits the phone
    page.screenshot(path=str(shots / "replenishment-plan-phone.png"), full_page=True)

    page.click("summary")  # the form folds away once there is a plan
    page.click("#plan-visits")
    page.wait_for_selector(".route-stop")
    assert "/vending/restock/route/" in page.url
    assert page.locator(".route-stop").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots / "replenishment-route-phone.png"), full_page=True)

    page.locator(".route-stop a").first.click()
    page.wait_for_selector("#restock-form")
    page.screenshot(path=str(shots / "replenishment-restock-phone.png"), full_page=True)
    page.click("#restock-form button[type=submit]")
    page.wait_for_load_state()
    assert "Restock confirmed" in page.content()
    task = RestockTask.objects.get(device__name="Snack machine 0")
    assert task.status == RestockTask.Status.DONE and task.route_stop == 1
    assert [line.confirmed for line in task.lines.all()] == [17]
    page.goto(f"{asgi_server.url}/vending/restock/route/")
    assert page.locator(".route-stop.done").count() == 1
    page.goto(f"{asgi_server.url}/vending/restock/replenishment/")
    assert "Snack machine 0" in page.locator("#visited").inner_text()  # kept as done, not planned again
    assert page.locator("#visits .visit").count() == 0
    page.screenshot(path=str(shots / "replenishment-after-visit-phone.png"), full_page=True)
    context.close()
    assert watcher.problems == []
