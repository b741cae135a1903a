"""Restock routes: planned through the console page, checked here independently of the solver
(loads recomputed from the pick lists, arrival times from the coordinates), unroutable and
over-capacity visits reported with their reason, done visits kept on re-planning, and the driver's
API scoped to the caller."""

import datetime
import math
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Site
from devices.models import Device
from tests.factories import DeviceFactory, ProductFactory, RegionFactory, SiteFactory
from vending import routing
from vending.models import RestockTask
from vending.restock import restock_task_create
from vending.services import slot_create

pytestmark = pytest.mark.django_db

DEPOT = (D("31.230000"), D("121.470000"))


def _day():
    return timezone.localdate() + datetime.timedelta(days=1)  # a whole day ahead: starts at DAY_START


@pytest.fixture
def area(world):
    region = RegionFactory(parent=world.east, name="Routes")
    warehouse = SiteFactory(
        region=region, kind=Site.Kind.WAREHOUSE, name="Depot", latitude=DEPOT[0], longitude=DEPOT[1]
    )
    return region, warehouse


def _machine(region, n, *, lat, lon, opens=datetime.time(8), closes=datetime.time(18), need=10, actor=None):
    site = SiteFactory(
        region=region, name=f"Site {n}", latitude=lat, longitude=lon, opening_time=opens, closing_time=closes
    )
    machine = DeviceFactory(site=site, kind=Device.Kind.VENDING, name=f"M{n:02d}")
    slot_create(device=machine, code="A1", product=ProductFactory(), capacity=50, par_level=need)
    return restock_task_create(device=machine, actor=actor)


def _travel(a, b):
    metres = routing.haversine_km(float(a[0]), float(a[1]), float(b[0]), float(b[1])) * routing.ROAD_FACTOR * 1000
    return metres / 1000 / routing.SPEED_KMH * 60  # minutes, unrounded


def _check_feasible(warehouse, day, capacity):
    """Our own replay of the stored route: loads from the pick lists, arrivals from coordinates."""
    depot = (warehouse.latitude, warehouse.longitude)
    tasks = RestockTask.objects.filter(route_date=day, route_stop__isnull=False).select_related("device__site")
    by_vehicle = {}
    for task in tasks:
        by_vehicle.setdefault(task.route_vehicle, []).append(task)
    assert by_vehicle
    for stops in by_vehicle.values():
        stops.sort(key=lambda t: t.route_stop)
        assert [t.route_stop for t in stops] == list(range(1, len(stops) + 1))
        load = sum(line.planned for t in stops for line in t.lines.all())
        assert load <= capacity, f"vehicle carries {load} > {capacity}"
        t, here = float(routing.DAY_START), depot
        for task in stops:
            site = task.device.site
            there = (task.device.latitude or site.latitude, task.device.longitude or site.longitude)
            opens = site.opening_time.hour * 60 + site.opening_time.minute
            closes = site.closing_time.hour * 60 + site.closing_time.minute
            t = max(t + _travel(here, there), opens)
            assert t + routing.SERVICE_MINUTES <= closes + 1e-6, f"{task.device} served at {t:.0f} after it closes"
            t += routing.SERVICE_MINUTES
            here = there
        assert t + _travel(here, depot) <= routing.DAY_END + 1e-6
    return by_vehicle


def test_a_planned_route_respects_capacity_and_opening_hours(area, world, client):
    region, warehouse = area
    # Ten machines around the depot, 30 items each; windows: some mornings only, some afternoons.
    tasks = []
    for n in range(10):
        angle = n * 2 * math.pi / 10
        opens, closes = [(datetime.time(8), datetime.time(11)), (datetime.time(13), datetime.time(17))][n % 2]
        tasks.append(
            _machine(
                region,
                n,
                lat=DEPOT[0] + D(str(round(0.03 * math.sin(angle), 6))),
                lon=DEPOT[1] + D(str(round(0.03 * math.cos(angle), 6))),
                opens=opens,
                closes=closes,
                need=30,
                actor=world.service,
            )
        )
    client.force_login(world.service)
    page = reverse("vending:restock-route")
    day = _day()
    response = client.post(
        page, {"warehouse": warehouse.pk, "day": day.isoformat(), "vehicles": 3, "capacity": 120}, follow=True
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Route planned: 10 stops" in text
    by_vehicle = _check_feasible(warehouse, day, capacity=120)
    assert len(by_vehicle) >= 3  # 300 items on vehicles of 120
    # The page lists every stop in order, each linking to its phone confirmation page.
    for task in tasks:
        assert reverse("vending:restock-detail", args=[task.pk]) in text
    assert 'id="route-map"' in text and "route-data" in text


def test_unroutable_and_overfull_visits_are_listed_with_the_reason(area, world, client):
    region, warehouse = area
    fits = _machine(region, 1, lat=DEPOT[0] + D("0.01"), lon=DEPOT[1], need=40)
    too_many = _machine(region, 2, lat=DEPOT[0] - D("0.01"), lon=DEPOT[1], need=40)
    nowhere = _machine(region, 3, lat=None, lon=None)
    no_hours = _machine(region, 4, lat=DEPOT[0], lon=DEPOT[1] + D("0.01"), opens=None, closes=None)
    client.force_login(world.service)
    day = _day()
    response = client.post(
        reverse("vending:restock-route"),
        {"warehouse": warehouse.pk, "day": day.isoformat(), "vehicles": 1, "capacity": 50},
        follow=True,
    )
    text = response.content.decode()
    assert "3 visits are not on the route" in text
    for task in (fits, too_many, nowhere, no_hours):
        task.refresh_from_db()
    routed = [t for t in (fits, too_many) if t.route_stop]
    assert len(routed) == 1  # one vehicle of 50 carries one of the two 40s
    left = fits if routed[0] is too_many else too_many
    assert left.route_stop is None and "Did not fit" in left.route_note
    assert nowhere.route_note == "Neither the machine nor its site has coordinates." and nowhere.route_stop is None
    assert no_hours.route_note == "The site has no opening hours."
    assert "Neither the machine nor its site has coordinates." in text and "Did not fit" in text
    # The driver's API says the same.
    api = client.get(reverse("restock-route-list"), {"route_date": day.isoformat()}).json()
    rows = api["results"] if isinstance(api, dict) else api
    notes = {row["machine"]: row["route_note"] for row in rows}
    assert notes["M03"] == "Neither the machine nor its site has coordinates."


def test_replanning_keeps_the_visits_already_done(area, world, client):
    region, warehouse = area
    for n in range(4):
        _machine(region, n, lat=DEPOT[0] + D("0.01") * (n + 1), lon=DEPOT[1], need=5)
    client.force_login(world.service)
    day = _day()
    form = {"warehouse": warehouse.pk, "day": day.isoformat(), "vehicles": 1, "capacity": 100}
    client.post(reverse("vending:restock-route"), form)
    first = RestockTask.objects.get(route_date=day, route_stop=1)
    (line,) = first.lines.all()
    # The driver confirms the first visit on the existing restock page.
    client.post(reverse("vending:restock-detail", args=[first.pk]), {f"line-{line.pk}": "5"})
    first.refresh_from_db()
    assert first.status == RestockTask.Status.DONE
    # A new task arrives; re-planning keeps stop 1 and routes the open ones after it.
    late = _machine(region, 9, lat=DEPOT[0] - D("0.02"), lon=DEPOT[1], need=5)
    client.post(reverse("vending:restock-route"), form)
    first.refresh_from_db()
    late.refresh_from_db()
    assert (first.route_vehicle, first.route_stop, first.status) == (1, 1, "done")
    stops = sorted(RestockTask.objects.filter(route_date=day).values_list("route_stop", flat=True))
    assert stops == [1, 2, 3, 4, 5]
    assert late.route_stop > 1
    page = client.get(reverse("vending:restock-route"), {"warehouse": warehouse.pk, "day": day.isoformat()})
    assert page.content.decode().count('class="route-stop done"') == 1


def test_the_drivers_api_lists_the_days_stops_in_order_and_only_in_scope(area, world, client):
    region, warehouse = area
    for n in range(3):
        _machine(region, n, lat=DEPOT[0] + D("0.01") * (n + 1), lon=DEPOT[1], need=5)
    west_site = SiteFactory(region=world.west, latitude=DEPOT[0], longitude=DEPOT[1])
    day = _day()
    west = RestockTask.objects.create(
        device=DeviceFactory(site=west_site), route_date=day, route_vehicle=1, route_stop=1
    )
    client.force_login(world.service)
    client.post(
        reverse("vending:restock-route"),
        {"warehouse": warehouse.pk, "day": day.isoformat(), "vehicles": 1, "capacity": 100},
    )
    api = client.get(reverse("restock-route-list"), {"route_date": day.isoformat()}).json()
    rows = api["results"] if isinstance(api, dict) else api
    assert [row["route_stop"] for row in rows] == [1, 2, 3]
    assert west.pk not in [row["id"] for row in rows]
    assert rows[0]["confirm_url"] == reverse("vending:restock-detail", args=[rows[0]["id"]])
    assert client.get(reverse("restock-route-detail", args=[west.pk])).status_code == 404


def test_bad_plans_change_nothing_and_say_why(area, world, client):
    region, warehouse = area
    task = _machine(region, 1, lat=DEPOT[0], lon=DEPOT[1] + D("0.01"))
    client.force_login(world.service)
    page = reverse("vending:restock-route")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(
        page, {"warehouse": warehouse.pk, "day": yesterday.isoformat(), "vehicles": 1, "capacity": 10}, follow=True
    )
    assert "That day is over" in response.content.decode()
    response = client.post(page, {"warehouse": warehouse.pk, "day": _day().isoformat(), "vehicles": 0, "capacity": 10})
    assert response.status_code == 200 and "Nothing was planned" in response.content.decode()
    unplaced = SiteFactory(region=region, kind=Site.Kind.WAREHOUSE, latitude=None, longitude=None, name="Shed")
    response = client.post(
        page, {"warehouse": unplaced.pk, "day": _day().isoformat(), "vehicles": 1, "capacity": 10}, follow=True
    )
    assert "The warehouse Shed has no coordinates." in response.content.decode()
    outside = SiteFactory(region=world.west, kind=Site.Kind.WAREHOUSE, latitude=DEPOT[0], longitude=DEPOT[1])
    response = client.post(page, {"warehouse": outside.pk, "day": _day().isoformat(), "vehicles": 1, "capacity": 10})
    assert response.status_code == 200 and "Nothing was planned" in response.content.decode()
    task.refresh_from_db()
    assert task.route_date is None and task.route_stop is None
    # Someone without the restock permission cannot plan.
    client.force_login(world.clerk)
    assert client.post(page, {"warehouse": warehouse.pk, "day": _day().isoformat()}).status_code == 403


def slow_roads(points):
    """A configured distance matrix provider: every leg 20 km and 60 minutes."""
    n = len(points)
    return [[0 if i == j else 20000 for j in range(n)] for i in range(n)], [
        [0 if i == j else 60 for j in range(n)] for i in range(n)
    ]


def broken_roads(points):
    raise ConnectionError("the road service is down")


def test_a_configured_distance_matrix_is_used_and_its_failure_falls_back(area, world, client, settings):
    region, warehouse = area
    for n in range(2):
        _machine(region, n, lat=DEPOT[0] + D("0.001") * (n + 1), lon=DEPOT[1], need=5)
    client.force_login(world.service)
    day = _day()
    form = {"warehouse": warehouse.pk, "day": day.isoformat(), "vehicles": 1, "capacity": 100}
    settings.RESTOCK_DISTANCE_MATRIX = "tests.vending.test_routes.slow_roads"
    response = client.post(reverse("vending:restock-route"), form, follow=True)
    assert "2 stops, 60.0 km" in response.content.decode()  # three legs of 20 km
    etas = sorted(RestockTask.objects.filter(route_date=day).values_list("route_eta", flat=True))
    assert etas == [datetime.time(8, 0), datetime.time(9, 10)]  # opens 08:00; +10 min service, +60 min
    settings.RESTOCK_DISTANCE_MATRIX = "tests.vending.test_routes.broken_roads"
    response = client.post(reverse("vending:restock-route"), form, follow=True)
    text = response.content.decode()
    assert "The distance service did not answer" in text and "Route planned: 2 stops" in text
