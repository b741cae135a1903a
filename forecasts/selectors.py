"""Reads for the forecast pages and API: stored forecasts scoped to the caller, the fleet's (or a
machine's, a product's) accuracy, and the chart of history, forecast and interval."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Sum
from django.utils.translation import gettext, pgettext

from core import charts
from forecasts.models import SlotForecast

HISTORY_SHOWN_DAYS = 56


def forecast_list(*, user):
    return SlotForecast.objects.restrict(user).select_related("device", "product", "site", "level__location")


@dataclass
class Accuracy:
    series: int
    fitted: int
    scored: int
    mase: float | None
    naive_mase: float | None
    wape: float | None
    naive_wape: float | None
    # Fitted series whose model was chosen on the scored weeks (too young to choose before them).
    in_sample: int = 0

    @property
    def fallback(self) -> int:
        return self.series - self.fitted

    @property
    def wape_percent(self) -> float | None:
        return None if self.wape is None else 100 * self.wape

    @property
    def naive_wape_percent(self) -> float | None:
        return None if self.naive_wape is None else 100 * self.naive_wape

    @property
    def beats_naive(self) -> bool | None:
        if self.mase is None or self.naive_mase is None:
            return None
        return self.mase < self.naive_mase


def accuracy(forecasts) -> Accuracy:
    """MASE: the mean over fitted series of each one's backtest MASE (series that never sold in
    their training weeks have no scale and are left out); WAPE: the fleet's absolute error over
    the units sold, on the same backtest days, for the chosen models and for seasonal naive. The
    chosen models are scored by their median point forecast (docs/adr/0029)."""
    forecasts = list(forecasts)
    fitted = [f for f in forecasts if f.basis == SlotForecast.Basis.MODEL]
    scored = [f for f in fitted if f.mase is not None and f.naive_mase is not None]
    actual = sum(f.actual for f in fitted)
    return Accuracy(
        series=len(forecasts),
        fitted=len(fitted),
        scored=len(scored),
        mase=sum(f.mase for f in scored) / len(scored) if scored else None,
        naive_mase=sum(f.naive_mase for f in scored) / len(scored) if scored else None,
        wape=sum(f.abs_error for f in fitted) / actual if actual else None,
        naive_wape=sum(f.naive_abs_error for f in fitted) / actual if actual else None,
        in_sample=sum(1 for f in fitted if not f.held_out),
    )


def sold_by_day(*, pairs: set[tuple[int, int]], start: datetime.date, end: datetime.date) -> dict:
    """Units sold per day by the machine × product pairs, from the sales roll-ups."""
    from reports.models import ProductSalesDay

    if not pairs:
        return {}
    rows = (
        ProductSalesDay.objects.filter(
            day__gte=start,
            day__lte=end,
            device_id__in={d for d, _ in pairs},
            product_id__in={p for _, p in pairs},
        )
        .values("device_id", "product_id", "day")
        .annotate(units=Sum("quantity"))
    )
    sold = defaultdict(float)
    for row in rows:
        if (row["device_id"], row["product_id"]) in pairs:
            sold[row["day"]] += float(row["units"] or 0)
    return sold


def forecast_chart(forecasts) -> dict | None:
    """History (the last 8 weeks sold), the forecast and its interval, summed over `forecasts`
    (one slot, a machine's slots, a product's slots). Summed interval bounds are wider than the
    sum's own interval: a cautious bound, which is what a restock plan wants."""
    forecasts = list(forecasts)
    if not forecasts:
        return None
    start = min(f.start for f in forecasts)
    horizon = max(len(f.mean) for f in forecasts)
    history_start = start - datetime.timedelta(days=HISTORY_SHOWN_DAYS)
    # Two slots of one product in one machine share its roll-up: count the pair once.
    pairs = {(f.device_id, f.product_id) for f in forecasts}
    slots_per_pair = defaultdict(int)
    for f in SlotForecast.objects.filter(device_id__in={d for d, _ in pairs}, product_id__in={p for _, p in pairs}):
        if (f.device_id, f.product_id) in pairs:
            slots_per_pair[(f.device_id, f.product_id)] += 1
    share = 1.0
    if len(forecasts) == 1 and slots_per_pair[(forecasts[0].device_id, forecasts[0].product_id)] > 1:
        share = 1.0 / slots_per_pair[(forecasts[0].device_id, forecasts[0].product_id)]
    sold = sold_by_day(pairs=pairs, start=history_start, end=start - datetime.timedelta(days=1))
    days = [history_start + datetime.timedelta(days=i) for i in range(HISTORY_SHOWN_DAYS + horizon)]

    def summed(attr, i):
        return round(sum((getattr(f, attr)[i] if i < len(getattr(f, attr)) else 0.0) for f in forecasts), 2)

    history, mean, low, high = [], [], [], []
    for day in days:
        i = (day - start).days
        if i < 0:
            history.append(round(sold.get(day, 0.0) * share, 2))
            mean.append(None)
            low.append(None)
            high.append(None)
        else:
            history.append(None)
            mean.append(summed("mean", i))
            low.append(summed("low", i))
            high.append(summed("high", i))
    return charts.chart(
        "line",
        [day.isoformat() for day in days],
        [
            charts.series(gettext("Sold"), history),
            charts.series(gettext("Forecast"), mean),
            charts.series(gettext("Interval low (80%)"), low),
            charts.series(gettext("Interval high (80%)"), high),
        ],
        unit=pgettext("after a count on a chart axis", "units"),
    )


def machine_rows(forecasts) -> list[dict]:
    """Per machine: slots, the next 14 days' units, slots on a fallback, accuracy."""
    grouped = defaultdict(list)
    for f in forecasts:
        grouped[f.device].append(f)
    rows = []
    for device, items in grouped.items():
        rows.append(
            {
                "device": device,
                "site": items[0].site,
                "units": round(sum(f.total for f in items), 1),
                "accuracy": accuracy(items),
            }
        )
    return sorted(rows, key=lambda r: (-r["units"], r["device"].name))


def product_rows(forecasts) -> list[dict]:
    grouped = defaultdict(list)
    for f in forecasts:
        grouped[f.product].append(f)
    rows = [
        {"product": product, "units": round(sum(f.total for f in items), 1), "accuracy": accuracy(items)}
        for product, items in grouped.items()
    ]
    return sorted(rows, key=lambda r: (-r["units"], r["product"].name))
