"""Slot demand forecasts on a generated fleet: backtest error of the chosen models against seasonal
naive, and the time to refit every series.

The history is generated with known structure, seeded (`--seed`): per slot a base rate (40 % slow
movers selling 0.05–0.6 a day, the rest 1–12), the weekly shape of its site (offices sell on
working days, malls and stations at weekends), a yearly wave (drinks peak in summer, hot snacks in
winter), Chinese public holidays (offices nearly shut, leisure sites busier, the Spring Festival
strongest) with the make-up working days as working days, a trend of −25 %..+25 % a year, and
negative binomial noise. Stock-outs are left out: the same zeros hit both forecasts.

The refit is `forecasts.engine.forecast_fleet` — exactly what the nightly job runs — over all
series. Its backtest is held out: each series' model is chosen on the 8 weeks before the last 8,
then only that model is scored on the last 8 (rolling origins every 14 days) by its median point
forecast, against seasonal naive (same weekday of the week before the origin) on the same days
with the same scale (docs/adr/0029). The headline ratio is the mean of the chosen MASE over the
mean of the naive MASE (series with a zero scale left out), and the same for WAPE over the fleet.
Also shown: the same models scored by their mean, and the floors of a forecast that knows each
day's true rate (as a mean) and the true distribution (as a median).

    .venv/bin/python bench/forecast.py                       # 2,000 slots × 2 years, n_jobs=2
    .venv/bin/python bench/forecast.py --slots 200 --days 400

The first refit in a process includes the one-off start-up (imports, any JIT compilation): the
cold time; the second, on the same data, is the warm time a nightly run of a long-lived worker
sees. Targets (issue 20): MASE ratio at most 0.75; refit under 120 s on 2 cores.
Prints the figures and one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasts import engine  # noqa: E402

END = datetime.date(2026, 11, 30)

# Weekly shapes (Monday..Sunday) of the kinds of site.
SHAPES = {
    "office": [1.25, 1.25, 1.2, 1.2, 1.1, 0.5, 0.5],
    "mall": [0.8, 0.8, 0.85, 0.9, 1.1, 1.3, 1.25],
    "station": [1.1, 0.95, 0.95, 1.0, 1.2, 0.95, 0.85],
}
HOLIDAY = {"office": 0.15, "mall": 1.6, "station": 1.4}


def generate(slots: int, days: int, seed: int, rates: dict | None = None):
    rng = np.random.default_rng(seed)
    start = END - datetime.timedelta(days=days - 1)
    dates = [start + datetime.timedelta(days=i) for i in range(days)]
    import pandas as pd

    types = engine.day_types(pd.DatetimeIndex(dates))
    doy = np.array([d.timetuple().tm_yday for d in dates])
    t = np.arange(days) / 365.0
    kinds = rng.choice(list(SHAPES), size=slots, p=[0.45, 0.35, 0.2])
    slow = rng.random(slots) < 0.4
    base = np.where(slow, rng.uniform(0.05, 0.6, slots), rng.uniform(1.0, 12.0, slots))
    amplitude = rng.uniform(0.1, 0.45, slots) * rng.choice([1, -1], size=slots, p=[0.7, 0.3])
    trend = rng.uniform(-0.25, 0.25, slots)
    dispersion = rng.uniform(3.0, 12.0, slots)  # negative binomial size: smaller is noisier
    spring = np.array([d.month in (1, 2) for d in dates]) & (types == engine.HOLIDAY)
    history = {}
    for i in range(slots):
        shape = np.array(SHAPES[kinds[i]])
        weekday = np.array([d.weekday() for d in dates])
        week = shape[weekday]
        week = np.where(types == engine.MAKEUP_WORKDAY, shape[:5].mean(), week)
        holiday_factor = HOLIDAY[kinds[i]] ** np.where(spring, 1.5, 1.0)
        week = np.where(types == engine.HOLIDAY, holiday_factor, week)
        yearly = 1.0 + amplitude[i] * np.sin(2 * np.pi * (doy - 100) / 365.0)
        rate = base[i] * week * yearly * (1.0 + trend[i] * (t - t[-1]))
        rate = np.maximum(rate, 0.0)
        n = dispersion[i]
        units = rng.negative_binomial(n, n / (n + rate))
        # Slots installed at different times: a tenth of them only in the last months.
        first = int(rng.integers(0, days - 120)) if rng.random() < 0.1 else 0
        history[i] = (dates[first], units[first:].astype(float).tolist())
        if rates is not None:
            rates[i] = (rate, dispersion[i])
    return history


def oracle_mase(result, history, truth, *, point: str = "mean") -> float:
    """MASE of a forecast that knows each day's true expected demand (and, for the median, the
    true dispersion), on the same backtest days and scale: the floor under this noise of a mean
    forecast (`point="mean"`) and of a median one (`point="median"`)."""
    from scipy import stats

    rate, size = truth
    units = np.asarray(history[1])
    rate = rate[-len(units) :]
    scored = np.arange(len(units) - result.scored_days, len(units))
    forecast = rate[scored]
    if point == "median":
        forecast = stats.nbinom.ppf(0.5, size, size / (size + forecast))
    return float(np.abs(units[scored] - forecast).sum() / (result.scale * result.scored_days))


def summarise(results, history=None, rates=None):
    fitted = [r for r in results.values() if r.status == "fitted"]
    scaled = [r for r in fitted if r.scale > 0]
    oracle = float(np.mean([oracle_mase(r, history[r.key], rates[r.key]) for r in scaled])) if rates else None
    oracle_median = (
        float(np.mean([oracle_mase(r, history[r.key], rates[r.key], point="median") for r in scaled]))
        if rates
        else None
    )
    mase = float(np.mean([r.mase for r in scaled]))
    # The same chosen models scored by their mean instead of their median: what the mean costs.
    mean_mase = float(np.mean([r.mean_abs_error / (r.scale * r.scored_days) for r in scaled]))
    naive_mase = float(np.mean([r.naive_mase for r in scaled]))
    abs_error = sum(r.abs_error for r in fitted)
    naive_abs_error = sum(r.naive_abs_error for r in fitted)
    actual = sum(r.actual for r in fitted)
    # By kind of slot: slow movers (under one unit a day over the last 16 weeks) and the rest.
    segments = {}
    if history is not None:
        for name, pick in (("slow", lambda m: m < 1.0), ("busy", lambda m: m >= 1.0)):
            part = [r for r in scaled if pick(float(np.mean(history[r.key][1][-112:])))]
            if part:
                segments[f"mase_ratio_{name}"] = round(
                    float(np.mean([r.mase for r in part]) / np.mean([r.naive_mase for r in part])), 4
                )
                segments[f"mean_ratio_{name}"] = round(
                    float(
                        np.mean([r.mean_abs_error / (r.scale * r.scored_days) for r in part])
                        / np.mean([r.naive_mase for r in part])
                    ),
                    4,
                )
                if rates:
                    for point in ("mean", "median"):
                        oracle_part = np.mean([oracle_mase(r, history[r.key], rates[r.key], point=point) for r in part])
                        suffix = "" if point == "mean" else "_median"
                        segments[f"oracle_ratio{suffix}_{name}"] = round(
                            float(oracle_part / np.mean([r.naive_mase for r in part])), 4
                        )
                segments[f"series_{name}"] = len(part)
    models = {}
    for r in fitted:
        models[r.model] = models.get(r.model, 0) + 1
    return {
        "series": len(results),
        "fitted": len(fitted),
        "fallback": len(results) - len(fitted),
        "mase": round(mase, 4),
        "naive_mase": round(naive_mase, 4),
        "mase_ratio": round(mase / naive_mase, 4),
        "held_out_ratio": round(mase / naive_mase, 4),  # the same: the backtest is held out
        "scored": "median",
        "selected_held_out": sum(1 for r in fitted if r.held_out),
        "mean_mase": round(mean_mase, 4),
        "mean_ratio": round(mean_mase / naive_mase, 4),
        "oracle_mase": None if oracle is None else round(oracle, 4),
        "oracle_ratio": None if oracle is None else round(oracle / naive_mase, 4),
        "oracle_median_ratio": None if oracle_median is None else round(oracle_median / naive_mase, 4),
        "wape": round(abs_error / actual, 4),
        "naive_wape": round(naive_abs_error / actual, 4),
        "wape_ratio": round(abs_error / naive_abs_error, 4),
        **segments,
        "models": dict(sorted(models.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=2000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-warm", action="store_true", help="skip the second (warm) refit")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    began = time.perf_counter()
    rates = {}
    history = generate(args.slots, args.days, args.seed, rates)
    generated = time.perf_counter() - began
    print(f"generated {args.slots} slots × {args.days} days in {generated:.1f} s; load average {load:.2f}")

    began = time.perf_counter()
    results = engine.forecast_fleet(history, end=END, n_jobs=args.jobs)
    cold = time.perf_counter() - began
    print(f"refit, cold (first in the process): {cold:.1f} s")
    warm = None
    if not args.no_warm:
        began = time.perf_counter()
        results = engine.forecast_fleet(history, end=END, n_jobs=args.jobs)
        warm = time.perf_counter() - began
        print(f"refit, warm: {warm:.1f} s")

    figures = summarise(results, history, rates)
    print(
        f"held-out backtest over the last 8 weeks (models chosen on the 8 weeks before, for "
        f"{figures['selected_held_out']} of {figures['fitted']} series), median point forecasts: "
        f"MASE {figures['mase']:.3f} vs seasonal naive {figures['naive_mase']:.3f} "
        f"(ratio {figures['mase_ratio']:.3f}, target ≤ 0.75); "
        f"WAPE {figures['wape']:.1%} vs {figures['naive_wape']:.1%} (ratio {figures['wape_ratio']:.3f})"
    )
    print(f"the same models scored by their mean: MASE {figures['mean_mase']:.3f} (ratio {figures['mean_ratio']:.3f})")
    print(
        f"noise floor: a forecast knowing the true daily rate scores ratio {figures['oracle_ratio']:.3f} as a mean, "
        f"{figures['oracle_median_ratio']:.3f} as a median (the true negative binomial's)"
    )
    for name in ("slow", "busy"):
        print(
            f"{name} ({figures.get('series_' + name, 0)}): ratio {figures.get('mase_ratio_' + name)} "
            f"(mean {figures.get('mean_ratio_' + name)}; floor as mean {figures.get('oracle_ratio_' + name)}, "
            f"as median {figures.get('oracle_ratio_median_' + name)})"
        )
    print(f"chosen models: {figures['models']}; fallback series: {figures['fallback']}")
    print(
        json.dumps(
            {
                "bench": "forecast",
                "slots": args.slots,
                "days": args.days,
                "jobs": args.jobs,
                "load_average": round(load, 2),
                **figures,
                "refit_cold_s": round(cold, 1),
                "refit_warm_s": None if warm is None else round(warm, 1),
                "mase_target_met": figures["mase_ratio"] <= 0.75,
                "time_target_met": (warm if warm is not None else cold) < 120,
            }
        )
    )


if __name__ == "__main__":
    main()
