"""The commissions of the profit report (reports.selectors.profit_rows): what the revenue partners
earned on the orders of each group, net of what refunds reversed. Registered from
ReportsConfig.ready() (reports comes after accounting) with
reports.selectors.commission_source_register.

Shares are computed per order (ADR 21), not per product or payment, so they are attributed to the
groups an order belongs to — its day (the day it was placed, as the roll-ups count sales), week,
month, year, machine, site, region, order kind and channel. A report grouped or filtered by product,
category, brand, payment method or hour cannot split an order's shares and shows them as zero; the
profit page says so (reports/templates)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

ORDER_COLUMN = {
    "machine": "order__device_id",
    "site": "order__site_id",
    "region": "order__region_id",
    "kind": "order__kind",
    "channel": "order__channel",
}
TIME = ("day", "week", "month", "year")
ATTRIBUTABLE = (*TIME, *ORDER_COLUMN)
FILTERS = {"region": "order__region", "site": "order__site", "machine": "order__device"}


def attributable(query) -> bool:
    if any(dim not in ATTRIBUTABLE for dim in query.by):
        return False
    return not any(getattr(query, name) for name in ("product", "category", "brand", "method"))


def _period(day: datetime.date, grain: str) -> datetime.date:
    if grain == "week":
        return day - datetime.timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "year":
        return day.replace(month=1, day=1)
    return day


def commissions_by_group(*, user, query, rows) -> dict[tuple, Decimal]:
    from accounting.models import Accrual
    from orders.models import Order

    if not attributable(query):
        return {}
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.datetime.combine(query.date_from, datetime.time.min), zone)
    end = timezone.make_aware(
        datetime.datetime.combine(query.date_to + datetime.timedelta(days=1), datetime.time.min), zone
    )
    accruals = Accrual.objects.filter(
        order__in=Order.objects.restrict(user).filter(created_at__gte=start, created_at__lt=end)
    )
    for name, lookup in FILTERS.items():
        value = getattr(query, name)
        if value:
            accruals = accruals.filter(**{lookup: value})
    for name in ("kind", "channel"):
        if getattr(query, name):
            accruals = accruals.filter(**{f"order__{name}": getattr(query, name)})
    columns = [ORDER_COLUMN[dim] for dim in query.by if dim in ORDER_COLUMN]
    grouped = (
        accruals.annotate(placed=TruncDate("order__created_at", tzinfo=zone))
        .values("placed", *columns)
        .annotate(total=Sum(F("amount") - F("reversed_amount")))
        .order_by()
    )
    result: dict[tuple, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for row in grouped:
        key = tuple(_period(row["placed"], dim) if dim in TIME else row[ORDER_COLUMN[dim]] for dim in query.by)
        result[key] += row["total"] or Decimal("0.00")
    return dict(result)
