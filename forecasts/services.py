"""Refitting every machine slot's forecast from the sales roll-ups, with the fallbacks.

History is `reports.ProductSalesDay`: units per machine × product × day, already summed by the
roll-ups (docs/adr/0029-slot-demand-forecasts.md says why not the stock movements). A slot is a
stock level at an active machine-slot location; when a machine has two slots of one product, the
units are shared between them equally. The forecasts start today; history ends yesterday.

A slot the engine could not forecast (too little history, or no model produced a number) gets
its product's average slot forecast across the fleet, else its site's average slot forecast,
else zero ("no history"), with the reason stored, so the page says what it shows.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from forecasts.models import SlotForecast
from inventory.models import StockLevel, StockLocation

logger = logging.getLogger(__name__)

HISTORY_DAYS = 2 * 365


@dataclass
class RefitSummary:
    series: int
    fitted: int
    fallback: int
    seconds: float


def slot_levels():
    return (
        StockLevel.objects.filter(
            location__kind=StockLocation.Kind.SLOT,
            location__is_active=True,
            location__device__isnull=False,
        )
        .select_related("location")
        .order_by("pk")
    )


def slot_history(levels, *, end: datetime.date, days: int = HISTORY_DAYS) -> dict[int, tuple[datetime.date, list]]:
    """Daily units per stock level id, from its first day with a sale to `end` (inclusive)."""
    from reports.models import ProductSalesDay

    by_pair = defaultdict(list)
    for level in levels:
        by_pair[(level.location.device_id, level.product_id)].append(level.pk)
    if not by_pair:
        return {}
    start = end - datetime.timedelta(days=days - 1)
    rows = (
        ProductSalesDay.objects.filter(
            day__gte=start,
            day__lte=end,
            device_id__in={device for device, _ in by_pair},
            product_id__in={product for _, product in by_pair},
        )
        .values("device_id", "product_id", "day")
        .annotate(units=Sum("quantity"))
    )
    units = defaultdict(dict)
    for row in rows:
        pair = (row["device_id"], row["product_id"])
        if pair in by_pair and row["units"]:
            units[pair][row["day"]] = row["units"]
    history = {}
    for pair, level_ids in by_pair.items():
        days_sold = units.get(pair)
        if not days_sold:
            continue
        first = min(days_sold)
        length = (end - first).days + 1
        series = [0.0] * length
        for day, value in days_sold.items():
            series[(day - first).days] = max(float(value), 0.0) / len(level_ids)
        for level_id in level_ids:
            history[level_id] = (first, series)
    return history


def _average(rows: list[list[float]], horizon: int) -> list[float]:
    return [round(sum(r[i] for r in rows) / len(rows), 3) for i in range(horizon)] if rows else [0.0] * horizon


@transaction.atomic
def forecasts_store(*, levels, results: dict, start: datetime.date, horizon: int) -> RefitSummary:
    """Replace the stored forecasts of `levels` with `results` (engine output), falling back for the
    slots without a fitted forecast."""
    from forecasts import engine

    now = timezone.now()
    fitted = {key: r for key, r in results.items() if r.status == "fitted"}
    by_product, by_site = defaultdict(list), defaultdict(list)
    for level in levels:
        result = fitted.get(level.pk)
        if result is not None:
            by_product[level.product_id].append(result)
            by_site[level.location.site_id].append(result)
    rows = []
    for level in levels:
        result = results.get(level.pk)
        common = {
            "level": level,
            "site_id": level.location.site_id,
            "device_id": level.location.device_id,
            "product_id": level.product_id,
            "start": start,
            "fitted_at": now,
            "history_days": result.history_days if result else 0,
        }
        if result is not None and result.status == "fitted":
            rows.append(
                SlotForecast(
                    **common,
                    basis=SlotForecast.Basis.MODEL,
                    model=result.model,
                    mean=result.mean,
                    point=result.point,
                    held_out=result.held_out,
                    low=result.low,
                    high=result.high,
                    backtest_windows=result.windows,
                    backtest_days=result.scored_days,
                    abs_error=result.abs_error,
                    naive_abs_error=result.naive_abs_error,
                    actual=result.actual,
                    scale=result.scale,
                    mase=result.mase,
                    naive_mase=result.naive_mase,
                    wape=result.wape,
                    naive_wape=result.naive_wape,
                )
            )
            continue
        reason = (
            SlotForecast.Reason.FAILED
            if result is not None and result.status == "failed"
            else SlotForecast.Reason.SHORT
        )
        peers = by_product.get(level.product_id) or by_site.get(level.location.site_id)
        if by_product.get(level.product_id):
            basis = SlotForecast.Basis.PRODUCT_AVERAGE
        elif peers:
            basis = SlotForecast.Basis.SITE_AVERAGE
        else:
            basis = SlotForecast.Basis.NONE
        peers = peers or []
        mean = _average([p.mean for p in peers], horizon)
        rows.append(
            SlotForecast(
                **common,
                basis=basis,
                reason=reason,
                mean=mean,
                point=[float(v) for v in engine.median(mean, 0.0)],
                low=_average([p.low for p in peers], horizon),
                high=_average([p.high for p in peers], horizon),
            )
        )
    # All of them, so slots no longer active lose their forecast too; readers see the old rows
    # until this transaction commits.
    SlotForecast.objects.all().delete()
    SlotForecast.objects.bulk_create(rows, batch_size=1000)
    return RefitSummary(series=len(rows), fitted=len(fitted), fallback=len(rows) - len(fitted), seconds=0.0)


def forecasts_refit(*, today: datetime.date | None = None, n_jobs: int = 1, models=None) -> RefitSummary:
    """Refit every active machine slot: history up to yesterday, forecasts from `today`."""
    from forecasts import engine  # numpy and pandas: loaded by the refit, not by every process

    began = time.perf_counter()
    today = today or timezone.localdate()
    end = today - datetime.timedelta(days=1)
    levels = list(slot_levels())
    history = slot_history(levels, end=end)
    results = engine.forecast_fleet(history, end=end, horizon=engine.HORIZON, n_jobs=n_jobs, models=models)
    summary = forecasts_store(levels=levels, results=results, start=today, horizon=engine.HORIZON)
    summary.seconds = time.perf_counter() - began
    logger.info("forecasts refit: %s", summary)
    return summary
