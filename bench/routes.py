"""The restock route planner on the Solomon VRPTW instances: total distance against the best known.

For each instance in ../shared/fixtures/vrp/solomon (100 customers, capacity, time windows,
service times) the planner's solver (`vending.routing.solve_vrptw`, PyVRP) runs for `--seconds`;
the routes it returns are then checked here, independently of the solver: every customer visited
once, no vehicle over capacity, every service starting inside its window and every vehicle back
at the depot before it closes, on the exact (unrounded) Euclidean distances. The distance of those
routes divided by the best known distance (solomon-best-known.csv, distance minimised) is the gap.

    .venv/bin/python bench/routes.py                                  # all 56, 30 s each
    .venv/bin/python bench/routes.py --seconds 10 --instances C101,R101,RC101
    .venv/bin/python bench/routes.py --day 200 --seconds 30          # a generated day in the demo's city

Prints one line per instance, the average, and one JSON object on the last line.
Target (issue 20): average gap at most 3 %, no instance infeasible.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = pathlib.Path(os.environ.get("VRP_FIXTURES", ROOT.parent.parent / "shared" / "fixtures" / "vrp"))
if not FIXTURES.exists():
    FIXTURES = pathlib.Path("/work/shared/fixtures/vrp")
SCALE = 1000  # integer units for the solver: distances and times × 1000, rounded up


def read_solomon(path: pathlib.Path):
    lines = [line.split() for line in path.read_text().splitlines()]
    vehicles = capacity = None
    customers = []
    for i, parts in enumerate(lines):
        if parts[:2] == ["NUMBER", "CAPACITY"]:
            vehicles, capacity = int(lines[i + 1][0]), int(lines[i + 1][1])
        elif len(parts) == 7 and all(p.replace(".", "").isdigit() for p in parts):
            customers.append([float(p) for p in parts])
    customers.sort(key=lambda row: row[0])
    return vehicles, capacity, customers


def check(routes, customers, capacity):
    """Independent feasibility check on float distances. Returns (distance, problems)."""
    problems = []

    def dist(a, b):
        return math.hypot(customers[a][1] - customers[b][1], customers[a][2] - customers[b][2])

    seen = [c for route in routes for c in route]
    if sorted(seen) != list(range(1, len(customers))):
        problems.append("customers missing or visited twice")
    total = 0.0
    for route in routes:
        load = sum(customers[c][3] for c in route)
        if load > capacity:
            problems.append(f"load {load} > {capacity}")
        t, previous = 0.0, 0
        for c in route:
            t = max(t + customers[previous][6] + dist(previous, c), customers[c][4])
            if t > customers[c][5] + 1e-9:
                problems.append(f"customer {c} served at {t:.2f} after {customers[c][5]}")
            total += dist(previous, c)
            previous = c
        back = t + customers[previous][6] + dist(previous, 0)
        if back > customers[0][5] + 1e-9:
            problems.append(f"back at the depot at {back:.2f} after {customers[0][5]}")
        total += dist(previous, 0)
    return total, problems


def solve_ortools(problem, seconds: float):
    """The same instance with OR-Tools' routing library (guided local search), for the ADR's
    comparison; OR-Tools is not a dependency of the project: install it to run `--solver ortools`."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(problem.demand)
    manager = pywrapcp.RoutingIndexManager(n, problem.vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    node = manager.IndexToNode

    distance = model.RegisterTransitCallback(lambda i, j: problem.distance[node(i)][node(j)])
    model.SetArcCostEvaluatorOfAllVehicles(distance)
    demand = model.RegisterUnaryTransitCallback(lambda i: problem.demand[node(i)])
    model.AddDimensionWithVehicleCapacity(demand, 0, [problem.capacity] * problem.vehicles, True, "load")
    travel = model.RegisterTransitCallback(lambda i, j: problem.service[node(i)] + problem.duration[node(i)][node(j)])
    horizon = problem.windows[0][1]
    model.AddDimension(travel, horizon, horizon, False, "time")
    time = model.GetDimensionOrDie("time")
    for i in range(1, n):
        time.CumulVar(manager.NodeToIndex(i)).SetRange(*problem.windows[i])
    for v in range(problem.vehicles):
        time.CumulVar(model.Start(v)).SetRange(*problem.windows[0])
        time.CumulVar(model.End(v)).SetRange(*problem.windows[0])
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    solution = model.SolveWithParameters(params)
    routes = []
    if solution is None:
        return routes, False
    for v in range(problem.vehicles):
        index, route = model.Start(v), []
        index = solution.Value(model.NextVar(index))
        while not model.IsEnd(index):
            route.append(node(index))
            index = solution.Value(model.NextVar(index))
        if route:
            routes.append(route)
    return routes, True


def solve_instance(name: str, seconds: float, solver: str = "pyvrp"):
    sys.path.insert(0, str(ROOT))
    from vending.routing import Problem, solve_vrptw

    vehicles, capacity, customers = read_solomon(FIXTURES / "solomon" / f"{name}.txt")
    n = len(customers)
    matrix = [
        [0 if i == j else math.ceil(math.hypot(a[1] - b[1], a[2] - b[2]) * SCALE) for j, b in enumerate(customers)]
        for i, a in enumerate(customers)
    ]
    problem = Problem(
        distance=matrix,
        duration=matrix,
        demand=[int(c[3]) for c in customers],
        windows=[(int(c[4] * SCALE), int(c[5] * SCALE)) for c in customers],
        service=[int(c[6] * SCALE) for c in customers],
        vehicles=vehicles,
        capacity=capacity,
        required=True,
    )
    started = time.perf_counter()
    if solver == "ortools":
        routes, feasible = solve_ortools(problem, seconds)
    else:
        solved = solve_vrptw(problem, seconds=seconds)
        routes = [[index for index, _start in route] for route in solved.routes]
        feasible = solved.feasible
    elapsed = time.perf_counter() - started
    distance, problems = check(routes, customers, capacity)
    if not feasible:
        problems.append("the solver found no feasible solution")
    return {"distance": distance, "vehicles": len(routes), "problems": problems, "seconds": elapsed, "n": n - 1}


def generated_day(stops: int, seconds: float, seed: int = 20):
    """A restock day in the demo's city: `stops` machines within ~12 km of the warehouse, windows
    (all day, mornings, afternoons, evenings), 5-40 items each, 10-minute service, 12 vehicles of
    400 items. Planned by `plan_stops` (PyVRP) and, as the baseline, by a greedy nearest-feasible
    neighbour (earliest possible service start next); both replayed here on unrounded haversine travel times."""
    import random

    sys.path.insert(0, str(ROOT))
    from vending import routing

    rnd = random.Random(seed)
    depot = (31.19, 121.44)
    windows = [(7 * 60, 22 * 60), (8 * 60, 12 * 60), (13 * 60, 18 * 60), (16 * 60, 21 * 60), (9 * 60, 21 * 60)]
    day = []
    for n in range(stops):
        opens, closes = rnd.choice(windows)
        day.append(
            routing.Stop(
                key=n,
                name=f"M{n}",
                latitude=depot[0] + rnd.uniform(-0.1, 0.1),
                longitude=depot[1] + rnd.uniform(-0.12, 0.12),
                opens=opens,
                closes=closes,
                demand=rnd.randint(5, 40),
            )
        )
    vehicles, capacity = 12, 400

    def minutes(a, b):
        km = routing.haversine_km(*a, *b) * routing.ROAD_FACTOR
        return km, km / routing.SPEED_KMH * 60

    def replay(routes):
        """routes: lists of Stop. Returns (km, problems)."""
        km_total, problems = 0.0, []
        for route in routes:
            if sum(s.demand for s in route) > capacity:
                problems.append("over capacity")
            t, here = float(routing.DAY_START), depot
            for s in route:
                km, mins = minutes(here, (s.latitude, s.longitude))
                km_total += km
                t = max(t + mins, s.opens)
                if t + s.service > s.closes + 1e-6:
                    problems.append(f"{s.name} late")
                t += s.service
                here = (s.latitude, s.longitude)
            km, mins = minutes(here, depot)
            km_total += km
            if t + mins > routing.DAY_END + 1e-6:
                problems.append("back late")
        return km_total, problems

    started = time.perf_counter()
    plan = routing.plan_stops(depot=depot, stops=day, vehicles=vehicles, capacity=capacity, seconds=seconds)
    elapsed = time.perf_counter() - started
    by_key = {s.key: s for s in day}
    routes = {}
    for visit in plan.visits:
        routes.setdefault(visit.vehicle, []).append((visit.order, by_key[visit.key]))
    planned = [[s for _o, s in sorted(r, key=lambda x: x[0])] for r in routes.values()]
    km, problems = replay(planned)

    # Baseline: greedy, the stop with the earliest possible service start next, vehicle after vehicle.
    left, greedy = set(range(stops)), []
    for _v in range(vehicles):
        t, here, load, route = float(routing.DAY_START), depot, 0, []
        while True:
            best = None
            for k in left:
                s = by_key[k]
                _km, mins = minutes(here, (s.latitude, s.longitude))
                start = max(t + mins, s.opens)
                back = start + s.service + minutes((s.latitude, s.longitude), depot)[1]
                if load + s.demand <= capacity and start + s.service <= s.closes and back <= routing.DAY_END:
                    if best is None or start < best[0]:
                        best = (start, k)
            if best is None:
                break
            s = by_key[best[1]]
            left.discard(best[1])
            route.append(s)
            t, here, load = best[0] + s.service, (s.latitude, s.longitude), load + s.demand
        if route:
            greedy.append(route)
    greedy_km, greedy_problems = replay(greedy)
    print(f"generated day: {stops} stops, {vehicles} vehicles of {capacity} items, {seconds:g} s")
    print(
        f"  planner: {len(plan.visits)} visits, {len(planned)} vehicles, {km:.1f} km, "
        f"did not fit {len(plan.unfit)}, unroutable {len(plan.unroutable)}, {elapsed:.1f} s; "
        f"problems: {'; '.join(problems[:3]) or '-'}"
    )
    print(
        f"  greedy:  {stops - len(left)} visits, {len(greedy)} vehicles, {greedy_km:.1f} km, did not fit {len(left)}; "
        f"problems: {'; '.join(greedy_problems[:3]) or '-'}"
    )
    print(
        json.dumps(
            {
                "name": "routes-day",
                "figures": {
                    "stops": stops,
                    "visits": len(plan.visits),
                    "km": round(km, 1),
                    "did_not_fit": len(plan.unfit),
                    "infeasible": bool(problems),
                    "seconds": round(elapsed, 1),
                },
                "baseline": {"greedy_visits": stops - len(left), "greedy_km": round(greedy_km, 1)},
                "ratio": round(km / greedy_km, 3) if greedy_km else None,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0, help="time limit per instance")
    parser.add_argument("--instances", default="", help="comma-separated names (default: all)")
    parser.add_argument(
        "--solver", choices=["pyvrp", "ortools"], default="pyvrp", help="ortools: for comparison (not installed by us)"
    )
    parser.add_argument("--day", type=int, default=0, help="instead: a generated restock day with this many stops")
    args = parser.parse_args()
    if args.day:
        return generated_day(args.day, args.seconds)
    best = {}
    with open(FIXTURES / "solomon-best-known.csv") as handle:
        for row in csv.DictReader(handle):
            best[row["instance"]] = (float(row["best_known_distance"]), int(row["vehicles_in_that_solution"]))
    names = [n.strip().upper() for n in args.instances.split(",") if n.strip()] or sorted(best)
    unknown = [n for n in names if n not in best]
    if unknown:
        parser.error(f"unknown instances: {', '.join(unknown)}")
    gaps, infeasible, rows = [], [], {}
    print(f"{'instance':<8} {'best known':>10} {'planner':>10} {'gap %':>7} {'vehicles':>8}  problems")
    for name in names:
        result = solve_instance(name, args.seconds, args.solver)
        known = best[name][0]
        gap = (result["distance"] / known - 1) * 100
        if result["problems"]:
            infeasible.append(name)
            rows[name] = None
        else:
            gaps.append(gap)
            rows[name] = round(gap, 2)
        print(
            f"{name:<8} {known:>10.2f} {result['distance']:>10.2f} {gap:>7.2f} "
            f"{result['vehicles']:>4}/{best[name][1]:<3}  {'; '.join(result['problems'][:3]) or '-'}",
            flush=True,
        )
    average = sum(gaps) / len(gaps) if gaps else float("nan")  # over the feasible ones
    print(
        f"{args.solver}: average gap {average:.2f} % over {len(gaps)} feasible of {len(names)} instances"
        f" at {args.seconds:g} s each; infeasible: {len(infeasible)}"
    )
    print(
        json.dumps(
            {
                "name": "routes" if args.solver == "pyvrp" else "routes-ortools",
                "figures": {
                    "instances": len(names),
                    "seconds_per_instance": args.seconds,
                    "average_gap_percent": round(average, 2),
                    "worst_gap_percent": round(max(gaps), 2) if gaps else None,
                    "infeasible": infeasible,
                    "gaps": rows,
                },
                "baseline": "best known distance (solomon-best-known.csv)",
                "ratio": round(1 + average / 100, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
