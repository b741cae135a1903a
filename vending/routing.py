"""Restock routes from a real solver (PyVRP, see docs/adr/0027-routes-with-pyvrp.md).

Two layers:

* ``solve_vrptw``: a plain vehicle routing problem with time windows on integer distances and
  durations (the Solomon benchmark calls it directly). Optional stops carry a prize larger than any
  route can cost, so the solver visits every stop that fits and leaves out only what the vehicles
  cannot carry or reach in time; those come back as ``missed``.
* ``plan_stops``: the restock day. A depot (the warehouse), stops with coordinates, opening hours,
  a demand in units and a service time; travel times from haversine distance × a road factor at a
  set speed. Stops without coordinates or opening hours are returned as unroutable with the
  reason, never dropped silently.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

ROAD_FACTOR = 1.3  # roads are longer than the straight line
SPEED_KMH = 30.0  # city driving, stops included
SERVICE_MINUTES = 10  # at one machine
DAY_START = 7 * 60  # the vehicle leaves the depot no earlier (minutes after midnight)
DAY_END = 20 * 60  # and is back no later


@dataclass
class Problem:
    """Index 0 is the depot; 1..n the stops. Distances and durations are integers."""

    distance: list[list[int]]
    duration: list[list[int]]
    demand: list[int]
    windows: list[tuple[int, int]]
    service: list[int]
    vehicles: int
    capacity: int
    required: bool = True  # False: stops that do not fit are left out and reported


@dataclass
class Solved:
    routes: list[list[tuple[int, int]]]  # per vehicle: (stop index, service start)
    missed: list[int]
    distance: int
    feasible: bool


def solve_vrptw(problem: Problem, *, seconds: float = 5.0, seed: int = 1) -> Solved:
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    n = len(problem.demand)
    model = Model()
    locations = [model.add_location(0, 0) for _ in range(n)]
    depot = model.add_depot(locations[0], tw_early=problem.windows[0][0], tw_late=problem.windows[0][1])
    model.add_vehicle_type(
        num_available=problem.vehicles,
        capacity=problem.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=problem.windows[0][0],
        tw_late=problem.windows[0][1],
    )
    # A prize above any route's length: visiting a stop always pays when it fits.
    prize = sum(max(row) for row in problem.distance) + 1
    for i in range(1, n):
        model.add_client(
            locations[i],
            delivery=problem.demand[i],
            service_duration=problem.service[i],
            tw_early=problem.windows[i][0],
            tw_late=problem.windows[i][1],
            required=problem.required,
            prize=0 if problem.required else prize,
        )
    for i in range(n):
        for j in range(n):
            if i != j:
                model.add_edge(
                    locations[i],
                    locations[j],
                    distance=problem.distance[i][j],
                    duration=problem.duration[i][j],
                )
    result = model.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    best = result.best
    routes, visited = [], set()
    for route in best.routes():
        stops = []
        for activity in route.schedule():
            if activity.is_client():
                stops.append((activity.idx + 1, activity.start_time))
                visited.add(activity.idx + 1)
        if stops:
            routes.append(stops)
    missed = [i for i in range(1, n) if i not in visited]
    return Solved(routes=routes, missed=missed, distance=best.distance(), feasible=best.is_feasible())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@dataclass
class Stop:
    key: object
    name: str
    latitude: float | None
    longitude: float | None
    opens: int | None  # minutes after midnight
    closes: int | None
    demand: int
    service: int = SERVICE_MINUTES


@dataclass
class Visit:
    key: object
    name: str
    vehicle: int  # 1-based
    order: int  # 1-based within the vehicle
    arrival: int  # minutes after midnight, when service starts
    demand: int


@dataclass
class Plan:
    visits: list[Visit] = field(default_factory=list)
    unroutable: list[tuple[object, str, str]] = field(default_factory=list)  # key, name, reason
    unfit: list[tuple[object, str]] = field(default_factory=list)  # key, name
    distance_km: float = 0.0
    feasible: bool = True
    estimated: bool = False  # the configured distance matrix provider failed: straight-line estimate


def plan_stops(
    *,
    depot: tuple[float, float],
    stops: list[Stop],
    vehicles: int,
    capacity: int,
    start: int = DAY_START,
    end: int = DAY_END,
    speed_kmh: float = SPEED_KMH,
    road_factor: float = ROAD_FACTOR,
    seconds: float = 2.0,
    matrix=None,
) -> Plan:
    """Route the stops from the depot. ``matrix``: an optional provider ``(points) -> (metres,
    minutes)`` of square integer matrices replacing haversine (a road network service)."""
    from django.utils.translation import gettext as _

    plan = Plan()
    routable = []
    for stop in stops:
        if stop.latitude is None or stop.longitude is None:
            plan.unroutable.append((stop.key, stop.name, _("Neither the machine nor its site has coordinates.")))
        elif stop.opens is None or stop.closes is None:
            plan.unroutable.append((stop.key, stop.name, _("The site has no opening hours.")))
        elif max(stop.opens, start) > min(stop.closes - stop.service, end):
            plan.unroutable.append((stop.key, stop.name, _("The site is not open while the vehicles are out.")))
        elif stop.demand > capacity:
            plan.unfit.append((stop.key, stop.name))
        else:
            routable.append(stop)
    if not routable:
        return plan
    points = [depot] + [(float(s.latitude), float(s.longitude)) for s in routable]
    metres = None
    if matrix is not None:
        try:
            metres, minutes = matrix(points)
        except Exception:  # a road-network service down or wrong: estimate, and say so
            logger.warning("distance matrix provider failed; using haversine", exc_info=True)
            plan.estimated = True
            metres = None
    if metres is None:
        metres = [[round(haversine_km(*a, *b) * road_factor * 1000) for b in points] for a in points]
        minutes = [[math.ceil(m / 1000 / speed_kmh * 60) for m in row] for row in metres]
    problem = Problem(
        distance=metres,
        duration=minutes,
        demand=[0] + [s.demand for s in routable],
        windows=[(start, end)] + [(max(s.opens, start), min(s.closes - s.service, end)) for s in routable],
        service=[0] + [s.service for s in routable],
        vehicles=vehicles,
        capacity=capacity,
        required=False,
    )
    solved = solve_vrptw(problem, seconds=seconds)
    plan.feasible = solved.feasible
    plan.distance_km = solved.distance / 1000
    for number, route in enumerate(solved.routes, start=1):
        for order, (index, arrival) in enumerate(route, start=1):
            stop = routable[index - 1]
            plan.visits.append(Visit(stop.key, stop.name, number, order, arrival, stop.demand))
    plan.unfit += [(routable[i - 1].key, routable[i - 1].name) for i in solved.missed]
    return plan
