"""The order inquiry on a large table: the lists and the month's export, as they are now versus the
queries they ran before issue 19 (reproduced here as the baseline), in the same run on the same rows.

Generates `--orders` orders (default 1,000,000; PostgreSQL with one INSERT ... SELECT over
generate_series, SQLite in Python batches) spread over 365 days, 4 regions (one holds 40% of the
orders), 40 sites, 200 devices and 20,000 customers, then ANALYZEs. For the platform administrator
and for a regional administrator of the big region, each list query is timed (p50 / p95 over
`--repeat` runs, warm cache):

  first_page    the inquiry's first page with its count
  page_2000     rows 99,951-100,000 (now by cursor; before by OFFSET), with the count
  one_day       one day's orders (now a range of created_at; before `created_at::date = day`)
  exact_number  an order number typed in lower case (now normalised, the unique index; before iexact)
  search        a phone's first digits in the search box (now a prefix lookup; before `contains` over
                three columns, run again for the count)

"now" runs the product's own code (OrderFilter, core.scoping, core.pagination); "before" runs the
ORM queries the old code ran. The export of one month is run both ways with tracemalloc on, giving
the exporting process's peak Python memory: now through the background job's service (every row,
streamed to a file); before the old view's loop (model instances, labels per cell, the newest
50,000 rows only, the whole file in memory). Order lines are not generated: no list or export
reads them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_lists .venv/bin/python bench/order_lists.py
    ... --orders 300000 --repeat 5
    ... --reuse    # keep the generated database (named in DATABASE_URL) between runs

The last line is one JSON object; `ratio` is the sum of the p50s now over the sum before.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import statistics
import sys
import time
import tracemalloc

from common import django_setup, report, test_database

MONTH_DAYS = 30


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(fn, repeat):
    fn()  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2), round(p(times, 0.95), 2)


# --- Data ------------------------------------------------------------------------------------------
def world():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.models import Region, Site
    from core.services import scope_grant
    from devices.models import Device
    from members.models import Customer

    root = Region.objects.create(name="Bench root", code="bench-root", kind=Region.Kind.COUNTRY)
    regions = [
        Region.objects.create(name=f"Province {i}", code=f"bench-p{i}", kind=Region.Kind.PROVINCE, parent=root)
        for i in range(4)
    ]
    sites = []
    for i in range(40):
        region = regions[0] if i < 16 else regions[1 + i % 3]  # the big region: 16 of 40 sites = 40%
        sites.append(Site.objects.create(name=f"Site {i}", code=f"bench-s{i}", region=region, kind=Site.Kind.STORE))
    devices = [
        Device.objects.create(
            name=f"VM {i}", serial_number=f"BENCH{i:05d}", site=sites[i % 40], kind=Device.Kind.VENDING
        )
        for i in range(200)
    ]
    Customer.objects.bulk_create(Customer(phone=f"139{i:08d}", name=f"Customer {i}") for i in range(20_000))
    User = get_user_model()
    admin = User.objects.create(username="bench-admin", is_staff=True)
    admin.groups.add(Group.objects.get(name="platform_admin"))
    regional = User.objects.create(username="bench-regional")
    regional.groups.add(Group.objects.get(name="regional_admin"))
    scope_grant(actor=None, user=regional, target=regions[0], action="change")
    return {"regions": regions, "sites": sites, "devices": devices, "admin": admin, "regional": regional}


def generate_pg(n, now, big_region_id):
    """One INSERT ... SELECT: 40% of the orders on the big region's 80 devices, the rest on the
    other 120; a third with a customer; one in 25 cancelled, one in 50 refunded; times spread over
    the year by a multiplicative hash of the row number."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM members_customer")
        cmin, cmax = cursor.fetchone()
        cursor.execute(
            "CREATE TEMP TABLE bench_dev AS SELECT row_number() OVER (ORDER BY s.region_id = %s DESC, d.id) - 1 AS k, "
            "d.id AS device_id, d.site_id, s.region_id FROM devices_device d JOIN core_site s ON s.id = d.site_id",
            [big_region_id],
        )
        cursor.execute(
            "SELECT count(*) FROM devices_device d JOIN core_site s ON s.id = d.site_id WHERE s.region_id = %s",
            [big_region_id],
        )
        (nbig,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM bench_dev")
        (ndev,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO orders_order (number, kind, status, customer_id, region_id, site_id, device_id, channel,
                currency, subtotal, discount_total, total, paid_amount, refunded_amount, created_at, updated_at,
                paid_at, completed_at, external_reference, idempotency_key, note)
            SELECT 'V' || to_char(t.at AT TIME ZONE 'Asia/Shanghai', 'YYMMDD') || lpad(g::text, 8, '0'),
                   CASE WHEN g %% 10 < 8 THEN 'vending' WHEN g %% 10 = 8 THEN 'counter' ELSE 'locker' END,
                   CASE WHEN g %% 50 = 0 THEN 'refunded' WHEN g %% 25 = 1 THEN 'cancelled' ELSE 'completed' END,
                   CASE WHEN g %% 3 = 0 THEN %(cmin)s + (g::bigint * 7919) %% (%(cmax)s - %(cmin)s + 1) END,
                   d.region_id, d.site_id, d.device_id,
                   CASE WHEN g %% 10 = 8 THEN 'counter' ELSE 'machine' END,
                   'CNY', m.total, 0, m.total, CASE WHEN g %% 25 = 1 THEN 0 ELSE m.total END,
                   CASE WHEN g %% 50 = 0 THEN m.total ELSE 0 END,
                   t.at, t.at, CASE WHEN g %% 25 = 1 THEN NULL ELSE t.at END, NULL,
                   CASE WHEN g %% 100 = 7 THEN 'EXT-' || g ELSE '' END, NULL, ''
            FROM generate_series(1, %(n)s) AS g
            CROSS JOIN LATERAL (SELECT %(now)s::timestamptz
                 - make_interval(secs => ((g::bigint * 2654435761) %% (365 * 86400))::double precision) AS at) AS t
            CROSS JOIN LATERAL (SELECT ((g %% 40) + 1)::numeric / 4 + 1 AS total) AS m
            JOIN bench_dev d ON d.k = CASE WHEN g %% 5 < 2 THEN (g / 5) %% %(nbig)s
                                           ELSE %(nbig)s + (g / 5) %% %(rest)s END
            """,
            {"n": n, "now": now, "cmin": cmin, "cmax": cmax, "nbig": nbig, "rest": ndev - nbig},
        )
        cursor.execute("DROP TABLE bench_dev")
        cursor.execute("ANALYZE")


def generate_python(n, now, w):
    import random

    from orders.models import Order

    rng = random.Random(19)
    big = [d for d in w["devices"] if d.site.region_id == w["regions"][0].pk]
    rest = [d for d in w["devices"] if d.site.region_id != w["regions"][0].pk]
    from members.models import Customer

    customers = list(Customer.objects.values_list("pk", flat=True))
    batch = []
    for g in range(1, n + 1):
        device = rng.choice(big if g % 5 < 2 else rest)
        at = now - datetime.timedelta(seconds=rng.randrange(365 * 86400))
        total = (g % 40 + 1) / 4 + 1
        batch.append(
            Order(
                number=f"V{at:%y%m%d}{g:08d}",
                kind="vending",
                status="completed",
                customer_id=customers[g % len(customers)] if g % 3 == 0 else None,
                region_id=device.site.region_id,
                site_id=device.site_id,
                device_id=device.pk,
                channel="machine",
                total=total,
                subtotal=total,
                paid_amount=total,
                created_at=at,
                paid_at=at,
                external_reference=f"EXT-{g}" if g % 100 == 7 else "",
            )
        )
        if len(batch) == 5000:
            _flush(batch)
    _flush(batch)


def _flush(batch):
    from orders.models import Order

    created = Order.objects.bulk_create(batch)
    Order.objects.bulk_update(created, ["created_at"])  # auto_now_add replaced it
    batch.clear()


# --- The queries -----------------------------------------------------------------------------------
PAGE = 50
DEEP_ROW = 99_950  # page 2,000 of 50


def old_scope(user):
    """core.scoping before issue 19: the region path prefix through a join on the region."""
    from django.db.models import Q

    from core.scoping import user_grants
    from orders.models import Order

    grants = user_grants(user)
    queryset = Order.objects.all()
    if grants.everything:
        return queryset
    q = Q(pk__in=[])
    for path in grants.region_paths:
        q |= Q(region__path__startswith=path)
    if grants.site_ids:
        q |= Q(site__in=grants.site_ids)
    return queryset.filter(q)


def old_page(queryset, offset=0):
    """The old ListView: a full COUNT(*), then an OFFSET page with the related rows."""
    queryset = queryset.select_related("customer", "site", "device", "region").order_by("-created_at", "-pk")
    queryset.count()
    return list(queryset[offset : offset + PAGE])


def old_search(queryset, term):
    from django.db.models import Q

    q = Q(number__icontains=term) | Q(external_reference__icontains=term) | Q(customer__phone__icontains=term)
    return old_page(queryset.filter(q))


def new_list(user, params=None, cursor=None):
    """The inquiry as the console page and the API run it: scope, OrderFilter, a keyset page, a
    bounded or estimated count."""
    from django.http import QueryDict

    from core.pagination import Ordering, bounded_count, keyset_page
    from orders.filters import OrderFilter
    from orders.models import Order

    query = QueryDict(mutable=True)
    for key, value in (params or {}).items():
        query[key] = value
    request = type("R", (), {"user": user, "GET": query})()
    queryset = Order.objects.restrict(user).select_related("customer", "site", "device", "region")
    filterset = OrderFilter(query or None, queryset=queryset, request=request)
    if filterset.is_bound:
        assert filterset.is_valid(), filterset.errors
        queryset = filterset.qs
    selective = any((params or {}).get(name) for name in ("q", "number", "customer"))  # as OrderListView
    page = keyset_page(
        queryset, ordering=Ordering.parse("-created_at", sort_matches=selective), size=PAGE, cursor=cursor
    )
    bounded_count(queryset)
    return page.rows


def deep_cursor(user):
    from core.pagination import Ordering, encode_cursor
    from orders.models import Order

    queryset = Order.objects.restrict(user).order_by("-created_at", "-pk")
    row = queryset[min(DEEP_ROW, queryset.count() - PAGE - 1) - 1]  # a small --orders: halfway is deep
    return encode_cursor(Ordering.parse("-created_at"), row, direction="next"), min(
        DEEP_ROW, queryset.count() - PAGE - 1
    )


def _cases(user, cursor, offset, tz_day, number, phone_prefix):
    """(now, before) for each list query of `user`."""
    return {
        "first_page": (lambda: new_list(user), lambda: old_page(old_scope(user))),
        "page_2000": (
            lambda: new_list(user, cursor=cursor),
            lambda: old_page(old_scope(user), offset=offset),
        ),
        "one_day": (
            lambda: new_list(user, {"since": tz_day.isoformat(), "until": tz_day.isoformat()}),
            lambda: old_page(old_scope(user).filter(created_at__date=tz_day)),
        ),
        "exact_number": (
            lambda: new_list(user, {"number": number.lower()}),
            lambda: old_page(old_scope(user).filter(number__iexact=number.lower())),
        ),
        "search": (
            lambda: new_list(user, {"q": phone_prefix}),
            lambda: old_search(old_scope(user), phone_prefix),
        ),
    }


def run_lists(w, day, number, phone_prefix, repeat, slow_repeat):
    from orders.models import Order

    figures = {}
    for role in ("admin", "regional"):
        user = w[role]
        # the user's grants are cached on the user object: warm both ways alike
        new_list(user)
        cursor, offset = deep_cursor(user)
        cases = _cases(user, cursor, offset, day, number, phone_prefix)
        for name, (now_fn, before_fn) in cases.items():
            now50, now95 = measure(now_fn, repeat)
            before50, before95 = measure(before_fn, slow_repeat)
            same = {o.pk for o in now_fn()} == {o.pk for o in before_fn()} if name != "search" else None
            figures[f"{role}.{name}.now_p50_ms"] = now50
            figures[f"{role}.{name}.now_p95_ms"] = now95
            figures[f"{role}.{name}.before_p50_ms"] = before50
            figures[f"{role}.{name}.before_p95_ms"] = before95
            if same is not None:
                figures[f"{role}.{name}.same_rows"] = same
            print(
                f"  {role:8} {name:13} now p50 {now50:8.2f} ms p95 {now95:8.2f} | before p50 {before50:8.2f} ms p95 {before95:8.2f}",
                file=sys.stderr,
            )
    figures["orders"] = Order.objects.count()
    return figures


# --- The export ------------------------------------------------------------------------------------
def old_export(user, since, until):
    """orders/views.py order_export before issue 19, as it was (with its 50,000-row cap)."""
    from decimal import Decimal

    from core.exports import table_file
    from orders.models import Order
    from orders.views import EXPORT_COLUMNS

    queryset = (
        old_scope(user)
        .select_related("region", "site", "device", "customer")
        .filter(created_at__date__gte=since, created_at__date__lte=until)
    )
    rows = []
    for order in queryset.order_by("-created_at")[:50_000]:
        row = []
        for attr, _label in EXPORT_COLUMNS:
            value = getattr(order, attr)
            display = getattr(order, f"get_{attr}_display", None)
            if callable(display):
                value = display()
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif value is not None and not isinstance(value, int | str | Decimal):
                value = str(value)
            row.append("" if value is None else value)
        rows.append(row)
    content, _type = table_file([str(label) for _a, label in EXPORT_COLUMNS], rows, "csv")
    assert Order  # the model the rows came from
    return len(rows), len(content)


def new_export(user, since, until):
    from core.exports import export_file_path, export_job_create, export_job_run
    from core.models import ExportJob

    # Outside a transaction the job's task starts at once (eager Celery in the bench); the second
    # call finds it taken, as a second delivery of the task would.
    job = export_job_create(
        user=user, exporter="orders", params={"since": [since.isoformat()], "until": [until.isoformat()]}, fmt="csv"
    )
    export_job_run(job_id=job.pk)
    job = ExportJob.objects.get(pk=job.pk)
    assert job.status == "done", job.error
    size = export_file_path(job).stat().st_size
    export_file_path(job).unlink()
    return job.rows_done, size


def run_export(w, since, until):
    import orders.views  # noqa: F401  (registers the exporter)

    figures = {}
    user = w["admin"]
    for name, fn in (("now", new_export), ("before", old_export)):
        started = time.perf_counter()
        rows, size = fn(user, since, until)
        figures[f"export.{name}_s"] = round(time.perf_counter() - started, 2)
        tracemalloc.start()
        fn(user, since, until)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures[f"export.{name}_rows"] = rows
        figures[f"export.{name}_bytes"] = size
        figures[f"export.{name}_peak_mb"] = round(peak / 2**20, 1)
        print(
            f"  export {name:6} {rows} rows in {figures[f'export.{name}_s']} s, peak {figures[f'export.{name}_peak_mb']} MB",
            file=sys.stderr,
        )
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed runs of each query now")
    parser.add_argument("--slow-repeat", type=int, default=5, help="timed runs of each query before")
    parser.add_argument("--reuse", action="store_true", help="use (and keep) the database in DATABASE_URL")
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    database = contextlib.nullcontext(connection) if args.reuse else test_database()
    with database:
        from django.contrib.auth import get_user_model

        from core.models import Region
        from orders.models import Order

        now = timezone.now().replace(microsecond=0)
        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
        if args.reuse and Order.objects.filter(number__startswith="V").count() >= args.orders:
            from devices.models import Device

            regions = list(Region.objects.filter(code__startswith="bench-p").order_by("code"))
            User = get_user_model()
            w = {
                "regions": regions,
                "devices": list(Device.objects.filter(serial_number__startswith="BENCH")),
                "admin": User.objects.get(username="bench-admin"),
                "regional": User.objects.get(username="bench-regional"),
            }
            now = Order.objects.order_by("-created_at").values_list("created_at", flat=True).first()
            print(f"reusing {Order.objects.count():,} orders", file=sys.stderr)
        else:
            w = world()
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                generate_pg(args.orders, now, w["regions"][0].pk)
            else:
                generate_python(args.orders, now, w)
            print(f"generated {args.orders:,} orders in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        local_now = timezone.localtime(now)
        day = (local_now - datetime.timedelta(days=40)).date()
        number = (
            Order.objects.filter(created_at__lt=now - datetime.timedelta(days=100))
            .values_list("number", flat=True)
            .first()
        )
        phone_prefix = "139000123"  # a hundred customers' phones start so
        figures = {"vendor": connection.vendor, "generated_orders": args.orders}
        figures.update(run_lists(w, day, number, phone_prefix, args.repeat, args.slow_repeat))
        until = (local_now - datetime.timedelta(days=1)).date()
        since = until - datetime.timedelta(days=MONTH_DAYS - 1)
        figures.update(run_export(w, since, until))
        now_total = sum(v for k, v in figures.items() if k.endswith(".now_p50_ms"))
        before_total = sum(v for k, v in figures.items() if k.endswith(".before_p50_ms"))
        figures["lists_now_p50_sum_ms"] = round(now_total, 2)
        figures["lists_before_p50_sum_ms"] = round(before_total, 2)
        report("orders.lists", figures, baseline_key="lists_before_p50_sum_ms", measured_key="lists_now_p50_sum_ms")
    assert json


if __name__ == "__main__":
    main()
