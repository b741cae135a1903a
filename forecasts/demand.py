"""The forecasts as the replenishment planner reads them (vending.replenishment registers
`slot_demand` as its demand source in ForecastsConfig.ready)."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext, gettext_lazy

from forecasts.models import SlotForecast

# Past the stored horizon a day is expected like the same weekday of the last stored week.
WEEK = 7


# The engine's model names as the pages show them: the intermittent-demand methods keep their
# authors' names (as ETS or MASE do); the plain ones are said in words.
MODEL_LABELS = {
    "SES": gettext_lazy("exponential smoothing"),
    "Mean28": gettext_lazy("28-day mean"),
}


def model_label(name: str) -> str:
    return str(MODEL_LABELS.get(name, name))


def basis_label(forecast: SlotForecast) -> str:
    """What a forecast is based on, in the reader's language: "forecast (TSB, MASE 0.62)",
    "product average, too little history"."""
    if forecast.basis == SlotForecast.Basis.MODEL:
        if forecast.mase is None:
            return gettext("forecast (%(model)s)") % {"model": model_label(forecast.model)}
        return gettext("forecast (%(model)s, MASE %(mase).2f)") % {
            "model": model_label(forecast.model),
            "mase": forecast.mase,
        }
    reason = forecast.get_reason_display() if forecast.reason else gettext("too little history")
    if forecast.basis == SlotForecast.Basis.PRODUCT_AVERAGE:
        return gettext("product average, %(reason)s") % {"reason": reason}
    if forecast.basis == SlotForecast.Basis.SITE_AVERAGE:
        return gettext("site average, %(reason)s") % {"reason": reason}
    if forecast.reason == SlotForecast.Reason.FAILED:
        return gettext("no forecast, the model could not be fitted")
    return gettext("no sales history yet")


def basis_group(forecast: SlotForecast) -> str:
    """The basis without the slot's own error: "forecast (TSB)", to count slots by it."""
    if forecast.basis == SlotForecast.Basis.MODEL:
        return gettext("forecast (%(model)s)") % {"model": model_label(forecast.model)}
    return basis_label(forecast)


def _window(values: list[float], offset: int, days: int) -> list[float]:
    out = []
    for i in range(offset, offset + days):
        if not values:
            out.append(0.0)
        elif 0 <= i < len(values):
            out.append(float(values[i]))
        elif i < 0:
            out.append(float(values[i % WEEK]))
        else:
            last_week = values[-WEEK:] if len(values) >= WEEK else values
            base = len(values) - len(last_week)
            out.append(float(last_week[(i - base) % len(last_week)]))
    return out


def slot_demand(levels, start: datetime.date, days: int) -> dict[int, dict]:
    """For each stock level (or id) with a stored forecast: expected units per day from `start`
    for `days` days, the interval's upper bound, and what it is based on (the slot's label, the
    group it is counted in, its MASE). Levels without a stored
    forecast (none refitted yet) are left out: the caller falls back to its own rule."""
    ids = [getattr(level, "pk", level) for level in levels]
    result = {}
    for forecast in SlotForecast.objects.filter(level_id__in=ids):
        offset = (start - forecast.start).days
        result[forecast.level_id] = {
            "mean": _window(forecast.mean, offset, days),
            "high": _window(forecast.high, offset, days),
            "basis": basis_label(forecast),
            "group": basis_group(forecast),
            "mase": forecast.mase,
        }
    return result
