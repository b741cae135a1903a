"""Replenishment planning through its page and API: a slot about to run empty puts its machine on the
day's visits with its prekit, a machine whose slots last is left to wait, a registered demand source
is used and its basis shown, slots without history fall back to the low-stock threshold and say so, a
full cash box is a reason to visit; applying the plan creates the tasks and routes them (checked by
the independent replay of tests/vending/test_routes.py), and re-planning keeps the visits done."""

import datetime
import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Site
from devices.models import Device, Telemetry
from inventory.models import StockMovement
from inventory.services import stock_move
from tests.factories import DeviceFactory, ProductFactory, RegionFactory, SiteFactory
from tests.vending.test_routes import _check_feasible
from vending import replenishment
from vending.models import RestockTask
from vending.services import slot_create

pytestmark = pytest.mark.django_db

DEPOT = (D("31.230000"), D("121.470000"))
PLAN = reverse("vending:replenishment")


def _day():
    return timezone.localdate() + datetime.timedelta(days=1)  # a whole day ahead: routes start at DAY_START


@pytest.fixture
def area(world):
    region = RegionFactory(parent=world.east, name="Replenish")
    warehouse = SiteFactory(
        region=region, kind=Site.Kind.WAREHOUSE, name="Depot", latitude=DEPOT[0], longitude=DEPOT[1]
    )
    return region, warehouse


@pytest.fixture
def no_source():
    yield
    replenishment.register_demand_source(None)


def _machine(region, name, *, lat=None, lon=None, opens=datetime.time(8), closes=datetime.time(18)):
    site = SiteFactory(
        region=region,
        name=f"{name} site",
        latitude=lat if lat is not None else DEPOT[0] + D("0.01"),
        longitude=lon if lon is not None else DEPOT[1],
        opening_time=opens,
        closing_time=closes,
    )
    return DeviceFactory(site=site, kind=Device.Kind.VENDING, name=name)


def _backdate(movement, days_ago):
    StockMovement.objects.filter(pk=movement.pk).update(at=timezone.now() - datetime.timedelta(days=days_ago))


def _slot(machine, code, *, stock, per_day=None, capacity=20, threshold=2):
    """A slot holding `stock` now; with `per_day`, four weeks of that many sales a day behind it
    (refilled to capacity whenever a day's sales would not fit)."""
    slot = slot_create(
        device=machine, code=code, product=ProductFactory(name=f"{machine.name} {code}"), capacity=capacity,
        low_threshold=threshold,
    )  # fmt: skip
    level = slot.level
    if per_day is not None:
        _backdate(stock_move(level=level, quantity=capacity, reason="restock"), 28.1)
        on_hand = capacity
        for day in range(28):
            if on_hand < per_day:
                _backdate(stock_move(level=level, quantity=capacity - on_hand, reason="restock"), 27.9 - day)
                on_hand = capacity
            if per_day:
                _backdate(stock_move(level=level, quantity=-per_day, reason="sale"), 27.5 - day)
                on_hand -= per_day
        if stock != on_hand:
            stock_move(level=level, quantity=stock - on_hand, reason="adjustment")
    elif stock:
        stock_move(level=level, quantity=stock, reason="restock")
    level.refresh_from_db()
    assert level.quantity == stock
    return slot


def _plan_form(warehouse, **more):
    return {"warehouse": warehouse.pk, "day": _day().isoformat(), "interval": 3, "vehicles": 1, "capacity": 400, **more}


def test_a_slot_about_to_empty_puts_its_machine_on_the_plan_with_its_prekit(area, world, client):
    region, warehouse = area
    busy = _machine(region, "Busy")
    _slot(busy, "A1", stock=5, per_day=4)  # 4 a day: empty tomorrow
    _slot(busy, "A2", stock=18, per_day=1)  # lasts a week; topped up while the vehicle is there
    quiet = _machine(region, "Quiet", lat=DEPOT[0] - D("0.01"))
    _slot(quiet, "A1", stock=18, per_day=1)
    client.force_login(world.service)

    page = client.get(PLAN, _plan_form(warehouse))
    assert page.status_code == 200
    text = page.content.decode()
    visits = text.split('id="visits"')[1].split("</ul>")[0]
    assert "Busy" in visits and "Quiet" not in visits
    assert "1 slot runs empty before the next possible visit" in visits
    can_wait = text.split('id="fine"')[1].split("</details>")[0]
    assert "Quiet" in can_wait
    assert "average of the last 28 days" in text
    # Prekit: A1 expected at 1 when the vehicle comes tomorrow (5 - 4), brought back to par 20.
    assert '<tr class="due" data-slot="A1">' in visits
    row = visits.split('data-slot="A1"')[1].split("</tr>")[0]
    assert '<td class="bring">19</td>' in row
    row = visits.split('data-slot="A2"')[1].split("</tr>")[0]
    assert '<td class="bring">3</td>' in row
    pick = text.split('id="pick-list"')[1].split("</table>")[0]
    assert re.search(r"Busy A1 [^<]*</td><td>19</td>", pick) and re.search(r"Busy A2 [^<]*</td><td>3</td>", pick)

    # Planning it creates the task with that prekit for Busy alone, and routes it.
    response = client.post(PLAN, _plan_form(warehouse), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("vending:restock-route"))
    text = response.content.decode()
    assert "1 restock task created; route planned: 1 stops" in text
    (task,) = RestockTask.objects.all()
    assert task.device == busy and task.route_stop == 1 and task.route_date == _day()
    assert {line.slot.code: line.planned for line in task.lines.all()} == {"A1": 19, "A2": 3}
    assert reverse("vending:restock-detail", args=[task.pk]) in text


def test_machines_whose_slots_last_are_not_visited(area, world, client):
    region, warehouse = area
    for n in range(3):
        _slot(_machine(region, f"Fine {n}"), "A1", stock=19, per_day=1)
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    assert "No machine needs a visit that day." in text
    response = client.post(PLAN, _plan_form(warehouse), follow=True)
    assert "No machine needs a visit that day." in response.content.decode()
    assert not RestockTask.objects.exists()


def test_a_registered_demand_source_is_used_and_its_basis_shown(area, world, client, no_source):
    region, warehouse = area
    steady = _machine(region, "Steady")
    forecast_slot = _slot(steady, "A1", stock=18, per_day=1)  # the average alone says: can wait
    _slot(steady, "A2", stock=18, per_day=1)
    quiet_slot = _slot(steady, "A3", stock=18, per_day=1)
    calls = []

    def forecasts(levels, start, days):
        calls.append((start, days))
        # A festival next door: 8 a day expected, up to 10. A1 and A3 have a forecast, A2 none.
        festival = {"mean": [8.0] * days, "high": [10.0] * days, "group": "Croston SBA"}
        return {
            forecast_slot.level_id: {**festival, "basis": "Croston SBA, MASE 0.61", "mase": 0.61},
            quiet_slot.level_id: {**festival, "basis": "Croston SBA, MASE 0.71", "mase": 0.71},
        }

    replenishment.register_demand_source(forecasts)
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    assert calls and calls[0] == (timezone.localdate(), 4)  # today to the visit after tomorrow's
    visits = text.split('id="visits"')[1].split("</ul>")[0]
    assert "Steady" in visits
    # What the plan rests on, counted by basis (not a line per slot): A2 falls back to the average.
    basis = text.split('id="plan-basis">')[1].split("</ul>")[0]
    assert "<li>Croston SBA: 2 slots, median MASE 0.66</li>" in basis
    assert "<li>average of the last 28 days: 1 slot</li>" in basis
    row = visits.split('data-slot="A1"')[1].split("</tr>")[0]
    # 18 at 10 a day lasts 1.8 days (2.25 at 8 a day); expected 10 left tomorrow; par 20; suggested
    # par: 3 days at the upper bound, 30, capped at the capacity of 20.
    assert "<td>1.8 (2.3)</td>" in row and '<td class="bring">10</td>' in row and "<td>20 / 20</td>" in row
    # The API says the same.
    api = client.get(reverse("restock-plan-list"), {"warehouse": warehouse.pk, "day": _day().isoformat()}).json()
    (visit,) = api["visits"]
    slots = {s["slot"]: s for s in visit["slots"]}
    assert slots["A1"]["basis"] == "Croston SBA, MASE 0.61" and slots["A1"]["due"] is True
    assert slots["A2"]["basis"] == "average of the last 28 days" and slots["A2"]["due"] is False
    assert slots["A1"]["bring"] == 10 and slots["A1"]["empty_in_days_safe"] == pytest.approx(1.8)


def test_a_failing_demand_source_falls_back_to_the_prekit_rule(area, world, client, no_source):
    region, warehouse = area
    _slot(_machine(region, "Busy"), "A1", stock=5, per_day=4)

    def broken(levels, start, days):
        raise RuntimeError("no model fitted")

    replenishment.register_demand_source(broken)
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    assert "average of the last 28 days" in text and "1 machine to visit" in text


def test_without_history_the_low_stock_threshold_decides_and_says_so(area, world, client):
    region, warehouse = area
    low = _machine(region, "Low")
    _slot(low, "A1", stock=1, threshold=2)  # no sales history: at its threshold
    _slot(_machine(region, "Stocked"), "A1", stock=12, threshold=2)
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    visits = text.split('id="visits"')[1].split("</ul>")[0]
    assert "Low" in visits and "Stocked" not in visits
    assert "1 slot without sales history is at its low-stock threshold" in visits
    assert "Slots without sales history are planned by their low-stock threshold, as before." in text
    assert "no sales history: the slot is due at its low-stock threshold (2)" in text
    client.post(PLAN, _plan_form(warehouse))
    (task,) = RestockTask.objects.all()
    assert task.device == low and [line.planned for line in task.lines.all()] == [19]  # par 20 minus 1


def test_a_full_cash_box_is_a_reason_to_visit(area, world, client):
    region, warehouse = area
    cash = _machine(region, "Cash")
    _slot(cash, "A1", stock=19, per_day=1)
    Telemetry.objects.create(device=cash, at=timezone.now(), data={"cash_box_percent": 95})
    coins = _machine(region, "Coins")
    _slot(coins, "A1", stock=19, per_day=1)
    Telemetry.objects.create(
        device=coins, at=timezone.now() - datetime.timedelta(hours=1), data={"coin_tubes_full": True}
    )
    Telemetry.objects.create(device=coins, at=timezone.now(), data={"coin_tubes_full": False})  # emptied since
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    visits = text.split('id="visits"')[1].split("</ul>")[0]
    assert "Cash" in visits and "the cash box is full" in visits and "Coins" not in visits
    # Its task brings what the slot lacks of par tomorrow (18 expected, par 20) and is routed.
    client.post(PLAN, _plan_form(warehouse))
    (task,) = RestockTask.objects.all()
    assert task.device == cash and task.route_stop == 1
    assert [line.planned for line in task.lines.all()] == [2]


def test_the_planned_route_respects_capacity_and_opening_hours(area, world, client):
    region, warehouse = area
    windows = [(datetime.time(8), datetime.time(11)), (datetime.time(13), datetime.time(17))]
    for n in range(8):
        machine = _machine(
            region,
            f"M{n:02d}",
            lat=DEPOT[0] + D("0.004") * (n + 1),
            lon=DEPOT[1] + D("0.003") * (n % 3),
            opens=windows[n % 2][0],
            closes=windows[n % 2][1],
        )
        _slot(machine, "A1", stock=4, per_day=3)  # due: expected 1 left tomorrow, 19 to bring
    _slot(_machine(region, "Fine"), "A1", stock=19, per_day=1)
    client.force_login(world.service)
    response = client.post(PLAN, _plan_form(warehouse, vehicles=3, capacity=60), follow=True)
    assert "8 restock tasks created; route planned: 8 stops" in response.content.decode()
    by_vehicle = _check_feasible(warehouse, _day(), capacity=60)
    assert len(by_vehicle) == 3  # 152 items on vehicles of 60
    assert not RestockTask.objects.filter(device__name="Fine").exists()


def test_replanning_keeps_the_visits_already_done(area, world, client):
    region, warehouse = area
    for n in range(3):
        _slot(_machine(region, f"M{n}", lat=DEPOT[0] + D("0.01") * (n + 1)), "A1", stock=5, per_day=4)
    client.force_login(world.service)
    client.post(PLAN, _plan_form(warehouse))
    first = RestockTask.objects.get(route_date=_day(), route_stop=1)
    (line,) = first.lines.all()
    # The driver confirms the first visit on the existing restock page, today already: 19 were
    # planned for tomorrow's stock of 1; 15 fit now, and the page offers those.
    detail = client.get(reverse("vending:restock-detail", args=[first.pk])).content.decode()
    assert f'name="line-{line.pk}" value="15"' in detail and line.planned == 19
    client.post(reverse("vending:restock-detail", args=[first.pk]), {f"line-{line.pk}": "15"})
    first.refresh_from_db()
    assert first.status == RestockTask.Status.DONE
    # Another machine runs low; planning again keeps the visit done and adds the new one after it.
    late = _machine(region, "Late", lat=DEPOT[0] - D("0.02"))
    _slot(late, "A1", stock=5, per_day=4)
    response = client.post(PLAN, _plan_form(warehouse), follow=True)
    assert "1 restock task created" in response.content.decode()
    first.refresh_from_db()
    assert (first.route_vehicle, first.route_stop, first.status) == (1, 1, "done")
    assert RestockTask.objects.filter(device=first.device).count() == 1
    assert sorted(RestockTask.objects.filter(route_date=_day()).values_list("route_stop", flat=True)) == [1, 2, 3, 4]
    text = client.get(PLAN, _plan_form(warehouse)).content.decode()
    assert first.device.name in text.split('id="visited"')[1].split("</ul>")[0]


def test_the_drivers_api_is_scoped_and_refuses_bad_input(area, world, client, api_client):
    region, warehouse = area
    _slot(_machine(region, "East busy"), "A1", stock=5, per_day=4)
    west_depot = SiteFactory(region=world.west, kind=Site.Kind.WAREHOUSE, latitude=DEPOT[0], longitude=DEPOT[1])
    west_machine = _machine(world.west, "West busy")
    _slot(west_machine, "A1", stock=0, per_day=4)
    api_client.force_authenticate(world.service)
    url = reverse("restock-plan-list")
    answer = api_client.get(url, {"warehouse": warehouse.pk, "day": _day().isoformat(), "interval": 3})
    assert answer.status_code == 200
    body = answer.json()
    assert [v["machine"] for v in body["visits"]] == ["East busy"]
    assert body["pick_list"] == [
        {
            "product": body["pick_list"][0]["product"],
            "product_name": "East busy A1",
            "quantity": 19,
            "machines": ["East busy"],
        }
    ]
    # A warehouse outside the caller's regions, nonsense and a past day: 400 with the reason.
    assert api_client.get(url, {"warehouse": west_depot.pk}).status_code == 400
    assert "warehouse" in api_client.get(url, {"warehouse": "x"}).json()
    assert api_client.get(url, {"warehouse": 10**12}).status_code == 400
    past = api_client.get(url, {"warehouse": warehouse.pk, "day": "2020-01-01"})
    assert past.status_code == 400 and "That day is over" in str(past.json())
    assert api_client.get(url, {"warehouse": warehouse.pk, "interval": 0}).status_code == 400
    far = api_client.get(url, {"warehouse": warehouse.pk, "day": "9999-12-31"})
    assert far.status_code == 400 and "Plan at most 28 days ahead" in str(far.json())
    # The page refuses the other region's warehouse too, and plans nothing.
    client.force_login(world.service)
    response = client.post(PLAN, {**_plan_form(warehouse), "warehouse": west_depot.pk}, follow=True)
    assert "Nothing was planned" in response.content.decode()
    assert not RestockTask.objects.exists()
    # Planned, the route API gives the driver each stop with its prekit.
    client.post(PLAN, _plan_form(warehouse))
    route = api_client.get(reverse("restock-route-list"), {"route_date": _day().isoformat()}).json()
    (stop,) = route["results"] if isinstance(route, dict) else route
    assert stop["machine"] == "East busy" and stop["route_stop"] == 1
    assert [(line["slot"], line["planned"], line["confirmed"]) for line in stop["lines"]] == [("A1", 19, None)]
    api_client.force_authenticate(world.clerk)
    assert api_client.get(url, {"warehouse": warehouse.pk}).status_code == 403


def test_a_slot_at_its_threshold_is_refilled_even_when_its_sales_would_last(area, world, client):
    """The low-stock page and the dashboards count a slot at its threshold; the plan refills it at
    the visit too, though at a sale a day its five would outlast the next possible visit."""
    region, warehouse = area
    slow = _machine(region, "Slow")
    _slot(slow, "A1", stock=5, per_day=1, threshold=6)
    _slot(_machine(region, "Full"), "A1", stock=18, per_day=1, threshold=6)
    client.force_login(world.service)
    text = client.get(PLAN, _plan_form(warehouse, interval=1)).content.decode()
    visits = text.split('id="visits"')[1].split("</ul>")[0]
    assert "Slow" in visits and "Full" not in visits
    assert "1 slot is at its low-stock threshold" in visits and "runs empty" not in visits
    row = visits.split('data-slot="A1"')[1].split("</tr>")[0]
    assert '<td class="bring">16</td>' in row  # four left at the visit, brought back to par 20
