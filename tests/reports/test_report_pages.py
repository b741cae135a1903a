"""The report pages as their users open them: every page in both languages with its chart, every
export (CSV, Excel, PDF), and input a report cannot answer refused with a clear message before any
figure is read."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.pages import REPORT_PAGES
from tests.reports.history import build_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(world, django_capture_on_commit_callbacks):
    return build_history(world, django_capture_on_commit_callbacks)


def _range(history):
    return {"date_from": history.d1.isoformat(), "date_to": history.d4.isoformat()}


@pytest.mark.parametrize("page", REPORT_PAGES, ids=lambda p: p.slug)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_report_page_opens_with_its_figures(client, world, history, page, language):
    client.force_login(world.admin)
    response = client.get(reverse(page.url_name), _range(history), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-error"' not in html
    assert "echarts.min.js" in html
    if page.slug not in ("turnover", "rankings"):
        assert 'class="chart"' in html


@pytest.mark.parametrize("page", REPORT_PAGES, ids=lambda p: p.slug)
def test_every_report_exports_csv_xlsx_and_pdf(client, world, history, page):
    from openpyxl import load_workbook

    client.force_login(world.admin)
    csv = client.get(reverse(page.url_name), {**_range(history), "export": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv.content.startswith("\ufeff".encode())
    assert f"{page.slug}-{history.d1:%Y%m%d}-{history.d4:%Y%m%d}.csv" in csv["Content-Disposition"]
    xlsx = client.get(reverse(page.url_name), {**_range(history), "export": "xlsx"})
    assert xlsx.status_code == 200
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert workbook.sheetnames
    pdf = client.get(reverse(page.url_name), {**_range(history), "export": "pdf"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_csv_holds_the_figures_of_the_page(client, world, history):
    client.force_login(world.admin)
    csv = client.get(reverse("reports:sales"), {**_range(history), "by": "product", "export": "csv"})
    text = csv.content.decode("utf-8-sig")
    assert "Cola" in text and "Chips" in text and "Gift card" in text


def _no_report_query(captured) -> bool:
    return not any("reports_" in q["sql"] or "orders_order" in q["sql"] for q in captured.captured_queries)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "The last day is before the first day."),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "Choose at most 1098 days for this report."),
        ({"date_from": "2026-03-01", "date_to": "2026-05-01", "by": "hour"}, "Choose at most 31 days"),
        ({"by": "colour"}, "Select a valid choice. colour is not one of the available choices."),
        ({"by": "day", "then": "week"}, "Group by one period at a time."),
        ({"by": "hour", "then": "product"}, "Hours cannot be combined with products"),
        ({"date_from": "yesterday"}, "Enter a valid date."),
    ],
    ids=["reversed", "too-long", "hours-too-long", "unknown-dimension", "two-periods", "hour-product", "bad-date"],
)
def test_bad_input_gets_a_message_and_no_query(client, world, params, message):
    client.force_login(world.admin)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("reports:sales"), params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'id="report-error"' in response.content.decode()
    assert _no_report_query(captured)
    export = client.get(reverse("reports:sales"), {**params, "export": "csv"})
    assert export.status_code == 400 and message in export.content.decode()
    data = client.get(reverse("reports:sales"), {**params, "format": "json"})
    assert data.status_code == 400 and message in data.json()["error"]


def test_a_filter_outside_the_users_scope_is_refused(client, world):
    client.force_login(world.regional)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("reports:sales"), {"site": world.west_store.pk}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Select a valid choice" in response.content.decode()
    assert _no_report_query(captured)
    assert client.get(reverse("reports:sales"), {"site": world.east_store.pk}).status_code == 200
    region = client.get(reverse("reports:profit"), {"region": world.west.pk, "format": "json"})
    assert region.status_code == 400


def test_an_unknown_export_format_is_refused(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("reports:sales"), {"export": "docx"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Unknown export format: docx." in response.content.decode()


def test_turnover_is_limited_to_a_quarter(client, world):
    client.force_login(world.admin)
    today = timezone.localdate()
    response = client.get(
        reverse("reports:turnover"),
        {"date_from": today - datetime.timedelta(days=120), "date_to": today, "format": "json"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "at most 92 days" in response.json()["error"]


@pytest.mark.parametrize("role", ["clerk", "service"])
def test_store_clerks_and_service_staff_see_no_reports(client, world, role):
    client.force_login(getattr(world, role))
    for page in REPORT_PAGES:
        assert client.get(reverse(page.url_name)).status_code == 403


def test_a_supplier_ranks_their_own_products_and_no_empty_per_machine_section(client, world, history):
    """A supplier's figures are of their products only, without machines (no machine ranking):
    the per-machine slow movers are not theirs to see, so the page leaves that section out rather
    than showing it empty (issue 22)."""
    client.force_login(world.supplier_user)
    response = client.get(reverse("reports:rankings"), _range(history))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cola" in html and "Chips" not in html
    assert 'class="empty"' not in html
    assert "Slow movers" not in html


def test_the_form_shows_the_figure_the_page_counts(client, world):
    """The heat map counts orders unless asked otherwise; its form said net sales (the first
    choice) over a grid of order counts."""
    client.force_login(world.admin)
    heatmap = client.get(reverse("reports:heatmap"))
    assert heatmap.status_code == 200
    assert '<option value="orders" selected>' in heatmap.content.decode()
    assert '<option value="net" selected>' in client.get(reverse("reports:rankings")).content.decode()
    chosen = client.get(reverse("reports:heatmap"), {"measure": "gross"}).content.decode()
    assert '<option value="gross" selected>' in chosen
