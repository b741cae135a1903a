"""The report pages: what each shows, who may open it, and its figures as tables and charts.

`REPORT_PAGES` lists every page; the views, the exports (CSV, XLSX, PDF), the JSON data and the
generated scoping tests all walk it, so a new report is exported and scope-tested the day it is
added. A page's `build(user, query)` returns `Section`s: a title, headers, rows of plain values
(Decimal money, ints, text) and optionally a core.charts spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import charts
from reports import selectors as s
from reports.forms import MEASURES
from reports.selectors import DIMENSION_LABELS, TIME_GRAINS, ZERO

VIEW_SALES = "reports.view_salesday"
# Sales by product dimensions: suppliers hold this one (their products only), not VIEW_SALES.
VIEW_PRODUCT_SALES = "reports.view_productsalesday"
VIEW_PROFIT = "reports.view_profit"
CHART_ROWS = 20
WEEKDAYS = (
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
)


@dataclass
class Section:
    title: str
    headers: list
    rows: list
    chart: dict | None = None
    money_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class ReportPage:
    slug: str
    title: object
    permission: str
    build: Callable
    fields: tuple[str, ...]
    default_by: str = "day"
    default_measure: str = "net"  # the figure shown (and selected in the form) when none is asked for
    suppliers: bool = False  # a supplier sees it, for their products only
    max_days: int | None = None

    @property
    def url_name(self) -> str:
        return f"reports:{self.slug}"


def _figure_headers():
    return [
        _("Orders"),
        _("Units"),
        _("Gross sales"),
        _("Discounts"),
        _("Refunds"),
        _("Net sales"),
    ]


def _figures(row) -> list:
    return [row["orders"], row["quantity"], row["gross"], row["discounts"], row["refunds"], row["net"]]


def _labelled(rows, by) -> list[list]:
    """Each row's dimension labels (in `by` order), resolved with one query per dimension."""
    labels = {dim: s.labels_for(dim, [row["keys"][dim] for row in rows]) for dim in by}
    return [[labels[dim][row["keys"][dim]] for dim in by] for row in rows]


def _sort(rows, by):
    if by[0] in TIME_GRAINS:
        return sorted(rows, key=lambda row: tuple(str(row["keys"][d]).zfill(12) for d in by))
    return sorted(rows, key=lambda row: row["net"], reverse=True)


# --- Sales -----------------------------------------------------------------------------------
def build_sales(user, query: s.ReportQuery) -> list[Section]:
    if len(query.by) == 1 and query.by[0] in TIME_GRAINS:
        return _sales_over_time(user, query)
    rows = _sort(s.sales_rows(user, query), query.by)
    headers = [DIMENSION_LABELS[d] for d in query.by] + _figure_headers()
    labels = _labelled(rows, query.by)
    table = [label + _figures(row) for label, row in zip(labels, rows, strict=True)]
    chart = None
    if len(query.by) == 1:
        top = table[:CHART_ROWS]
        chart = charts.chart(
            "bar", [r[0] for r in top], [charts.series(_("Net sales"), [r[-1] for r in top])], money=True
        )
    title = " × ".join(str(DIMENSION_LABELS[d]) for d in query.by)
    return [Section(_("Sales by %(what)s") % {"what": title}, headers, table, chart, money_columns=(-4, -3, -2, -1))]


def _sales_over_time(user, query):
    grain = query.by[0]
    periods = s.sales_over_time(user, query)
    labels = s.labels_for(grain, [bucket for bucket, _row in periods["current"]])
    headers = [
        DIMENSION_LABELS[grain],
        *_figure_headers(),
        _("Previous period"),
        _("Change %"),
        _("Same period last year"),
        _("Change %"),
    ]
    table, current, previous, last_year = [], [], [], []
    for index, (bucket, row) in enumerate(periods["current"]):
        row = row or _empty()
        before = _pick(periods["previous"], index)["net"]
        year = _pick(periods["last_year"], index)["net"]
        table.append(
            [
                labels[bucket],
                *_figures(row),
                before,
                s.change_percent(row["net"], before),
                year,
                s.change_percent(row["net"], year),
            ]
        )
        current.append(row["net"])
        previous.append(before)
        last_year.append(year)
    chart = charts.chart(
        "line",
        [r[0] for r in table],
        [
            charts.series(_("Net sales"), current),
            charts.series(_("Previous period"), previous),
            charts.series(_("Same period last year"), last_year),
        ],
        money=True,
    )
    title = _("Sales by %(what)s") % {"what": DIMENSION_LABELS[grain]}
    return [Section(title, headers, table, chart, money_columns=(3, 4, 5, 6, 7, 9))]


def _empty():
    return {"orders": 0, "quantity": 0, "gross": ZERO, "discounts": ZERO, "refunds": ZERO, "net": ZERO}


def _pick(buckets, index):
    if index < len(buckets):
        return buckets[index][1] or _empty()
    return _empty()


# --- Rankings --------------------------------------------------------------------------------
def build_rankings(user, query) -> list[Section]:
    measure = query.extra.get("measure") or "net"
    sections = []
    supplier = s.supplier_products(user) is not None
    # A supplier's figures are of their products, not of the machines they sell in (no machine
    # ranking, and no per-machine slow movers: the planograms are the operator's).
    dimensions = ("product",) if supplier else ("product", "machine")
    for dimension in dimensions:
        ranked = s.ranking(user, query, dimension=dimension, measure=measure)
        for which, title in (
            ("top", _("Best-selling %(what)s")),
            ("bottom", _("Worst-selling %(what)s")),
        ):
            rows = ranked[which]
            labels = _labelled(rows, (dimension,))
            sections.append(
                Section(
                    title % {"what": str(DIMENSION_LABELS[dimension]).lower()},
                    [DIMENSION_LABELS[dimension], *_figure_headers()],
                    [label + _figures(row) for label, row in zip(labels, rows, strict=True)],
                    money_columns=(3, 4, 5, 6),
                )
            )
    if supplier:
        return sections
    slow = s.slow_movers(user, query)
    sections.append(
        Section(
            _("Slow movers per machine (candidates to replace)"),
            [_("Machine"), _("Product"), _("Units"), _("Net sales")],
            [[row["machine"], row["product"], row["quantity"], row["net"]] for row in slow],
            money_columns=(3,),
        )
    )
    return sections


# --- Payment methods, heat map, statuses -----------------------------------------------------
def build_payments(user, query) -> list[Section]:
    rows = s.payment_shares(user, query)
    table = [
        [s.method_label(row["keys"]["method"]), row["orders"], row["net"], row["fees"], row["share"]] for row in rows
    ]
    chart = charts.chart(
        "pie", [r[0] for r in table], [charts.series(_("Net sales"), [r[2] for r in table])], money=True
    )
    return [
        Section(
            _("Payment methods"),
            [_("Payment method"), _("Orders"), _("Net sales"), _("Payment fees"), _("Share %")],
            table,
            chart,
            money_columns=(2, 3),
        )
    ]


def build_heatmap(user, query) -> list[Section]:
    measure = query.extra.get("measure") or "orders"
    grid = s.hour_weekday(user, query, measure=measure)
    hours = [f"{hour:02d}" for hour in range(24)]
    chart = charts.chart(
        "heatmap",
        hours,
        [charts.series(dict(MEASURES)[measure], grid)],
        rows=[str(day) for day in WEEKDAYS],
        money=measure not in ("orders", "quantity"),
    )
    table = [[str(WEEKDAYS[i]), *grid[i]] for i in range(7)]
    return [Section(_("Sales by hour and weekday"), [_("Weekday"), *hours], table, chart)]


def build_statuses(user, query) -> list[Section]:
    from orders.models import OrderStatus

    days = s.orders_by_status(user, query)
    statuses = [code for code, _label in OrderStatus.choices]
    labels = dict(OrderStatus.choices)
    table = [
        [
            day["day"].isoformat(),
            *[day["statuses"].get(code, 0) for code in statuses],
            day["orders"],
            day["average_minutes"],
        ]
        for day in days
    ]
    chart = charts.chart(
        "bar",
        [row[0] for row in table],
        [charts.series(labels[code], [row[1 + i] for row in table]) for i, code in enumerate(statuses)],
        stack=True,
    )
    headers = [_("Day"), *[labels[code] for code in statuses], _("Orders"), _("Average minutes paid → completed")]
    return [Section(_("Orders by status"), headers, table, chart)]


# --- Profit and turnover ---------------------------------------------------------------------
def build_profit(user, query) -> list[Section]:
    rows = _sort(s.profit_rows(user, query), query.by)
    labels = _labelled(rows, query.by)
    table = [
        label + [row["net"], row["cost"], row["fees"], row["commissions"], row["profit"], row["margin"]]
        for label, row in zip(labels, rows, strict=True)
    ]
    headers = [DIMENSION_LABELS[d] for d in query.by] + [
        _("Net sales"),
        _("Cost of goods"),
        _("Payment fees"),
        _("Commissions"),
        _("Profit"),
        _("Margin %"),
    ]
    chart = None
    if len(query.by) == 1:
        top = table[:CHART_ROWS] if query.by[0] not in TIME_GRAINS else table
        chart = charts.chart(
            "bar",
            [r[0] for r in top],
            [charts.series(_("Net sales"), [r[-6] for r in top]), charts.series(_("Profit"), [r[-2] for r in top])],
            money=True,
        )
    n = len(query.by)
    return [Section(_("Profit"), headers, table, chart, money_columns=tuple(range(n, n + 5)))]


def build_turnover(user, query) -> list[Section]:
    products = s.product_turnover(user, query)
    names = s.labels_for("product", [row["product_id"] for row in products])
    product_rows = [
        [
            names[row["product_id"]],
            row["quantity"],
            row["net"],
            row["average_stock"],
            row["closing_stock"],
            row["turnover"],
            row["days_of_supply"],
            row["sell_through"],
        ]
        for row in products
    ]
    slots = s.slot_stockouts(user, query)
    slot_rows = [
        [
            row["machine"],
            row["slot"],
            row["product"],
            row["units"],
            row["empty_hours"],
            row["lost_units"],
            row["lost_sales"],
        ]
        for row in slots
    ]
    return [
        Section(
            _("Product turnover"),
            [
                _("Product"),
                _("Units sold"),
                _("Net sales"),
                _("Average stock"),
                _("Stock at the end"),
                _("Turnover"),
                _("Days of supply"),
                _("Sell-through %"),
            ],
            product_rows,
            money_columns=(2,),
        ),
        Section(
            _("Stock-outs per slot"),
            [
                _("Machine"),
                _("Slot"),
                _("Product"),
                _("Units sold"),
                _("Hours empty"),
                _("Units probably lost"),
                _("Sales probably lost"),
            ],
            slot_rows,
            money_columns=(6,),
        ),
    ]


PLACE_FILTERS = ("region", "site", "machine", "kind", "channel", "method")
PRODUCT_FILTERS = ("product", "category", "brand")
REPORT_PAGES = [
    ReportPage(
        "sales",
        gettext_lazy("Sales"),
        VIEW_PRODUCT_SALES,
        build_sales,
        ("by", "then", *PLACE_FILTERS, *PRODUCT_FILTERS),
        suppliers=True,
    ),
    ReportPage(
        "rankings",
        gettext_lazy("Rankings"),
        VIEW_PRODUCT_SALES,
        build_rankings,
        ("measure", *PLACE_FILTERS, *PRODUCT_FILTERS),
        suppliers=True,
    ),
    ReportPage("payments", gettext_lazy("Payment methods"), VIEW_SALES, build_payments, PLACE_FILTERS),
    ReportPage(
        "heatmap",
        gettext_lazy("Hours and weekdays"),
        VIEW_SALES,
        build_heatmap,
        ("measure", *PLACE_FILTERS),
        default_measure="orders",
        max_days=s.MAX_DAYS["default"],
    ),
    ReportPage("statuses", gettext_lazy("Orders by status"), VIEW_SALES, build_statuses, PLACE_FILTERS[:-1]),
    ReportPage(
        "profit",
        gettext_lazy("Profit"),
        VIEW_PROFIT,
        build_profit,
        ("by", "then", *PLACE_FILTERS, *PRODUCT_FILTERS),
    ),
    ReportPage(
        "turnover",
        gettext_lazy("Turnover and stock-outs"),
        VIEW_PROFIT,
        build_turnover,
        ("region", "site", "machine", "product"),
        max_days=s.TURNOVER_MAX_DAYS,
    ),
]
PAGES_BY_SLUG = {page.slug: page for page in REPORT_PAGES}


def page_query(page: ReportPage, form) -> s.ReportQuery:
    """The form's checked query for `page` (ReportError otherwise)."""
    query = form.report_query(max_days=page.max_days)
    if "by" not in page.fields:
        query = replace(query, by=(page.default_by,))
    measure = form.cleaned_data.get("measure")
    if measure:
        query = replace(query, extra={**query.extra, "measure": measure})
    return query
