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


def series(name: str, data: Iterable, *, axis: int = 0, axis_name: str = "", unit: str = "") -> dict:
    """One named series. ``axis=1`` puts it on a second value axis (at the right) named
    ``axis_name``; ``unit`` follows its numbers on that axis, in the tooltip and in the table
    (else the chart's own unit)."""
    if axis not in (0, 1):
        raise ValueError(f"a chart has value axes 0 and 1, not {axis!r}")
    item = {"name": str(name), "data": [_number(v) for v in data]}
    if axis:
        item["axis"] = axis
    if axis_name:
        item["axisName"] = str(axis_name)
    if unit:
        item["unit"] = str(unit)
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
    scale: bool = False,
    x_name: str = "",
) -> dict:
    """A spec for static/core/charts.js. ``rows`` are the heat map's y labels; its one series'
    data is then a list of rows, each a list with one value per label. ``scale`` lets the value
    axes fit the data instead of starting at zero (a temperature, a signal strength); ``x_name``
    names the category axis."""
    if kind not in CHART_TYPES:
        raise ValueError(f"unknown chart type {kind!r}")
    series_list = list(series_list)
    if len(labels) and any(len(s["data"]) != len(labels) for s in series_list if kind != "heatmap"):
        raise ValueError("every series needs one value per label")
    spec = {
        "type": kind,
        "x": [str(label) for label in labels],
        "series": series_list,
        "money": bool(money),
        "unit": str(unit),
        "stack": bool(stack),
        "scale": bool(scale),
        "xName": str(x_name),
    }
    if kind == "heatmap":
        spec["y"] = [str(label) for label in rows or ()]
        spec["series"] = [
            {"name": s["name"], "data": [[_number(v) for v in row] for row in s["data"]]} for s in series_list
        ]
    return spec
