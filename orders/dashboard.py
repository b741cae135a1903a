"""Dashboard figures from the order spine: sales against yesterday and last week, by region, the
last fortnight, and the finance cards (takings by method and region, refunds, fees).

Selectors take a queryset already restricted to the viewer (`Order.objects.restrict(user)`) and
a time range; every filter is a range on an indexed timestamp (`created_at` of orders,
`collected_at` of payments), so the same functions can later read the daily roll-ups.

"Sales" are the amounts paid for orders placed in the window, wallet top-ups excepted (stored
value is not a sale); "takings" are the payments collected in the window, whatever was bought.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core import charts
from core.dashboard import (
    LIVE_ORDERS,
    card_register,
    compare_rows,
    comparison_windows,
    day_range,
    recent_days,
)
from orders.models import ZERO, Order, OrderKind, Payment, Refund
from staff.roles import FINANCE, PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER

TREND_DAYS = 14  # two weeks: the same weekday twice, enough to see a week's shape


# --- Selectors -----------------------------------------------------------------------------------
def sales_orders(orders):
    """Orders that count as sales: paid something, not a wallet top-up."""
    return orders.filter(paid_amount__gt=0).exclude(kind=OrderKind.RECHARGE)


def sales_between(orders, start, end) -> tuple[Decimal, int]:
    row = (
        sales_orders(orders)
        .filter(created_at__gte=start, created_at__lt=end)
        .aggregate(total=Sum("paid_amount"), n=Count("pk"))
    )
    return row["total"] or ZERO, row["n"]


def sales_by_region(orders, windows) -> list[dict]:
    """Per region (the order's own region), the sales of each window: one query, the windows'
    ranges ORed so the `created_at` index serves them."""
    ranges = [Q(created_at__gte=w.start, created_at__lt=w.end) for w in windows]
    either = ranges[0]
    for q in ranges[1:]:
        either |= q
    sums = {f"w{i}": Sum("paid_amount", filter=q) for i, q in enumerate(ranges)}
    rows = (
        sales_orders(orders).filter(either).values("region", "region__name").annotate(**sums).order_by("region__name")
    )
    return [
        {"region": row["region__name"], "values": [row[f"w{i}"] or ZERO for i in range(len(windows))]} for row in rows
    ]


def sales_by_day(orders, days) -> list[Decimal]:
    """The sales of each of `days` (consecutive local dates), one query over their range."""
    start, _end = day_range(days[0])
    _start, end = day_range(days[-1])
    tz = timezone.get_current_timezone()
    per_day = dict(
        sales_orders(orders)
        .filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(amount=Sum("paid_amount"))
        .values_list("day", "amount")
        .order_by()
    )
    return [per_day.get(day) or ZERO for day in days]


def latest_sale_at(orders):
    return sales_orders(orders).order_by("-created_at").values_list("created_at", flat=True).first()


def takings_between(payments, start, end, *, by: str | None = None):
    """Succeeded payments collected in the window: the total and fees, or per `by` field."""
    rows = payments.filter(status=Payment.Status.SUCCEEDED, collected_at__gte=start, collected_at__lt=end)
    if by is None:
        row = rows.aggregate(total=Sum("amount"), fees=Sum("fee"), n=Count("pk"))
        return {"amount": row["total"] or ZERO, "fee": row["fees"] or ZERO, "count": row["n"]}
    return [
        {by: row[by], "amount": row["total"] or ZERO, "fee": row["fees"] or ZERO, "count": row["n"]}
        for row in rows.values(by).annotate(total=Sum("amount"), fees=Sum("fee"), n=Count("pk")).order_by("-total", by)
    ]


def refunds_between(refunds, start, end) -> dict:
    row = refunds.filter(status=Refund.Status.SUCCEEDED, created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("amount"), n=Count("pk")
    )
    return {"amount": row["total"] or ZERO, "count": row["n"]}


def _orders_url(day) -> str:
    return f"{reverse('orders:order-list')}?since={day:%Y-%m-%d}&until={day:%Y-%m-%d}"


def _method_labels() -> dict[str, str]:
    from orders.payments import _REGISTRY

    return {code: str(provider.label) for code, provider in _REGISTRY.items()}


# --- Cards ---------------------------------------------------------------------------------------
ADMINS = {PLATFORM_ADMIN, REGIONAL_ADMIN}


def card_sales_today(user, now):
    orders = Order.objects.restrict(user)
    windows = comparison_windows(now)
    figures = [sales_between(orders, w.start, w.end) for w in windows]
    amounts = [amount for amount, _count in figures]
    card = {
        "title": _("Sales today"),
        "value": amounts[0],
        "money": True,
        "url": _orders_url(timezone.localdate(now)),
        "hint": _("%(count)s paid orders") % {"count": figures[0][1]},
        "compare": compare_rows(amounts, windows),
        "figures": {"today": amounts[0], "yesterday": amounts[1], "last_week": amounts[2], "orders": figures[0][1]},
    }
    if not figures[0][1]:
        latest = latest_sale_at(orders)
        card["hint"] = (
            _("No sales yet today; the latest was on %(date)s.")
            % {"date": date_format(timezone.localtime(latest), "SHORT_DATETIME_FORMAT")}
            if latest
            else _("No sales yet.")
        )
    return card


def card_sales_by_region(user, now):
    windows = comparison_windows(now)
    rows = sales_by_region(Order.objects.restrict(user), windows)
    spec = charts.chart(
        "bar",
        [row["region"] for row in rows],
        [charts.series(w.label, [row["values"][i] for row in rows]) for i, w in enumerate(windows)],
        money=True,
    )
    return {
        "title": _("Sales by region"),
        "value": None,
        "url": reverse("orders:order-list"),
        "chart": spec,
        "empty": _("No sales in these windows.") if not rows else "",
        "wide": True,
        "figures": {row["region"]: row["values"][0] for row in rows},
    }


def card_sales_trend(user, now):
    days = recent_days(now, TREND_DAYS)
    amounts = sales_by_day(Order.objects.restrict(user), days)
    spec = charts.chart(
        "line",
        [date_format(day, "SHORT_DATE_FORMAT") for day in days],
        [charts.series(_("Sales"), amounts)],
        money=True,
    )
    return {
        "title": _("Sales, last %(days)s days") % {"days": TREND_DAYS},
        "value": sum(amounts, ZERO),
        "money": True,
        "url": f"{reverse('orders:order-list')}?since={days[0]:%Y-%m-%d}",
        "chart": spec,
        "wide": True,
        "figures": {"total": sum(amounts, ZERO)},
    }


def card_takings_by_method(user, now):
    start, _end = day_range(timezone.localdate(now))
    rows = takings_between(Payment.objects.restrict(user), start, now, by="provider")
    labels = _method_labels()
    total = sum((row["amount"] for row in rows), ZERO)
    return {
        "title": _("Takings today by method"),
        "value": total,
        "money": True,
        "url": _orders_url(timezone.localdate(now)),
        "chart": charts.chart(
            "pie",
            [labels.get(row["provider"], row["provider"]) for row in rows],
            [charts.series(_("Takings"), [row["amount"] for row in rows])],
            money=True,
        )
        if rows
        else None,
        "rows": [
            {"label": labels.get(row["provider"], row["provider"]), "value": row["amount"], "money": True}
            for row in rows
        ],
        "empty": _("Nothing collected yet today.") if not rows else "",
        "figures": {"total": total, **{row["provider"]: row["amount"] for row in rows}},
    }


def card_takings_by_region(user, now):
    start, _end = day_range(timezone.localdate(now))
    rows = takings_between(Payment.objects.restrict(user), start, now, by="order__region__name")
    return {
        "title": _("Takings today by region"),
        "value": None,
        "url": _orders_url(timezone.localdate(now)),
        "chart": charts.chart(
            "bar",
            [row["order__region__name"] for row in rows],
            [
                charts.series(_("Takings"), [row["amount"] for row in rows]),
                charts.series(_("Fees"), [row["fee"] for row in rows]),
            ],
            money=True,
        )
        if rows
        else None,
        "empty": _("Nothing collected yet today.") if not rows else "",
        "wide": True,
        "figures": {row["order__region__name"]: row["amount"] for row in rows},
    }


def card_refunds_today(user, now):
    start, _end = day_range(timezone.localdate(now))
    row = refunds_between(Refund.objects.restrict(user), start, now)
    return {
        "title": _("Refunds today"),
        "value": row["amount"],
        "money": True,
        "url": _orders_url(timezone.localdate(now)) + "&status=refunded",
        "hint": _("%(count)s refunds") % {"count": row["count"]},
        "tone": "warn" if row["count"] else "",
        "figures": {"amount": row["amount"], "count": row["count"]},
    }


def card_fees_today(user, now):
    start, _end = day_range(timezone.localdate(now))
    row = takings_between(Payment.objects.restrict(user), start, now)
    return {
        "title": _("Payment fees today"),
        "value": row["fee"],
        "money": True,
        "url": _orders_url(timezone.localdate(now)),
        "hint": _("on %(count)s payments") % {"count": row["count"]},
        "figures": {"fee": row["fee"], "payments": row["count"]},
    }


card_register(
    key="sales-today",
    order=100,
    roles=ADMINS | {FINANCE},
    permission="orders.view_order",
    build=card_sales_today,
    live=LIVE_ORDERS,
)
card_register(
    key="sales-by-region",
    order=110,
    roles=ADMINS,
    permission="orders.view_order",
    build=card_sales_by_region,
    live=LIVE_ORDERS,
)
card_register(
    key="takings-by-method",
    order=300,
    roles={FINANCE, STORE_MANAGER},
    permission="orders.view_payment",
    build=card_takings_by_method,
    live=LIVE_ORDERS,
)
card_register(
    key="takings-by-region",
    order=310,
    roles={FINANCE},
    permission="orders.view_payment",
    build=card_takings_by_region,
    live=LIVE_ORDERS,
)
card_register(
    key="refunds-today",
    order=320,
    roles={FINANCE, STORE_MANAGER},
    permission="orders.view_refund",
    build=card_refunds_today,
    live=LIVE_ORDERS,
)
card_register(key="fees-today", order=330, roles={FINANCE}, permission="orders.view_payment", build=card_fees_today)
# Order FINANCE_COMMISSIONS_ORDER (between fees and the trend) is kept for the accounting app's
# commission card.
card_register(
    key="sales-trend",
    order=900,
    roles=ADMINS | {FINANCE, STORE_MANAGER},
    permission="orders.view_order",
    build=card_sales_trend,
)
