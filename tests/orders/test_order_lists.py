"""The order inquiry, the orders API and the admin order list on large tables (issue 19, ADR 0025):
exact numbers and days are index lookups, deep pages go by cursor and never lose or repeat a row
while orders arrive, counts are bounded or estimated, the admin list runs a fixed number of
queries, and a large export runs as a job whose page shows progress and then every row."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderKind, OrderStatus
from tests.factories import CustomerFactory, SiteFactory, make_order

pytestmark = pytest.mark.django_db

_numbers = iter(range(1, 10**9))


def bulk_orders(n, *, site, at=None, customer=None, step=datetime.timedelta(0)):
    """`n` orders at `site` created at `at` (minus `step` per order; zero: all at the same instant,
    so the pages must break ties by id). Test data only: real orders come through the services."""
    at = at or timezone.now()
    orders = Order.objects.bulk_create(
        Order(
            number=f"V{next(_numbers):09d}",
            kind=OrderKind.VENDING,
            status=OrderStatus.COMPLETED,
            region=site.region,
            site=site,
            customer=customer,
            total=Decimal("3.50"),
            paid_amount=Decimal("3.50"),
        )
        for _ in range(n)
    )
    for i, order in enumerate(orders):
        order.created_at = at - step * i
    Order.objects.bulk_update(orders, ["created_at"])
    return orders


def _no_function_on_columns(queries):
    sql = " ".join(q["sql"] for q in queries if "orders_order" in q["sql"]).upper()
    assert "UPPER(" not in sql, "the number must be matched as stored, through its unique index"
    assert "LIKE" not in sql, "no text scan over the orders"
    assert "CAST(" not in sql and "::DATE" not in sql and "DJANGO_DATETIME_CAST_DATE" not in sql


# --- Exact lookups -------------------------------------------------------------------------------
def test_an_order_number_typed_in_lower_case_with_spaces_finds_the_order(world, client, api_client):
    order = make_order(site=world.east_store)
    make_order(site=world.east_store)
    typed = f"  {order.number.lower()} "
    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("orders:order-list"), {"number": typed}).content.decode()
    _no_function_on_columns(queries.captured_queries)
    assert re.findall(r'<tr data-pk="(\d+)"', page) == [str(order.pk)]

    api_client.force_authenticate(world.admin)
    for params in ({"number": typed}, {"search": typed}, {"q": typed}):
        with CaptureQueriesContext(connection) as queries:
            body = api_client.get("/api/v1/orders/", params).json()
        _no_function_on_columns(queries.captured_queries)
        assert [row["number"] for row in body["results"]] == [order.number], params


def test_the_search_finds_a_phone_by_its_first_digits_and_a_reference_exactly(world, client):
    customer = CustomerFactory(phone="13912345678")
    by_phone = make_order(site=world.east_store, customer=customer)
    other = make_order(site=world.east_store, customer=CustomerFactory(phone="13800000000"))
    Order.objects.filter(pk=other.pk).update(external_reference="SHOP-77")
    client.force_login(world.admin)

    def found(q):
        page = client.get(reverse("orders:order-list"), {"q": q}).content.decode()
        return set(re.findall(r'<tr data-pk="(\d+)"', page))

    assert found("139123") == {str(by_phone.pk)}
    assert found("13912345678") == {str(by_phone.pk)}
    assert found("SHOP-77") == {str(other.pk)}
    assert found("SHOP") == set()  # a reference is matched whole, never by `contains`


def test_search_results_come_newest_first_and_page_by_cursor(world, api_client):
    customer = CustomerFactory(phone="13700001111")
    orders = bulk_orders(7, site=world.east_store, customer=customer, step=datetime.timedelta(minutes=1))
    bulk_orders(5, site=world.east_store)
    api_client.force_authenticate(world.admin)
    seen = _walk_api(api_client, "/api/v1/orders/", {"search": "1370000", "limit": 3})
    assert seen == [o.pk for o in orders]


def test_a_one_day_filter_is_a_range_of_local_days(world, api_client, settings):
    day = datetime.date(2026, 11, 20)
    tz = timezone.get_current_timezone()
    inside_first = bulk_orders(1, site=world.east_store, at=datetime.datetime(2026, 11, 20, 0, 0, tzinfo=tz))[0]
    inside_last = bulk_orders(1, site=world.east_store, at=datetime.datetime(2026, 11, 20, 23, 59, 59, tzinfo=tz))[0]
    bulk_orders(1, site=world.east_store, at=datetime.datetime(2026, 11, 19, 23, 59, 59, tzinfo=tz))
    bulk_orders(1, site=world.east_store, at=datetime.datetime(2026, 11, 21, 0, 0, tzinfo=tz))
    api_client.force_authenticate(world.admin)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get("/api/v1/orders/", {"since": day.isoformat(), "until": day.isoformat()}).json()
    _no_function_on_columns(queries.captured_queries)
    assert {row["id"] for row in body["results"]} == {inside_first.pk, inside_last.pk}


def test_a_reversed_date_range_is_a_clear_400_in_the_api_and_a_message_on_the_page(world, client, api_client):
    api_client.force_authenticate(world.admin)
    response = api_client.get("/api/v1/orders/", {"since": "2026-11-21", "until": "2026-11-20"})
    assert response.status_code == 400
    assert "before the start date" in str(response.json())
    client.force_login(world.admin)
    page = client.get(reverse("orders:order-list"), {"since": "2026-11-21", "until": "2026-11-20"})
    assert page.status_code == 200 and "before the start date" in page.content.decode()


# --- Keyset pages --------------------------------------------------------------------------------
def _walk_api(api_client, url, params, *, between=None):
    seen, response = [], api_client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen.extend(row["id"] for row in body["results"])
        if between:
            between()
        if not body["next"]:
            return seen
        response = api_client.get(body["next"])


def test_api_cursor_pages_are_complete_and_without_duplicates_while_orders_arrive(world, api_client):
    # Ties on created_at on purpose: 40 orders share one instant, the rest are a second apart.
    at = timezone.now() - datetime.timedelta(hours=1)
    existing = bulk_orders(40, site=world.east_store, at=at) + bulk_orders(
        90, site=world.east_store, at=at - datetime.timedelta(minutes=5), step=datetime.timedelta(seconds=1)
    )
    api_client.force_authenticate(world.admin)
    seen = _walk_api(
        api_client, "/api/v1/orders/", {"limit": 25}, between=lambda: bulk_orders(3, site=world.east_store)
    )
    new = set(Order.objects.values_list("pk", flat=True)) - {o.pk for o in existing}
    assert len(seen) == len(set(seen)), "no order twice"
    assert {o.pk for o in existing} <= set(seen), "no order missing"
    assert set(seen) - {o.pk for o in existing} <= new
    # and backwards: previous links give the same pages
    body = api_client.get("/api/v1/orders/", {"limit": 25}).json()
    second = api_client.get(body["next"]).json()
    back = api_client.get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in body["results"]]


def test_api_cursor_pages_follow_another_ordering(world, api_client):
    orders = bulk_orders(30, site=world.east_store)
    for i, order in enumerate(orders):
        order.total = Decimal(i % 7)
    Order.objects.bulk_update(orders, ["total"])
    api_client.force_authenticate(world.admin)
    seen = _walk_api(api_client, "/api/v1/orders/", {"limit": 8, "ordering": "total"})
    assert sorted(seen) == sorted(o.pk for o in orders)
    totals = [Order.objects.get(pk=pk).total for pk in seen]
    assert totals == sorted(totals)
    assert api_client.get("/api/v1/orders/", {"ordering": "note"}).status_code == 400


def test_the_api_answers_page_and_offset_clearly_instead_of_ignoring_them(world, api_client):
    bulk_orders(3, site=world.east_store)
    api_client.force_authenticate(world.admin)
    for params in ({"page": 2}, {"offset": 50}):
        response = api_client.get("/api/v1/orders/", params)
        assert response.status_code == 400
        assert "cursor" in str(response.json())
    assert api_client.get("/api/v1/orders/", {"cursor": "not-a-cursor"}).status_code == 400
    assert api_client.get("/api/v1/orders/", {"limit": 100000}).status_code == 400


def _console_ids(page):
    return [int(pk) for pk in re.findall(r'<tr data-pk="(\d+)"', page)]


def test_console_pages_by_cursor_complete_and_stable_while_orders_arrive(world, client):
    at = timezone.now() - datetime.timedelta(hours=1)
    existing = bulk_orders(60, site=world.east_store, at=at) + bulk_orders(
        60, site=world.east_store, at=at - datetime.timedelta(minutes=1), step=datetime.timedelta(seconds=1)
    )
    client.force_login(world.admin)
    url, seen = reverse("orders:order-list"), []
    query = ""
    while True:
        page = client.get(url + query).content.decode()
        seen.extend(_console_ids(page))
        bulk_orders(2, site=world.east_store)
        older = re.search(r'href="\?([^"]*)" rel="next"', page)
        if not older:
            break
        query = "?" + older.group(1).replace("&amp;", "&")
    assert len(seen) == len(set(seen))
    assert {o.pk for o in existing} <= set(seen)


def test_console_honours_small_page_numbers_and_explains_deep_ones(world, client):
    orders = bulk_orders(120, site=world.east_store, step=datetime.timedelta(seconds=1))
    client.force_login(world.admin)
    page = client.get(reverse("orders:order-list"), {"page": 2}).content.decode()
    assert _console_ids(page) == [o.pk for o in orders[50:100]]
    deep = client.get(reverse("orders:order-list"), {"page": 5000}).content.decode()
    assert "Page numbers go up to" in deep
    assert _console_ids(deep) == [o.pk for o in orders[:50]]
    broken = client.get(reverse("orders:order-list"), {"cursor": "garbage"}).content.decode()
    assert "start again from the first page" in broken


# --- Counts --------------------------------------------------------------------------------------
def test_counts_stop_at_the_bound_and_say_more_than(world, client, api_client, monkeypatch):
    monkeypatch.setattr("core.pagination.COUNT_LIMIT", 30)
    bulk_orders(45, site=world.east_store)
    bulk_orders(5, site=world.west_store)
    client.force_login(world.admin)
    page = client.get(reverse("orders:order-list")).content.decode()
    assert 'data-count-exact="0"' in page and "more than 30" in page
    small = client.get(reverse("orders:order-list"), {"site": world.west_store.pk}).content.decode()
    assert 'data-count="5" data-count-exact="1"' in small
    api_client.force_authenticate(world.admin)
    body = api_client.get("/api/v1/orders/").json()
    assert body["count"] == 30 and body["count_exact"] is False


@pytest.mark.postgres
def test_an_unfiltered_list_shows_postgresqls_estimate(world, client, api_client, monkeypatch):
    bulk_orders(40, site=world.east_store)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    monkeypatch.setattr("core.pagination.ESTIMATE_FLOOR", 10)
    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("orders:order-list")).content.decode()
    assert "about 40" in page
    assert not any("COUNT(" in q["sql"].upper() and "orders_order" in q["sql"] for q in queries.captured_queries)
    api_client.force_authenticate(world.admin)
    body = api_client.get("/api/v1/orders/").json()
    assert body["count"] == 40 and body["count_estimated"] is True
    # a regional administrator's list is filtered by their scope: counted (up to the bound)
    client.force_login(world.regional)
    assert 'data-count="40" data-count-exact="1"' in client.get(reverse("orders:order-list")).content.decode()


# --- Scope ---------------------------------------------------------------------------------------
def test_a_regional_administrator_lists_and_pages_only_their_region(world, client, api_client):
    east = {o.pk for o in bulk_orders(60, site=world.east_store, step=datetime.timedelta(seconds=1))}
    bulk_orders(60, site=world.west_store, step=datetime.timedelta(seconds=1))
    api_client.force_authenticate(world.regional)
    assert set(_walk_api(api_client, "/api/v1/orders/", {"limit": 20})) == east
    client.force_login(world.regional)
    first = client.get(reverse("orders:order-list")).content.decode()
    older = re.search(r'href="\?([^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(reverse("orders:order-list") + "?" + older).content.decode()
    assert set(_console_ids(first)) | set(_console_ids(second)) == east
    # a region filter outside the scope is refused, not silently widened
    assert api_client.get("/api/v1/orders/", {"region": world.west.pk}).status_code == 400


# --- The admin -----------------------------------------------------------------------------------
def _admin_queries(client, per_page, monkeypatch):
    from orders.admin import OrderAdmin

    monkeypatch.setattr(OrderAdmin, "list_per_page", per_page)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_the_admin_order_list_runs_the_same_few_queries_whatever_the_page_size(
    world, client, monkeypatch, django_assert_max_num_queries
):
    for i in range(6):
        bulk_orders(10, site=SiteFactory(region=world.east if i % 2 else world.west))
    bulk_orders(5, site=world.east_store)
    client.force_login(world.admin)
    small = _admin_queries(client, 5, monkeypatch)
    large = _admin_queries(client, 60, monkeypatch)
    assert small == large
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:orders_order_changelist"))
    wanted, other = Order.objects.all()[:2]
    page = client.get(reverse("admin:orders_order_changelist"), {"q": wanted.number.lower()}).content.decode()
    assert f">{wanted.number}<" in page and f">{other.number}<" not in page


# --- Exports -------------------------------------------------------------------------------------
@pytest.fixture
def export_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _run_export(client, params, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("orders:order-export"), params)
    assert response.status_code == 302, response.status_code
    return response["Location"]


def test_a_large_export_runs_as_a_job_with_progress_and_a_download_of_every_row(
    world, client, export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("core.exports.DIRECT_EXPORT_LIMIT", 20)
    monkeypatch.setattr("core.exports.EXPORT_CHUNK", 7)
    east = bulk_orders(53, site=world.east_store, step=datetime.timedelta(seconds=1))
    bulk_orders(12, site=world.west_store)
    client.force_login(world.regional)
    job_url = _run_export(client, {"format": "csv"}, django_capture_on_commit_callbacks)

    page = client.get(job_url).content.decode()
    assert "export-progress" in page and "core/export_job.js" in page
    status_url = re.search(r'data-status-url="([^"]+)"', page).group(1)
    state = client.get(status_url).json()
    assert state["status"] == "done" and state["percent"] == 100
    assert state["rows_done"] == state["rows_total"] == 53

    download = client.get(state["download_url"])
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "Number" and len(rows) == 1 + 53
    assert [row[0] for row in rows[1:]] == [o.number for o in east]
    assert {row[2] for row in rows[1:]} == {"Completed"}

    # the inquiry page leads back to it
    listing = client.get(reverse("orders:order-list")).content.decode()
    assert f'href="{job_url}"' in listing

    # someone else's job is not there for them
    client.force_login(world.manager)
    assert f'href="{job_url}"' not in client.get(reverse("orders:order-list")).content.decode()
    assert client.get(status_url).status_code == 404
    assert client.get(state["download_url"]).status_code == 404


def test_a_large_excel_export_in_chinese_has_every_row_with_translated_labels(
    world, client, export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    from openpyxl import load_workbook

    monkeypatch.setattr("core.exports.DIRECT_EXPORT_LIMIT", 10)
    bulk_orders(25, site=world.east_store)
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            reverse("orders:order-export"),
            {"format": "xlsx", "site": world.east_store.pk},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    job_url = response["Location"]
    status_url = job_url + "status/"
    state = client.get(status_url).json()
    assert state["rows_total"] == 25
    sheet = load_workbook(io.BytesIO(b"".join(client.get(state["download_url"]).streaming_content))).active
    assert sheet.max_row == 26
    from core.models import ExportJob

    job = ExportJob.objects.get()
    assert job.language.lower().startswith("zh")


def test_a_small_export_is_answered_at_once_with_every_row(world, client, export_dir):
    orders = bulk_orders(7, site=world.east_store, step=datetime.timedelta(seconds=1))
    client.force_login(world.admin)
    response = client.get(reverse("orders:order-export"), {"format": "csv", "site": world.east_store.pk})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [o.number for o in orders]


def test_an_export_with_wrong_filters_is_a_400_and_runs_nothing(world, client, export_dir):
    from core.models import ExportJob

    client.force_login(world.regional)
    response = client.get(reverse("orders:order-export"), {"format": "csv", "region": world.west.pk})
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_old_export_files_are_deleted_with_their_job(
    world, client, export_dir, monkeypatch, django_capture_on_commit_callbacks
):
    from core.exports import export_file_path
    from core.models import ExportJob
    from core.tasks import export_jobs_expire

    monkeypatch.setattr("core.exports.DIRECT_EXPORT_LIMIT", 2)
    bulk_orders(5, site=world.east_store)
    client.force_login(world.admin)
    _run_export(client, {"format": "csv"}, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert export_file_path(job).exists()
    ExportJob.objects.update(created_at=timezone.now() - datetime.timedelta(days=2))
    assert export_jobs_expire() == 1
    assert not export_file_path(job).exists() and not ExportJob.objects.exists()


# --- The read replica ----------------------------------------------------------------------------
def test_reads_go_to_the_replica_only_inside_replica_reads_and_only_when_configured(settings):
    from core.db_router import ReplicaRouter, replica_reads

    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Order) is None  # no replica configured: the default database
    settings.DATABASES = {**settings.DATABASES, "replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    assert router.db_for_read(Order) is None
    with replica_reads():
        assert router.db_for_read(Order) == "replica"
        assert router.db_for_write(Order) == "default"
    assert router.db_for_read(Order) is None
    assert router.allow_migrate("replica", "orders") is False
    assert router.allow_migrate("default", "orders") is True


def test_settings_add_a_mirrored_replica_from_the_environment():
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": "postgres://u@primary:5432/bo",
        "DATABASE_REPLICA_URL": "postgres://u@replica:5432/bo",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DATABASES['replica']['HOST'], s.DATABASES['replica']['TEST'], s.DATABASE_ROUTERS]))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    host, test, routers = json.loads(out.stdout.strip().splitlines()[-1])
    assert host == "replica" and test["MIRROR"] == "default" and routers == ["core.db_router.ReplicaRouter"]


def test_an_export_whose_worker_died_is_taken_again_by_the_redelivered_task(world, export_dir):
    from core.exports import export_job_create, export_job_run
    from core.models import ExportJob

    bulk_orders(4, site=world.east_store)
    job = export_job_create(user=world.admin, exporter="orders", params={}, fmt="csv")  # in a test: not started
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress_at=timezone.now())
    assert export_job_run(job_id=job.pk) == "taken"  # alive: a second delivery leaves it alone
    ExportJob.objects.filter(pk=job.pk).update(progress_at=timezone.now() - datetime.timedelta(hours=1))
    assert export_job_run(job_id=job.pk) == "done"
    job.refresh_from_db()
    assert job.status == "done" and job.rows_done == 4
