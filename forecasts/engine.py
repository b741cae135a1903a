"""The forecasting itself, without Django: daily demand series in, 14-day forecasts out, each from
the model its own rolling-origin backtest chose (docs/adr/0029-slot-demand-forecasts.md).

How one refit goes, for every series at once:
1. Calendar: each day is a weekday (Monday..Sunday), a Chinese public holiday (with the weekend
   days of the same break), or a make-up working day (`holidays` CN). Each series gets a factor per
   day type — its own ratio of units to its 28-day local level, shrunk towards the fleet's pooled
   factors when it sold too few units to tell — and the models see demand divided by that factor.
2. Point forecast for accuracy: every model forecasts the mean; MASE and WAPE score absolute
   errors, whose best point forecast is the median of the predictive distribution, not the mean.
   The distribution is negative binomial around the model's mean, its dispersion estimated per
   series (moments around the 28-day level × day factor; Poisson when no overdispersion). For a
   slow mover expected to sell 0.3 a day the median is 0. The mean (and the interval) is what
   planning reads; the median is what is scored.
3. Backtest, twice, each with rolling origins every `HORIZON` days over 8 weeks, and seasonal
   naive (the same weekday of the last week before the origin) on the same days:
   - selection: every candidate model (Croston, SBA, TSB, ADIDA, IMAPA, simple exponential
     smoothing, the 28-day mean) on the 8 weeks before the last 8; each series keeps the one
     whose median had the smallest absolute error;
   - scoring: that model alone on the last `BACKTEST_DAYS` (8 weeks). These are the figures
     stored and shown: chosen on weeks they do not score, so not optimistic by the choice.
   A series too young for a selection window chooses and is scored on the last 8 weeks
   (`held_out` False). Calendar factors and dispersion come from the days before each backtest.
4. The chosen model forecasts the next `HORIZON` days; the interval is the 10th..90th percentile
   of its scoring-backtest errors around the mean (split conformal), per unit of day factor.

A series with fewer than `MIN_HISTORY_DAYS` of history is "short"; one whose models produce no
number is "failed". The caller falls back for those and says so.
"""

from __future__ import annotations

import datetime
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

HORIZON = 14
BACKTEST_DAYS = 56  # the last 8 weeks: 4 rolling origins of 14 days
MIN_TRAIN_DAYS = 28  # four of each weekday before the first origin
MIN_HISTORY_DAYS = MIN_TRAIN_DAYS + HORIZON
# Models fit on the last year at most: older days barely move a smoothing model and cost time;
# the calendar factors still use the whole history (two Spring Festivals say more than one).
FIT_DAYS = 364
LEVEL_WINDOW = 28
# Expected units (at the local level) a day type needs before the series' own factor outweighs
# the fleet's: a slow mover that sold 3 cans on holidays has no holiday effect of its own yet.
SHRINK_UNITS = 20.0
FACTOR_FLOOR = 0.05
INTERVAL = (0.10, 0.90)
MAX_OVERDISPERSION = 2.0

WEEKDAYS = 7
HOLIDAY = 7
MAKEUP_WORKDAY = 8
DAY_TYPES = 9


def candidate_models():
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonClassic,
        CrostonSBA,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    return [
        CrostonClassic(alias="Croston"),
        CrostonSBA(alias="SBA"),
        TSB(alpha_d=0.2, alpha_p=0.2, alias="TSB"),
        ADIDA(alias="ADIDA"),
        IMAPA(alias="IMAPA"),
        # For busy slots: exponential smoothing (ETS(A,N,N), alpha fitted) and the last four
        # weeks' mean. No seasonal or trend terms: the weekly and holiday shape is the calendar
        # factors' job, and AutoETS's full search cost 14x as much for no gain in the bench.
        SimpleExponentialSmoothingOptimized(alias="SES"),
        WindowAverage(window_size=28, alias="Mean28"),
    ]


@dataclass
class SeriesForecast:
    key: int
    status: str  # "fitted", "short", "failed"
    model: str = ""
    mean: list[float] = field(default_factory=list)
    # The point forecast scored for accuracy: the median of the predictive distribution.
    point: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    history_days: int = 0
    windows: int = 0
    # Backtest sums over the scored days: |error| of the chosen model's point forecast (median)
    # and of seasonal naive, the actual units, and the in-sample seasonal naive MAE that scales
    # MASE; for comparison, |error| of the chosen model's mean. `held_out`: the model was chosen
    # on the weeks before the scored ones (False: on the scored weeks, too little history).
    abs_error: float = 0.0
    mean_abs_error: float = 0.0
    held_out: bool = False
    naive_abs_error: float = 0.0
    actual: float = 0.0
    scored_days: int = 0
    scale: float = 0.0

    @property
    def mase(self) -> float | None:
        return _ratio(self.abs_error, self.scale * self.scored_days)

    @property
    def naive_mase(self) -> float | None:
        return _ratio(self.naive_abs_error, self.scale * self.scored_days)

    @property
    def wape(self) -> float | None:
        return _ratio(self.abs_error, self.actual)

    @property
    def naive_wape(self) -> float | None:
        return _ratio(self.naive_abs_error, self.actual)


def _ratio(a: float, b: float) -> float | None:
    return float(a / b) if b > 0 else None


def day_types(days: pd.DatetimeIndex) -> np.ndarray:
    """0..6 Monday..Sunday, HOLIDAY for a public holiday and the weekend days of its break,
    MAKEUP_WORKDAY for a weekend day that is a working day in exchange."""
    import holidays

    years = sorted({d.year for d in days} | {days[0].year - 1, days[-1].year + 1})
    calendar = holidays.country_holidays("CN", years=years)
    makeup = set(getattr(calendar, "weekend_workdays", ()))
    dates = [d.date() for d in days]
    types = np.array([d.weekday() for d in dates], dtype=np.int8)
    off = {d for d in dates if d in calendar}
    # A weekend day next to a holiday is part of the break (Qingming on a Friday: three days off).
    changed = True
    while changed:
        changed = False
        for d in dates:
            if d in off or d.weekday() < 5 or d in makeup:
                continue
            if {d - datetime.timedelta(days=1), d + datetime.timedelta(days=1)} & (off | set(calendar)):
                off.add(d)
                changed = True
    for i, d in enumerate(dates):
        if d in makeup:
            types[i] = MAKEUP_WORKDAY
        elif d in off:
            types[i] = HOLIDAY
    return types


def local_level(values: np.ndarray) -> np.ndarray:
    """Centered 28-day mean per series (rows), NaN-aware: the level the day factors are relative to."""
    frame = pd.DataFrame(values.T)
    return frame.rolling(LEVEL_WINDOW, center=True, min_periods=LEVEL_WINDOW // 4).mean().to_numpy().T


def day_factors(values: np.ndarray, types: np.ndarray) -> np.ndarray:
    """Per series (rows) a factor per day type: own units / own level on days of that type, shrunk
    towards the fleet's ratio; weekdays normalised to average 1; a make-up working day counts as
    an average Monday..Friday."""
    level = local_level(values)
    seen = ~np.isnan(values) & ~np.isnan(level)
    y = np.where(seen, values, 0.0)
    lv = np.where(seen, level, 0.0)
    units = np.zeros((values.shape[0], DAY_TYPES))
    expected = np.zeros((values.shape[0], DAY_TYPES))
    for t in range(DAY_TYPES):
        mask = types == t
        units[:, t] = y[:, mask].sum(axis=1)
        expected[:, t] = lv[:, mask].sum(axis=1)
    pooled = np.divide(units.sum(axis=0), expected.sum(axis=0), out=np.ones(DAY_TYPES), where=expected.sum(axis=0) > 0)
    factors = (units + SHRINK_UNITS * pooled) / (expected + SHRINK_UNITS)
    week_mean = factors[:, :WEEKDAYS].mean(axis=1, keepdims=True)
    week_mean[week_mean <= 0] = 1.0
    factors = factors / week_mean
    factors[:, MAKEUP_WORKDAY] = factors[:, :5].mean(axis=1)
    return np.maximum(factors, FACTOR_FLOOR)


def _long_frame(keys, values: np.ndarray, days: pd.DatetimeIndex, starts: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, key in enumerate(keys):
        s = starts[i]
        rows.append(pd.DataFrame({"unique_id": key, "ds": days[s:], "y": values[i, s:]}))
    return pd.concat(rows, ignore_index=True)


def _run_models(run, frame: pd.DataFrame, keys: list, models, n_jobs: int) -> tuple[pd.DataFrame | None, set]:
    """`run(sf, frame)` over all series; if that raises, series by series, and those that still
    raise are returned as failed."""
    from statsforecast import StatsForecast

    def one(sub_frame, n_jobs):
        sf = StatsForecast(models=models, freq="D", n_jobs=n_jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run(sf, sub_frame)

    try:
        return one(frame, n_jobs), set()
    except Exception:  # noqa: BLE001 - one bad series must not stop the fleet's refit
        parts, failed = [], set()
        for key in keys:
            try:
                parts.append(one(frame[frame.unique_id == key], 1))
            except Exception:  # noqa: BLE001
                failed.add(key)
        return (pd.concat(parts, ignore_index=True) if parts else None), failed


def overdispersion(values: np.ndarray, day_factor: np.ndarray) -> np.ndarray:
    """Per series (rows) the negative binomial's 1/size, by moments: the variance of each day's
    units around its expected value (28-day level × day factor) beyond Poisson's, over the
    squared expectation; 0 is Poisson. Bounded to [0, MAX_OVERDISPERSION]."""
    level = local_level(values)
    seen = ~np.isnan(values) & ~np.isnan(level)
    expected = np.where(seen, level * day_factor, 0.0)
    y = np.where(seen, values, 0.0)
    excess = ((y - expected) ** 2 - expected).sum(axis=1)
    square = (expected**2).sum(axis=1)
    phi = np.divide(excess, square, out=np.zeros(len(values)), where=square > 0)
    return np.clip(phi, 0.0, MAX_OVERDISPERSION)


def median(mean: np.ndarray, phi: float) -> np.ndarray:
    """The median of a count with this mean: negative binomial with 1/size `phi` (Poisson when
    0). It minimises the expected absolute error, which is what MASE and WAPE score; a slow mover
    expected to sell 0.3 a day has a median of 0."""
    from scipy import stats

    mean = np.maximum(np.asarray(mean, dtype=float), 0.0)
    if phi <= 1e-9:
        out = stats.poisson.ppf(0.5, mean)
    else:
        size = 1.0 / phi
        out = stats.nbinom.ppf(0.5, size, size / (size + mean))
    return np.where(mean > 0, np.nan_to_num(out), 0.0)


def _backtest(values, starts, days, past_types, keys, groups, end, horizon, by_alias, n_jobs):
    """Rolling-origin backtest over the `BACKTEST_DAYS` before column `end` (exclusive), for each
    group `(windows, model names) -> rows`. Calendar factors and dispersion come from the days
    before those weeks, so nothing is learnt from the days scored. Per key: for each model the
    absolute error of its point forecast (the median), its residuals per unit of day factor, and
    the absolute error of its mean; seasonal naive's absolute error; units; days; MASE scale."""
    cut = max(end - BACKTEST_DAYS, 1)
    part_values = values[:, :end]
    factors = day_factors(values[:, :cut], past_types[:cut])
    day_factor = np.take_along_axis(factors, np.broadcast_to(past_types[:end], part_values.shape).astype(int), axis=1)
    dispersion = overdispersion(values[:, :cut], day_factor[:, :cut])
    scores: dict[int, dict] = {}
    failed_all: set = set()
    for (w, names), rows in groups.items():
        if w < 1:
            failed_all.update(keys[i] for i in rows)
            continue
        frame = _long_frame(
            [keys[i] for i in rows],
            part_values[rows] / day_factor[rows],
            days[:end],
            np.maximum(starts[rows], end - FIT_DAYS),
        )

        def cv(sf, f, w=w):
            return sf.cross_validation(df=f, h=horizon, n_windows=w, step_size=horizon)

        out, failed = _run_models(cv, frame, [keys[i] for i in rows], [by_alias[n] for n in names], n_jobs)
        failed_all |= failed
        if out is None:
            failed_all.update(keys[i] for i in rows)
            continue
        out = out.sort_values(["unique_id", "ds"])
        index_of = {keys[i]: i for i in rows}
        for key, part in out.groupby("unique_id", sort=False):
            i = index_of[key]
            pos = ((part["ds"].to_numpy() - np.datetime64(days[0])) // np.timedelta64(1, "D")).astype(int)
            actual = values[i, pos]
            factor = day_factor[i, pos]
            # Seasonal naive from each origin: the same weekday in the last week before the cutoff.
            cutoff = ((part["cutoff"].to_numpy() - np.datetime64(days[0])) // np.timedelta64(1, "D")).astype(int)
            naive_pos = cutoff - 6 + ((pos - cutoff - 1) % 7)
            naive = values[i, naive_pos]
            train = values[i, starts[i] : pos.min()]
            scale = float(np.nanmean(np.abs(train[7:] - train[:-7]))) if len(train) > 7 else 0.0
            errors = {}
            for name in names:
                predicted = np.maximum(part[name].to_numpy(), 0.0) * factor
                if np.isnan(predicted).any():
                    continue
                point = median(predicted, dispersion[i])
                errors[name] = (
                    float(np.abs(actual - point).sum()),
                    (actual - predicted) / factor,
                    float(np.abs(actual - predicted).sum()),
                )
            scores[key] = {
                "errors": errors,
                "naive": float(np.abs(actual - naive).sum()),
                "actual": float(actual.sum()),
                "days": len(pos),
                "scale": scale,
                "windows": w,
            }
    return scores, failed_all


def forecast_fleet(
    history: dict[int, tuple[datetime.date, list[float]]],
    *,
    end: datetime.date,
    horizon: int = HORIZON,
    n_jobs: int = 1,
    models=None,
) -> dict[int, SeriesForecast]:
    """Forecast the `horizon` days after `end` for each series `key -> (first day, daily units up to
    and including end)`."""
    models = models if models is not None else candidate_models()
    results: dict[int, SeriesForecast] = {}
    if not history:
        return results
    first = min(start for start, _ in history.values())
    days = pd.date_range(first, end, freq="D")
    T = len(days)
    keys = list(history)
    values = np.full((len(keys), T), np.nan)
    starts = np.zeros(len(keys), dtype=int)
    for i, key in enumerate(keys):
        start, units = history[key]
        s = (start - first).days
        units = np.asarray(units, dtype=float)[: T - s]
        values[i, s : s + len(units)] = units
        starts[i] = s
    values = np.where(np.isnan(values) & (np.arange(T) >= starts[:, None]), 0.0, values)
    future = pd.date_range(end + datetime.timedelta(days=1), periods=horizon, freq="D")
    types = day_types(days.append(future))
    past_types, future_types = types[:T], types[T:]
    lengths = T - starts

    fit_rows = [i for i in range(len(keys)) if lengths[i] >= MIN_HISTORY_DAYS]
    for i in range(len(keys)):
        if lengths[i] < MIN_HISTORY_DAYS:
            results[keys[i]] = SeriesForecast(key=keys[i], status="short", history_days=int(lengths[i]))
    if not fit_rows:
        return results

    model_names = [m.alias for m in models]
    by_alias = {m.alias: m for m in models}
    # Selection: every candidate on the 8 weeks before the scored ones, for the series old enough
    # to have a window there; the others choose on the scored weeks (in-sample, said by `held_out`).
    select_cut = T - BACKTEST_DAYS
    select_windows = np.minimum(BACKTEST_DAYS // horizon, (lengths - BACKTEST_DAYS - MIN_TRAIN_DAYS) // horizon)
    select_rows = [i for i in fit_rows if select_windows[i] >= 1]
    picked: dict[int, str] = {}
    if select_rows:
        groups = {
            (int(select_windows[i]), tuple(model_names)): [i for i in select_rows if select_windows[i] == w]
            for w in {int(select_windows[i]) for i in select_rows}
        }
        selection, _ = _backtest(values, starts, days, past_types, keys, groups, select_cut, horizon, by_alias, n_jobs)
        for i in select_rows:
            errors = selection.get(keys[i], {}).get("errors")
            if errors:
                picked[keys[i]] = min(model_names, key=lambda n: errors[n][0] if n in errors else float("inf"))
    # Scoring: the picked model alone on the last 8 weeks; all candidates for the series that
    # could not be picked before (the best of them is then chosen on the weeks it is scored on).
    windows = np.minimum(BACKTEST_DAYS // horizon, (lengths - MIN_TRAIN_DAYS) // horizon)
    groups: dict[tuple, list[int]] = {}
    for i in fit_rows:
        names = (picked[keys[i]],) if keys[i] in picked else tuple(model_names)
        groups.setdefault((int(windows[i]), names), []).append(i)
    scores, failed = _backtest(values, starts, days, past_types, keys, groups, T, horizon, by_alias, n_jobs)
    for i in fit_rows:
        if keys[i] in failed or keys[i] not in scores:
            results[keys[i]] = SeriesForecast(key=keys[i], status="failed", history_days=int(lengths[i]))

    # Final forecasts: each series with its chosen model, factors from the whole history.
    factors = day_factors(values, past_types)
    day_factor = np.take_along_axis(factors, np.broadcast_to(past_types, values.shape).astype(int), axis=1)
    future_factor = factors[:, future_types.astype(int)]
    chosen: dict[str, list[int]] = {}
    for i in fit_rows:
        key = keys[i]
        if key in results:
            continue
        errors = scores.get(key, {}).get("errors")
        if not errors or (key in picked and picked[key] not in errors):
            results[key] = SeriesForecast(key=key, status="failed", history_days=int(lengths[i]))
            continue
        best = picked.get(key) or min(model_names, key=lambda n: errors[n][0] if n in errors else float("inf"))
        chosen.setdefault(best, []).append(i)
    dispersion = overdispersion(values, day_factor)
    for name, rows in chosen.items():
        frame = _long_frame(
            [keys[i] for i in rows], values[rows] / day_factor[rows], days, np.maximum(starts[rows], T - FIT_DAYS)
        )

        def fc(sf, f):
            return sf.forecast(df=f, h=horizon)

        out, failed = _run_models(fc, frame, [keys[i] for i in rows], [by_alias[name]], n_jobs)
        predicted_by_key = {}
        if out is not None:
            for key, part in out.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False):
                predicted_by_key[key] = part[name].to_numpy()
        for i in rows:
            key = keys[i]
            raw = predicted_by_key.get(key)
            if key in failed or raw is None or np.isnan(raw).any():
                results[key] = SeriesForecast(key=key, status="failed", history_days=int(lengths[i]))
                continue
            score = scores[key]
            error_sum, residuals, mean_error_sum = score["errors"][name]
            low_q, high_q = np.quantile(residuals, INTERVAL)
            f = future_factor[i]
            mean = np.maximum(raw, 0.0) * f
            point = median(mean, dispersion[i])
            results[key] = SeriesForecast(
                key=key,
                status="fitted",
                model=name,
                mean=[round(float(v), 3) for v in mean],
                point=[float(v) for v in point],
                low=[round(float(v), 3) for v in np.maximum(mean + low_q * f, 0.0)],
                high=[round(float(v), 3) for v in np.maximum(mean + high_q * f, mean)],
                history_days=int(lengths[i]),
                windows=score["windows"],
                abs_error=error_sum,
                mean_abs_error=mean_error_sum,
                held_out=key in picked,
                naive_abs_error=score["naive"],
                actual=score["actual"],
                scored_days=score["days"],
                scale=score["scale"],
            )
    return results
