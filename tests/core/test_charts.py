"""The console chart component's spec builders (core/charts.py): exact decimals become numbers
only at the edge, a second value axis and per-series units are declared, bad specs are refused."""

from decimal import Decimal

import pytest

from core import charts


def test_money_decimals_become_two_decimal_numbers_and_none_stays_a_gap():
    spec = charts.chart(
        "bar", ["Ann", "Bo"], [charts.series("Collected", [Decimal("2702.75000000000"), None])], money=True
    )
    assert spec["series"][0]["data"] == [2702.75, None]
    assert spec["money"] is True and spec["type"] == "bar" and spec["x"] == ["Ann", "Bo"]


def test_a_second_axis_carries_its_name_and_unit():
    spec = charts.chart(
        "line",
        ["09:00", "09:30"],
        [
            charts.series("Temperature", [Decimal("4.1"), Decimal("4.3")], axis_name="Temperature (°C)", unit="°C"),
            charts.series("Signal", [-71, -69], axis=1, axis_name="Signal (dBm)", unit="dBm"),
        ],
        scale=True,
        x_name="Time",
    )
    first, second = spec["series"]
    assert "axis" not in first and first["axisName"] == "Temperature (°C)" and first["unit"] == "°C"
    assert second["axis"] == 1 and second["axisName"] == "Signal (dBm)" and second["unit"] == "dBm"
    assert spec["scale"] is True and spec["xName"] == "Time"
    assert first["data"] == [4.1, 4.3]


def test_labels_are_strings_and_lazy_names_are_resolved():
    from django.utils.translation import gettext_lazy

    spec = charts.chart("pie", [1, gettext_lazy("Cash")], [charts.series(gettext_lazy("Takings"), [1, 2])])
    assert spec["x"] == ["1", "Cash"]
    assert spec["series"][0]["name"] == "Takings"


def test_heatmap_rows():
    spec = charts.chart(
        "heatmap", ["Mon", "Tue"], [charts.series("Orders", [[1, 2], [3, Decimal("4.50")]])], rows=["8", "9"]
    )
    assert spec["y"] == ["8", "9"]
    assert spec["series"][0]["data"] == [[1, 2], [3, 4.5]]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.chart("area", ["a"], [charts.series("s", [1])]),
        lambda: charts.chart("line", ["a", "b"], [charts.series("s", [1])]),
        lambda: charts.series("s", [1], axis=2),
    ],
    ids=["unknown type", "one value short", "third axis"],
)
def test_bad_specs_are_refused(build):
    with pytest.raises(ValueError):
        build()


def test_the_spec_is_plain_json():
    import json

    spec = charts.chart("line", ["a"], [charts.series("s", [Decimal("1.005")])], money=True, unit="CNY")
    assert json.loads(json.dumps(spec)) == spec
