"""Chart specs for the console's one charting library (ECharts, static/core/charts.js).

A spec is plain JSON: category labels, named series of numbers, and whether the numbers are money
(shown with two decimals in the reader's language). Views build specs with these helpers and render
them with ``{% include "core/_chart.html" with chart=spec chart_id="..." title=... %}``; the page
adds ``{% include "core/_chart_scripts.html" %}`` once. Decimals become strings-free floats only
here, at the edge, after the figures were computed exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

CHART_TYPES = ("line", "bar", "pie", "heatmap")


def _number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value.quantize(Decimal("0.01"))) if value == value else None
    return value


def series(name: str, data: Iterable, *, axis: int = 0, axis_name: str = "") -> dict:
    item = {"name": str(name), "data": [_number(v) for v in data]}
    if axis:
        item["axis"] = axis
        item["axisName"] = str(axis_name)
    elif axis_name:
        item["axisName"] = str(axis_name)
    return item


def chart(
    kind: str,
    labels: Sequence,
    series_list: Sequence[dict],
    *,
    money: bool = False,
    unit: str = "",
    stack: bool = False,
    rows: Sequence | None = None,
) -> dict:
    """A spec for static/core/charts.js. ``rows`` are the heat map's y labels; its one series'
    data is then a list of rows, each a list with one value per label."""
    if kind not in CHART_TYPES:
        raise ValueError(f"unknown chart type {kind!r}")
    spec = {
        "type": kind,
        "x": [str(label) for label in labels],
        "series": list(series_list),
        "money": bool(money),
        "unit": str(unit),
        "stack": bool(stack),
    }
    if kind == "heatmap":
        spec["y"] = [str(label) for label in rows or ()]
        spec["series"] = [
            {"name": s["name"], "data": [[_number(v) for v in row] for row in s["data"]]} for s in series_list
        ]
    return spec
