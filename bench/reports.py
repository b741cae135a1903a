"""Report queries through the product (the roll-ups, reports.selectors) against the same figures
computed by hand-written SQL over the raw orders, lines and payments, at N orders.

It generates N orders (`--orders`, default 1,000,000) over the last 365 days with one to three
lines each, a payment each (five methods with their fees), discounts on one order in ten, a partial
refund on one in twenty and a full refund on one in fifty, some unpaid, cancelled or recharges, over
`--regions` regions × 3 stores × 5 machines and 60 products; builds the roll-ups from the raw tables
(the nightly check's code, `reports_rebuild`) and times it, and times the per-order roll-up task
against a bare read of the same order's rows, and the batch task over `--batch-sample` marked
orders (unchanged, then after a cent more refunded on each). Then, as a platform and as a regional
administrator, each report query runs `--repeat` times through the product and as hand-written SQL:
the figures must be equal (the bench fails otherwise) and p50/p95 of both are printed. The last
line is one JSON object; its ratio is the product's slowest p95 over the SQL's slowest p95.

Then the order inquiry's first page, page 2,000 (by cursor) and a one-day filter (bench/order_lists.py's
`new_list`), and the last 30 days' export through the product's export job in a child process,
whose peak RSS is reported.

Needs PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_bench .venv/bin/python bench/reports.py --orders 100000
At 10M: `--reuse` (keep the database in DATABASE_URL), `--stop-after generate|rebuild`,
`--skip-rebuild`, `--sql-once` (the hand-written SQL over the raw tables once for the year, then
grouped per query), `--lists-only` (the inquiry, the payments and refunds API lists, the export).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time

from common import ROOT, django_setup, report, test_database

RATES = {"cash": "0", "card": "0.0038", "alipay": "0.006", "wechat": "0.006", "balance": "0"}


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


GEN_TABLES = ("orders_order", "orders_orderline", "orders_payment", "orders_refund")


def _secondary_indexes(cursor):
    """The load tables' indexes that back no constraint: dropped during the load, built after."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(GEN_TABLES)],
    )
    return cursor.fetchall()


def generate(cursor, *, orders: int, regions: int) -> dict:
    """The raw tables, written by set-based SQL (no service: this is history, not a sale).

    Fast enough for 10M orders: the order ids are chosen (so lines and amounts come from the id
    through a 60-row pattern table, no UPDATE pass), the secondary indexes are dropped during the
    load and built after it, and foreign-key triggers are off for the session while loading
    (every id written comes from the fixtures). Returns the seconds of each step."""
    steps = {}

    def step(name, sql, params=None):
        t0 = time.perf_counter()
        cursor.execute(sql, params)
        steps[name] = round(time.perf_counter() - t0, 1)
        print(f"reports:   {name} {steps[name]} s", flush=True)

    cursor.execute("SET maintenance_work_mem = '512MB'")
    cursor.execute("SET session_replication_role = replica")  # no FK triggers during the load
    indexes = _secondary_indexes(cursor)
    for name, _definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SELECT COALESCE(max(id), 0) FROM orders_order")
    (base,) = cursor.fetchone()
    cursor.execute(
        "CREATE TEMP TABLE bench_dev AS SELECT row_number() OVER (ORDER BY d.id) - 1 AS k, d.id AS device_id, "
        "d.site_id, s.region_id FROM devices_device d JOIN core_site s ON s.id = d.site_id"
    )
    cursor.execute("SELECT count(*) FROM bench_dev")
    (devices,) = cursor.fetchone()
    # Order id % 60 decides its lines: 1 + id % 3 lines, quantity 1 + (id * 31 + k) % 3, product
    # number (id * 13 + k * 7) % 60; the next digits (mixed radix) its payment method, (id / 60) % 5,
    # and its machine, (id / 300) % machines, so basket, method and machine are independent and the
    # roll-ups hold as many rows as a real fleet's would (a machine sells every product by every method).
    cursor.execute(
        """
        CREATE TEMP TABLE bench_line AS
        SELECT r, k, p.id AS product_id, p.name, 1 + ((r * 31 + k) % 3) AS quantity, p.sale_price, p.cost_price,
               p.sale_price * (1 + ((r * 31 + k) % 3)) AS line_total
          FROM generate_series(0, 59) AS r
          CROSS JOIN LATERAL generate_series(1, 1 + (r % 3)) AS k
          JOIN (SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM catalog_product) p
            ON p.n = (r * 13 + k * 7) % 60
        """
    )
    cursor.execute("CREATE TEMP TABLE bench_sub AS SELECT r, sum(line_total) AS sub FROM bench_line GROUP BY r")
    step(
        "orders",
        """
        INSERT INTO orders_order (id, number, kind, status, region_id, site_id, device_id, channel, currency,
                                  subtotal, discount_total, total, paid_amount, refunded_amount,
                                  created_at, updated_at, paid_at, completed_at, external_reference, note)
        SELECT id, 'B' || lpad(id::text, 10, '0'),
               CASE WHEN i %% 40 = 0 THEN 'recharge' WHEN i %% 7 = 0 THEN 'counter' ELSE 'vending' END,
               CASE WHEN i %% 33 = 0 THEN 'new' WHEN i %% 29 = 0 THEN 'cancelled' WHEN i %% 50 = 0 THEN 'refunded'
                    WHEN i %% 11 = 0 THEN 'paid' ELSE 'completed' END,
               d.region_id, d.site_id, d.device_id,
               CASE WHEN i %% 7 = 0 THEN 'counter' WHEN i %% 9 = 0 THEN 'app' ELSE 'machine' END,
               'CNY', s.sub, a.discount, s.sub - a.discount, a.paid, a.refunded,
               t.at, t.at, a.paid_at, CASE WHEN a.paid_at IS NULL OR i %% 50 = 0 OR i %% 11 = 0 THEN NULL
                    ELSE t.at + (i %% 600) * interval '1 second' + interval '30 seconds' END,
               '', ''
          FROM (SELECT g AS i, %(base)s + g AS id FROM generate_series(1, %(n)s) AS g) o
          JOIN bench_sub s ON s.r = o.id %% 60
          JOIN bench_dev d ON d.k = (o.id / 300) %% %(devices)s
          CROSS JOIN LATERAL (SELECT %(now)s::timestamptz
               - make_interval(secs => ((o.i::bigint * 2654435761) %% 31536000)::double precision) AS at) t
          CROSS JOIN LATERAL (SELECT CASE WHEN o.id %% 10 = 0 THEN round(s.sub * 0.1, 2) ELSE 0 END AS discount,
               CASE WHEN o.i %% 33 = 0 OR o.i %% 29 = 0 THEN NULL ELSE t.at + interval '20 seconds' END AS paid_at) b
          CROSS JOIN LATERAL (SELECT b.discount, b.paid_at,
               CASE WHEN b.paid_at IS NULL THEN 0 ELSE s.sub - b.discount END AS paid,
               CASE WHEN b.paid_at IS NULL THEN 0 WHEN o.id %% 50 = 0 THEN s.sub - b.discount
                    WHEN o.id %% 20 = 0 THEN round((s.sub - b.discount) / 2, 2) ELSE 0 END AS refunded) a
        """,
        {"n": orders, "base": base, "devices": devices, "now": timezone_now()},
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), (SELECT max(id) FROM orders_order))")
    step(
        "lines",
        """
        INSERT INTO orders_orderline (order_id, product_id, description, quantity, unit_price, cost_price, line_total)
        SELECT o.id, l.product_id, l.name, l.quantity, l.sale_price, l.cost_price, l.line_total
          FROM orders_order o JOIN bench_line l ON l.r = o.id %% 60
         WHERE o.id > %(base)s
        """,
        {"base": base},
    )
    methods = list(RATES)
    cases = " ".join(f"WHEN {i} THEN '{m}'" for i, m in enumerate(methods))
    rates = " ".join(f"WHEN {i} THEN {RATES[m]}" for i, m in enumerate(methods))
    step(
        "payments",
        f"""
        INSERT INTO orders_payment (order_id, provider, amount, fee, status, reference, data, created_at,
                                    succeeded_at, collected_at, offline)
        SELECT id, CASE (id / 60) %% 5 {cases} END, total, round(total * CASE (id / 60) %% 5 {rates} END, 2),
               'succeeded', '',
               '{{}}', paid_at, paid_at, paid_at, false
          FROM orders_order WHERE id > %(base)s AND paid_at IS NOT NULL AND total > 0
        """,
        {"base": base},
    )
    step(
        "refunds",
        """
        INSERT INTO orders_refund (order_id, payment_id, amount, status, reason, reference, created_at, succeeded_at)
        SELECT o.id, p.id, o.refunded_amount, 'succeeded', 'bench', '', o.paid_at + interval '1 hour',
               o.paid_at + interval '1 hour'
          FROM orders_order o JOIN orders_payment p ON p.order_id = o.id
         WHERE o.id > %(base)s AND o.refunded_amount > 0
        """,
        {"base": base},
    )
    cursor.execute("SET session_replication_role = DEFAULT")
    t0 = time.perf_counter()
    for _name, definition in indexes:
        cursor.execute(definition)
    steps["indexes"] = round(time.perf_counter() - t0, 1)
    print(f"reports:   {len(indexes)} indexes built in {steps['indexes']} s", flush=True)
    cursor.execute("DROP TABLE bench_dev, bench_line, bench_sub")
    step("analyze", "ANALYZE")
    return steps


def timezone_now():
    from django.utils import timezone

    return timezone.now().replace(microsecond=0)


def fixtures(regions: int):
    from decimal import Decimal

    from catalog.models import Brand, Category, Product
    from core.models import Region, Site
    from devices.models import Device

    root = Region.objects.create(name="Bench", code="bench", kind=Region.Kind.COUNTRY)
    cities = [
        Region.objects.create(name=f"City {i}", code=f"city-{i}", kind=Region.Kind.CITY, parent=root)
        for i in range(regions)
    ]
    for city in cities:
        for s in range(3):
            site = Site.objects.create(name=f"{city.name} store {s}", code=f"{city.code}-{s}", region=city)
            for d in range(5):
                Device.objects.create(
                    name=f"{site.name} machine {d}", serial_number=f"B-{site.pk}-{d}", site=site, kind="vending"
                )
    categories = [Category.objects.create(name=f"Category {i}", code=f"cat-{i}") for i in range(6)]
    brands = [Brand.objects.create(name=f"Brand {i}") for i in range(8)]
    for i in range(60):
        Product.objects.create(
            sku=f"B{i:04d}",
            name=f"Product {i}",
            category=categories[i % 6] if i % 10 else None,
            brand=brands[i % 8],
            cost_price=Decimal("1.00") + Decimal(i % 7) / 4,
            sale_price=Decimal("2.50") + Decimal(i % 9) / 2,
        )
    return root, cities


# --- The same figures by hand ----------------------------------------------------------------
GROUP_IDS = {
    "day": "local_paid::date",
    "week": "date_trunc('week', local_paid)::date",
    "month": "date_trunc('month', local_paid)::date",
    "year": "date_trunc('year', local_paid)::date",
    "hour": "extract(hour FROM local_paid)::int",
    "site": "site_id",
    "machine": "device_id",
    "region": "region_id",
    "kind": "kind",
    "channel": "channel",
    "method": "method",
    "product": "product_id",
    "category": "COALESCE((SELECT category_id FROM catalog_product p WHERE p.id = product_id), 0)",
    "brand": "COALESCE((SELECT brand_id FROM catalog_product p WHERE p.id = product_id), 0)",
}


def materialize_sql_facts(cursor, start, end):
    """The hand-written SQL over the raw tables (tests/reports/history.py), run once for the whole
    range into two temporary tables that each query then groups (`--sql-once`)."""
    from django.conf import settings

    from tests.reports.history import PAID, PRODUCT

    params = {"tz": settings.TIME_ZONE, "start": start, "end": end}
    cursor.execute("SET work_mem = '256MB'")
    cursor.execute("DROP TABLE IF EXISTS bench_paid, bench_product")
    cursor.execute("CREATE TEMP TABLE bench_paid AS WITH paid AS (" + PAID + ") SELECT * FROM paid", params)
    cursor.execute("CREATE TEMP TABLE bench_product AS " + PRODUCT, params)
    cursor.execute("RESET work_mem")
    cursor.execute("ANALYZE bench_paid")
    cursor.execute("ANALYZE bench_product")


def sql_figures(cursor, by, start, end, region_path=None, once=False):
    from django.conf import settings

    from tests.reports.history import PAID, PRODUCT

    products = {"product", "category", "brand"}
    if once:
        base = "SELECT * FROM " + ("bench_product" if set(by) & products else "bench_paid")
        base += " WHERE local_paid::date BETWEEN %(start)s AND %(end)s"
    else:
        base = PRODUCT if set(by) & products else "WITH paid AS (" + PAID + ") SELECT * FROM paid"
    groups = ", ".join(GROUP_IDS[d] for d in by)
    where = "WHERE region_id IN (SELECT id FROM core_region WHERE path LIKE %(path)s)" if region_path else ""
    cursor.execute(
        f"SELECT {groups}, COUNT(*), SUM(quantity), SUM(gross), SUM(discounts), SUM(refunds), SUM(net), "
        f"SUM(cost), SUM(fees) FROM ({base}) facts {where} GROUP BY {groups}",
        {"tz": settings.TIME_ZONE, "start": start, "end": end, "path": f"{region_path}%"},
    )
    n = len(by)
    return {tuple(row[:n]): tuple(row[n:]) for row in cursor.fetchall()}


# --- The order inquiry and the month's export ---------------------------------------------------
def order_inquiry(admin, regional, today, repeat):
    """The inquiry's first page, page 2,000 (by cursor) and a one-day filter, as the console page
    and the API run them (bench/order_lists.py's `new_list`), p50/p95."""
    from order_lists import deep_cursor, measure, new_list

    figures = {}
    day = today - datetime.timedelta(days=40)
    for role, user in (("platform", admin), ("regional", regional)):
        new_list(user)
        cursor, _offset = deep_cursor(user)
        cases = {
            "first_page": lambda user=user: new_list(user),
            "page_2000": lambda user=user, cursor=cursor: new_list(user, cursor=cursor),
            "one_day": lambda user=user: new_list(user, {"since": day.isoformat(), "until": day.isoformat()}),
        }
        for name, fn in cases.items():
            p50, p95 = measure(fn, repeat)
            figures[f"inquiry.{role}.{name}.p50_ms"] = p50
            figures[f"inquiry.{role}.{name}.p95_ms"] = p95
            print(f"reports: inquiry {role:8} {name:10} p50 {p50:8.1f} ms p95 {p95:8.1f} ms", flush=True)
    return figures


def lists_only(args, today):
    """The order inquiry, the payments and refunds API lists and the month's export: they read the
    raw tables, not the roll-ups."""
    from django.contrib.auth import get_user_model

    from core.models import Region
    from core.services import scope_grant

    User = get_user_model()
    admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
        "bench-admin", password="bench-pw-1"
    )
    regional = User.objects.filter(username="bench-regional").first()
    if regional is None:
        regional = User.objects.create_user("bench-regional", password="bench-pw-1", is_staff=True)
        city = Region.objects.filter(parent__code="bench").order_by("code").first()
        scope_grant(actor=None, user=regional, target=city, action="view")
    from django.contrib.auth.models import Group

    regional.groups.add(Group.objects.get(name="regional_admin"))  # the API's model permissions
    if not args.no_freeze:
        from config.startup import freeze_loaded_objects

        freeze_loaded_objects()  # as the server does before its first request (config/asgi.py)
    figures = {"load_average": os.getloadavg()[0]}
    if not args.skip_inquiry:
        figures.update(order_inquiry(admin, regional, today, args.repeat))
    figures.update(api_lists(admin, regional, args.repeat))
    if not args.no_export:
        figures.update(month_export(admin, today))
    figures["load_average_end"] = os.getloadavg()[0]
    slowest = max(v for k, v in figures.items() if k.endswith(".p95_ms") and ".bounded_" not in k)
    figures["lists_p95_max_ms"] = slowest
    # the regional API lists counted by the planner, against the same lists counted through the join
    api = [k for k in figures if k.startswith("api.regional.") and k.endswith(".p95_ms")]
    figures["api_regional_p95_max_ms"] = max(figures[k] for k in api)
    figures["api_regional_bounded_p95_max_ms"] = max(figures[k.replace(".p95_ms", ".bounded_p95_ms")] for k in api)
    report(
        "reports.lists",
        figures,
        baseline_key="api_regional_bounded_p95_max_ms",
        measured_key="api_regional_p95_max_ms",
    )


def api_lists(admin, regional, repeat):
    """/api/v1/payments/ and /api/v1/refunds/ through the test client: the first page and the
    page after 2,000 pages' worth of rows (by cursor), p50/p95 and the slowest run. A regional
    administrator's list is also measured counted the old way, up to 10,001 rows through the
    order join (`count_from_plan` off: the `…bounded_p95_ms` figures, the baseline of ADR 0025's
    planner count), in the same run."""
    from order_lists import measure
    from rest_framework.test import APIClient

    from core.pagination import Ordering, encode_cursor
    from orders.api import PaymentViewSet, RefundViewSet
    from orders.models import Payment, Refund

    figures = {}
    for role, user in (("platform", admin), ("regional", regional)):
        client = APIClient()
        client.force_authenticate(user)
        for name, model, view in (("payments", Payment, PaymentViewSet), ("refunds", Refund, RefundViewSet)):
            url = f"/api/v1/{name}/"
            rows = model.objects.restrict(user).order_by("-created_at", "-pk")
            deep = rows[min(99_950, max(0, rows.count() // 2))]
            cursor = encode_cursor(Ordering.parse("-created_at"), deep, direction="next")
            for case, params in (("first_page", {}), ("page_2000", {"cursor": cursor})):
                times = []

                def get(params=params, url=url, client=client, times=times):
                    started = time.perf_counter()
                    response = client.get(url, params, secure=True)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.content[:300]

                modes = (("", True), ("bounded_", False)) if role == "regional" else (("", True),)
                for prefix, planned in modes:
                    view.count_from_plan = planned
                    try:
                        times.clear()
                        p50, p95 = measure(get, repeat)
                    finally:
                        view.count_from_plan = True
                    key = f"api.{role}.{name}.{case}.{prefix}"
                    figures[key + "p50_ms"], figures[key + "p95_ms"] = p50, p95
                    figures[key + "max_ms"] = round(max(times[1:]), 2)
                    label = "bounded" if prefix else "count"
                    runs = " ".join(f"{t:.0f}" for t in times[1:])
                    print(
                        f"reports: api {role:8} {name:8} {case:10} {label:7} p50 {p50:8.1f} ms p95 {p95:8.1f} ms"
                        f"  runs {runs}",
                        flush=True,
                    )
    return figures


def month_export(admin, today):
    """The last 30 days' orders exported through the product's job (core.exports, the orders
    exporter) in a child process, whose peak resident memory is measured."""
    import json
    import resource
    import subprocess

    from django.db import connection

    until = today - datetime.timedelta(days=1)
    since = until - datetime.timedelta(days=29)
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    env["DATABASE_URL"] = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--export-child", admin.username, since.isoformat(), until.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    child = json.loads(done.stdout.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = {
        "export.rows": child["rows"],
        "export.bytes": child["bytes"],
        "export.s": round(elapsed, 1),
        "export.peak_rss_mb": child["peak_rss_mb"],
        "export.children_peak_rss_mb": round(max(after, before) / 1024, 1),
    }
    print(
        f"reports: export of {since} .. {until}: {child['rows']:,} rows, {child['bytes']:,} bytes in "
        f"{elapsed:.1f} s, child peak RSS {child['peak_rss_mb']} MB",
        flush=True,
    )
    return figures


def export_child(username, since, until):
    """Runs in the child: one export job, start to end, then its figures as one JSON line."""
    import json
    import resource

    from django.conf import settings
    from django.contrib.auth import get_user_model

    import orders.views  # noqa: F401  (registers the orders exporter)
    from core.exports import export_file_path, export_job_create, export_job_run
    from core.models import ExportJob

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    user = get_user_model().objects.get(username=username)
    job = export_job_create(user=user, exporter="orders", params={"since": [since], "until": [until]}, fmt="csv")
    export_job_run(job_id=job.pk)
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == "done", job.error
    path = export_file_path(job)
    size = path.stat().st_size
    path.unlink()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": job.rows_done, "bytes": size, "peak_rss_mb": round(peak, 1)}))


def product_figures(user, by, start, end):
    from reports.selectors import report_query, sales_rows

    figures = ("orders", "quantity", "gross", "discounts", "refunds", "net", "cost", "fees")
    rows = sales_rows(user, report_query(date_from=start, date_to=end, by=by))
    return {
        tuple(row["keys"][d] for d in by): tuple(row[f] for f in figures)
        for row in rows
        if row["orders"]  # SQL has no group for a bucket without orders
    }


QUERIES = [
    (("day",), 365),
    (("week",), 365),
    (("month",), 365),
    (("year",), 365),
    (("hour",), 31),
    (("machine",), 365),
    (("site",), 365),
    (("region",), 365),
    (("kind",), 365),
    (("channel",), 365),
    (("method",), 365),
    (("product",), 365),
    (("category",), 365),
    (("brand",), 365),
    (("product", "site"), 365),
    (("day", "method"), 92),
    (("day",), 31),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--task-sample", type=int, default=300, help="orders whose roll-up task is timed")
    parser.add_argument("--batch-sample", type=int, default=2000, help="marked orders the batch task rolls up")
    parser.add_argument("--reuse", action="store_true", help="use (and keep) the database in DATABASE_URL")
    parser.add_argument("--stop-after", choices=("generate", "rebuild"), help="stop after this step")
    parser.add_argument("--skip-rebuild", action="store_true", help="--reuse: the roll-ups are already built")
    parser.add_argument("--sql-repeat", type=int, default=1000, help="timed runs of each hand-written query")
    parser.add_argument(
        "--sql-once",
        action="store_true",
        help="run the hand-written SQL over the raw tables once for the year (timed), then group its "
        "result per query (for 10M orders, where each raw query takes minutes)",
    )
    parser.add_argument("--no-export", action="store_true", help="skip the month's export")
    parser.add_argument(
        "--no-freeze", action="store_true", help="--lists-only: leave the loaded objects to the full collections"
    )
    parser.add_argument("--skip-inquiry", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--lists-only", action="store_true", help="--reuse: only the order inquiry, the API lists and the export"
    )
    parser.add_argument("--export-child", nargs=3, metavar=("USER", "SINCE", "UNTIL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/reports.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    sys.path.insert(0, str(ROOT))
    django_setup()
    if args.export_child:
        return export_child(*args.export_child)
    import contextlib
    import random

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Max, Min
    from django.utils import timezone

    from core.services import scope_grant
    from orders.models import Order
    from reports.models import OrderRollup, RollupPending
    from reports.rollups import PENDING_BATCH, _orders_with_parts, order_rollup, rollup_pending, rollup_rebuild

    database = contextlib.nullcontext(connection) if args.reuse else test_database()
    with database:
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        from core.models import Region

        generated_s = None
        existing = Order.objects.filter(number__startswith="B").count() if args.reuse else 0
        if existing >= args.orders:
            root = Region.objects.get(code="bench")
            cities = list(Region.objects.filter(parent=root).order_by("code"))
            print(f"reports: reusing {existing:,} orders", flush=True)
        else:
            root, cities = fixtures(args.regions)
            started = time.perf_counter()
            with connection.cursor() as cursor:
                generate(cursor, orders=args.orders, regions=args.regions)
            generated_s = time.perf_counter() - started
            print(
                f"reports: generated {args.orders:,} orders with lines, payments and refunds in {generated_s:.1f} s",
                flush=True,
            )
        if args.stop_after == "generate":
            return

        today = timezone.localdate()
        first = today - datetime.timedelta(days=366)
        rebuild_s = None
        if args.lists_only:
            return lists_only(args, today)
        if not args.skip_rebuild:
            started = time.perf_counter()
            rollup_rebuild(date_from=first, date_to=today)
            rebuild_s = time.perf_counter() - started
            print(f"reports: roll-ups rebuilt from the raw tables (366 days) in {rebuild_s:.1f} s", flush=True)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if args.stop_after == "rebuild":
            return

        def sample(n):
            """n random existing orders (without sorting the whole table by random())."""
            low, high = Order.objects.aggregate(low=Min("pk"), high=Max("pk")).values()
            rng = random.Random(len(str(high)))
            ids = sorted(set(rng.randrange(low, high + 1) for _ in range(n * 2)))
            return list(Order.objects.filter(pk__in=ids).values_list("pk", flat=True))[:n]

        # The per-order task (state read, recompute, no change to add) against a bare read of the
        # same order's rows; then a real change (a refund) through the task.
        task_times, read_times = [], []
        for pk in sample(args.task_sample):
            t0 = time.perf_counter()
            _orders_with_parts([pk])
            list(OrderRollup.objects.filter(order_id=pk).values_list("cells", flat=True))
            read_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            order_rollup(order_id=pk)
            task_times.append(time.perf_counter() - t0)

        # The batch task (what the beat runs): orders marked as the order listener marks them,
        # rolled up PENDING_BATCH a transaction; first unchanged, then after a change to each (a
        # cent more refunded, so the report figures below also prove the batch's additions).
        def batch(ids):
            RollupPending.objects.bulk_create(
                [RollupPending(order_id=pk, changed_at=timezone.now()) for pk in ids], ignore_conflicts=True
            )
            t0 = time.perf_counter()
            taken = rollup_pending()
            elapsed = time.perf_counter() - t0
            assert taken == len(ids) and not RollupPending.objects.exists()
            return elapsed

        marked = sample(args.batch_sample)
        batch_unchanged_s = batch(marked)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE orders_order SET refunded_amount = refunded_amount + 0.01, updated_at = now() "
                "WHERE id = ANY(%s) AND paid_at IS NOT NULL AND subtotal - discount_total - refunded_amount >= 0.01",
                [marked],
            )
        batch_changed_s = batch(marked)
        print(
            f"reports: batch of {len(marked):,} marked orders ({PENDING_BATCH} a transaction): "
            f"{batch_unchanged_s * 1000 / len(marked):.2f} ms an order unchanged, "
            f"{batch_changed_s * 1000 / len(marked):.2f} ms an order changed "
            f"(per-order task {statistics.median(task_times) * 1000:.2f} ms p50)",
            flush=True,
        )

        User = get_user_model()
        admin = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser(
            "bench-admin", password="bench-pw-1"
        )
        regional = User.objects.filter(username="bench-regional").first()
        if regional is None:
            regional = User.objects.create_user("bench-regional", password="bench-pw-1", is_staff=True)
            scope_grant(actor=None, user=regional, target=cities[0], action="view")
        from django.contrib.auth.models import Group

        regional.groups.add(Group.objects.get(name="regional_admin"))

        figures = {
            "orders": Order.objects.filter(number__startswith="B").count(),
            "generate_s": round(generated_s, 1) if generated_s else None,
            "rebuild_s": round(rebuild_s, 1) if rebuild_s else None,
            "rebuild_orders_per_s": round(args.orders / rebuild_s, 0) if rebuild_s else None,
            "task_p50_ms": round(statistics.median(task_times) * 1000, 2),
            "task_read_p50_ms": round(statistics.median(read_times) * 1000, 2),
            "batch_orders": len(marked),
            "batch_unchanged_ms_per_order": round(batch_unchanged_s * 1000 / len(marked), 3),
            "batch_changed_ms_per_order": round(batch_changed_s * 1000 / len(marked), 3),
            "load_average": os.getloadavg()[0],
        }
        from reports.models import OrderStatusDay, ProductSalesDay, ProductSalesMonth, SalesDay, SalesHour, SalesMonth

        for model in (SalesDay, SalesMonth, SalesHour, ProductSalesDay, ProductSalesMonth, OrderStatusDay):
            figures[f"rows.{model._meta.model_name}"] = model.objects.count()
        if args.sql_once:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                materialize_sql_facts(cursor, today - datetime.timedelta(days=max(d for _b, d in QUERIES) - 1), today)
            figures["sql_facts_s"] = round(time.perf_counter() - started, 1)
            print(f"reports: hand-written SQL facts over the raw tables in {figures['sql_facts_s']} s", flush=True)
        mismatches = []
        product_p95, sql_p95 = [], []
        for role, user, path in (("platform", admin, None), ("regional", regional, cities[0].path)):
            for by, days in QUERIES:
                start, end = today - datetime.timedelta(days=days - 1), today
                name = f"{role}.{'x'.join(by)}.{days}d"
                timings = {"product": [], "sql": []}
                product = expected = None
                product_figures(user, by, start, end)  # warm, as a page's second visitor finds it
                for i in range(args.repeat):
                    t0 = time.perf_counter()
                    product = product_figures(user, by, start, end)
                    timings["product"].append(time.perf_counter() - t0)
                    if i < args.sql_repeat or expected is None:
                        t0 = time.perf_counter()
                        with connection.cursor() as cursor:
                            expected = sql_figures(cursor, by, start, end, region_path=path, once=args.sql_once)
                        timings["sql"].append(time.perf_counter() - t0)
                if product != expected:
                    missing = {k: (product.get(k), expected.get(k)) for k in set(product) ^ set(expected)}
                    wrong = {
                        k: (product[k], expected[k]) for k in set(product) & set(expected) if product[k] != expected[k]
                    }
                    mismatches.append(name)
                    print(f"reports: MISMATCH {name}: {len(missing)} groups on one side only, {len(wrong)} differ")
                    for key, pair in list({**missing, **wrong}.items())[:5]:
                        print(f"    {key}: product {pair[0]} sql {pair[1]}")
                p = [percentile(timings[s], q) * 1000 for s in ("product", "sql") for q in (0.5, 0.95)]
                product_p95.append(p[1])
                sql_p95.append(p[3])
                figures[f"{name}.p95_ms"] = round(p[1], 1)
                print(
                    f"reports: {name:32} groups {len(expected):6}  product p50 {p[0]:8.1f} ms p95 {p[1]:8.1f} ms"
                    f"   sql p50 {p[2]:9.1f} ms p95 {p[3]:9.1f} ms",
                    flush=True,
                )
        figures["product_p95_max_ms"] = round(max(product_p95), 1)
        figures["sql_p95_max_ms"] = round(max(sql_p95), 1)
        figures["mismatches"] = len(mismatches)
        figures.update(order_inquiry(admin, regional, today, args.repeat))
        if not args.no_export:
            figures.update(month_export(admin, today))
        figures["load_average_end"] = os.getloadavg()[0]
        report("reports", figures, baseline_key="sql_p95_max_ms", measured_key="product_p95_max_ms")
        if mismatches:
            sys.exit(f"reports: figures differ from the raw tables in {', '.join(mismatches)}")


if __name__ == "__main__":
    main()
