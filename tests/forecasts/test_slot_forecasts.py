"""Slot demand forecasts: a weekly pattern beats seasonal naive, a holiday effect is learnt, short
or unfittable series fall back and say so, and pages and API show only the caller's regions."""

import datetime
import json
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from devices.models import Device
from forecasts import services
from forecasts.demand import slot_demand
from forecasts.models import SlotForecast
from forecasts.tasks import BEAT_SCHEDULE
from reports.models import ProductSalesDay
from tests.factories import DeviceFactory, ProductFactory, SiteFactory
from vending.services import slot_create

pytestmark = pytest.mark.django_db

_codes = iter(range(10**6))


def _slot(site, product=None, device=None):
    device = device or DeviceFactory(kind=Device.Kind.VENDING, site=site)
    return slot_create(device=device, code=f"A{next(_codes)}", product=product or ProductFactory(), capacity=50)


def _sales(slot, units_by_day: dict):
    site = slot.device.site
    ProductSalesDay.objects.bulk_create(
        ProductSalesDay(
            day=day,
            region_id=site.region_id,
            site_id=site.pk,
            device_id=slot.device_id,
            kind="vending",
            channel="machine",
            method="cash",
            product_id=slot.product_id,
            orders=int(units),
            quantity=int(units),
        )
        for day, units in units_by_day.items()
        if units
    )


def _weekly(end, days, rng, shape=(9, 9, 8, 8, 7, 1, 1)):
    return {
        end - datetime.timedelta(days=i): rng.poisson(shape[(end - datetime.timedelta(days=i)).weekday()])
        for i in range(days)
    }


def _login(client, user):
    client.force_login(user)
    return client


def test_a_weekly_pattern_beats_seasonal_naive_on_the_machine_page(world, client):
    rng = np.random.default_rng(1)
    slot = _slot(world.east_store)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _sales(slot, _weekly(yesterday, 200, rng))

    call_command("forecasts_refit")

    response = _login(client, world.regional).get(reverse("forecasts:machine", args=[slot.device_id]))
    assert response.status_code == 200
    accuracy = response.context["accuracy"]
    assert accuracy.fitted == 1
    assert accuracy.mase < accuracy.naive_mase
    assert accuracy.wape < accuracy.naive_wape
    forecast = SlotForecast.objects.get(level=slot.level)
    assert forecast.basis == SlotForecast.Basis.MODEL
    # The forecast has the weekly shape: working days well above the weekend.
    by_weekday = {(forecast.start + datetime.timedelta(days=i)).weekday(): v for i, v in enumerate(forecast.mean)}
    assert min(by_weekday[d] for d in range(5)) > 3 * max(by_weekday[5], by_weekday[6])
    assert f"MASE {forecast.mase:.2f}" in response.content.decode()


def test_the_holiday_effect_is_learnt(world, api_client):
    """A leisure site sells three times as much on public holidays (and the weekends of a break);
    the forecast over National Day says so, and its make-up working day is a working day."""
    import holidays

    rng = np.random.default_rng(2)
    slot = _slot(world.east_store)
    today = datetime.date(2026, 9, 28)
    end = today - datetime.timedelta(days=1)
    calendar = holidays.country_holidays("CN", years=[2025, 2026])
    units = {}
    for i in range(500):
        day = end - datetime.timedelta(days=i)
        weekend = day.weekday() >= 5 and day not in calendar.weekend_workdays
        off = day in calendar or (
            weekend and {day - datetime.timedelta(days=1), day + datetime.timedelta(days=1)} & set(calendar)
        )
        units[day] = rng.poisson(15 if off else 5)
    _sales(slot, units)

    services.forecasts_refit(today=today)

    api_client.force_authenticate(world.service)
    response = api_client.get(reverse("forecast-list"), {"device": slot.device_id})
    assert response.status_code == 200
    (row,) = response.json()["results"]
    mean = dict(zip([today + datetime.timedelta(days=i) for i in range(14)], row["mean"], strict=True))
    national_day = [datetime.date(2026, 10, d) for d in (1, 2, 3)]
    ordinary = [datetime.date(2026, 9, d) for d in (28, 29, 30)]
    assert min(mean[d] for d in national_day) > 2 * max(mean[d] for d in ordinary)
    assert row["basis"] == "model"


def test_too_little_history_falls_back_to_the_product_or_site_average_and_says_so(world, client):
    rng = np.random.default_rng(3)
    product = ProductFactory()
    old = _slot(world.east_store, product=product)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _sales(old, _weekly(yesterday, 120, rng))
    new = _slot(world.east_store, product=product)
    _sales(new, _weekly(yesterday, 10, rng))
    unsold = _slot(world.east_store)  # another product, never sold: its site's average

    call_command("forecasts_refit")

    fitted = SlotForecast.objects.get(level=old.level)
    short = SlotForecast.objects.get(level=new.level)
    assert (short.basis, short.reason) == (SlotForecast.Basis.PRODUCT_AVERAGE, SlotForecast.Reason.SHORT)
    assert short.mean == fitted.mean
    site = SlotForecast.objects.get(level=unsold.level)
    assert site.basis == SlotForecast.Basis.SITE_AVERAGE
    html = _login(client, world.regional).get(reverse("forecasts:machine", args=[new.device_id])).content.decode()
    assert "product average, too little history" in html
    html = client.get(reverse("forecasts:machine", args=[unsold.device_id])).content.decode()
    assert "site average, too little history" in html
    demand = slot_demand([new.level], short.start + datetime.timedelta(days=10), 7)
    assert demand[new.level_id]["basis"] == "product average, too little history"
    assert len(demand[new.level_id]["mean"]) == len(demand[new.level_id]["high"]) == 7


class _Broken:
    """A model that cannot fit anything."""

    alias = "Broken"
    uses_exog = False

    def new(self):
        return self

    def fit(self, *args, **kwargs):
        raise ValueError("cannot fit")

    forecast = fit

    def __repr__(self):
        return self.alias


def test_a_series_that_cannot_be_fitted_falls_back_and_says_so(world, client):
    rng = np.random.default_rng(4)
    slot = _slot(world.east_store)
    _sales(slot, _weekly(timezone.localdate() - datetime.timedelta(days=1), 120, rng))

    summary = services.forecasts_refit(models=[_Broken()])

    assert summary.fallback == 1
    forecast = SlotForecast.objects.get(level=slot.level)
    assert (forecast.basis, forecast.reason) == (SlotForecast.Basis.NONE, SlotForecast.Reason.FAILED)
    html = _login(client, world.regional).get(reverse("forecasts:machine", args=[slot.device_id])).content.decode()
    assert "no forecast, the model could not be fitted" in html


def test_the_page_renders_history_forecast_and_interval_for_the_chart(world, client):
    rng = np.random.default_rng(5)
    slot = _slot(world.east_store)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    sales = _weekly(yesterday, 100, rng)
    _sales(slot, sales)
    call_command("forecasts_refit")

    response = _login(client, world.service).get(
        reverse("forecasts:machine", args=[slot.device_id]), {"slot": slot.level_id}
    )
    assert response.status_code == 200
    match = re.search(r'<script id="forecast-chart" type="application/json">(.*?)</script>', response.content.decode())
    spec = json.loads(match.group(1))
    names = [s["name"] for s in spec["series"]]
    assert names == ["Sold", "Forecast", "Interval low (80%)", "Interval high (80%)"]
    sold, mean, low, high = (s["data"] for s in spec["series"])
    assert len(spec["x"]) == 56 + 14
    assert sold[55] == sales[yesterday] and mean[55] is None
    forecast = SlotForecast.objects.get(level=slot.level)
    assert mean[56:] == [round(v, 2) for v in forecast.mean]
    assert all(lo <= m <= hi for lo, m, hi in zip(low[56:], mean[56:], high[56:], strict=True))
    assert spec["unit"] == "units"
    # In Chinese the axis reads "25 件" (a measure word), not "25 件数" ("number of items").
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("forecasts:machine", args=[slot.device_id]), {"slot": slot.level_id})
    match = re.search(r'<script id="forecast-chart" type="application/json">(.*?)</script>', response.content.decode())
    assert json.loads(match.group(1))["unit"] == "件"
    client.cookies["django_language"] = "en"
    # The product page shows it too, and a slot id that is not on the page is a 404, not a 500.
    assert client.get(reverse("forecasts:product", args=[slot.product_id])).status_code == 200
    assert client.get(reverse("forecasts:machine", args=[slot.device_id]), {"slot": "x"}).status_code == 404
    assert client.get(reverse("forecasts:machine", args=[slot.device_id]), {"slot": 10**9}).status_code == 404


def test_a_regional_admin_sees_only_their_regions_forecasts(world, client, api_client):
    east = _slot(world.east_store)
    west = _slot(SiteFactory(region=world.west))
    rng = np.random.default_rng(6)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _sales(east, _weekly(yesterday, 60, rng))
    _sales(west, _weekly(yesterday, 60, rng))
    call_command("forecasts_refit")
    assert SlotForecast.objects.count() == 2

    _login(client, world.regional)
    assert client.get(reverse("forecasts:machine", args=[west.device_id])).status_code == 404
    index = client.get(reverse("forecasts:index"))
    assert [row["device"].pk for row in index.context["machines"]] == [east.device_id]
    product_page = client.get(reverse("forecasts:product", args=[west.product_id]))
    assert product_page.context["slots"] == []
    assert client.get(reverse("forecasts:index")).status_code == 200

    api_client.force_authenticate(world.regional)
    rows = api_client.get(reverse("forecast-list")).json()["results"]
    assert [r["level"] for r in rows] == [east.level_id]
    west_forecast = SlotForecast.objects.get(level=west.level)
    assert api_client.get(reverse("forecast-detail", args=[west_forecast.pk])).status_code == 404
    api_client.force_authenticate(world.clerk)
    assert api_client.get(reverse("forecast-list")).status_code == 403


def test_the_refit_runs_every_night_after_the_roll_up_check():
    entry = BEAT_SCHEDULE["forecasts-refit-nightly"]
    assert entry["task"] == "forecasts.tasks.forecasts_refit"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {30})


def test_the_machine_page_and_the_navigation_lead_to_the_forecasts(world, client):
    slot = _slot(world.east_store)
    html = _login(client, world.service).get(reverse("devices:device-detail", args=[slot.device_id])).content.decode()
    assert reverse("forecasts:machine", args=[slot.device_id]) in html
    assert f'href="{reverse("forecasts:index")}"' in client.get(reverse("core:dashboard")).content.decode()
    html = _login(client, world.clerk).get(reverse("core:dashboard")).content.decode()
    assert reverse("forecasts:index") not in html


def test_the_replenishment_planner_is_given_slot_demand_when_it_exists(monkeypatch):
    """vending.replenishment is another change's; until it exists ready() registers nothing."""
    import sys
    import types

    from django.apps import apps

    registered = []
    module = types.ModuleType("vending.replenishment")
    module.register_demand_source = registered.append
    monkeypatch.setitem(sys.modules, "vending.replenishment", module)
    apps.get_app_config("forecasts").ready()
    assert registered == [slot_demand]


def test_an_intermittent_slot_is_scored_by_its_median_and_planned_by_its_mean(world, client, api_client):
    """A slow mover selling 0.2 a day (Poisson): the median of every day is 0, well below the mean.
    Accuracy scores the median (so the backtest error is every unit sold), the planner still gets
    the mean, and the page shows the figure that was scored and says what it scores."""
    rng = np.random.default_rng(3)
    slot = _slot(world.east_store)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    _sales(slot, {yesterday - datetime.timedelta(days=i): rng.poisson(0.2) for i in range(300)})

    call_command("forecasts_refit")

    forecast = SlotForecast.objects.get(level=slot.level)
    assert forecast.basis == SlotForecast.Basis.MODEL
    assert forecast.held_out  # chosen on the 8 weeks before the scored ones
    assert sum(forecast.mean) > 1.0
    assert forecast.point == [0.0] * 14
    # Forecasting 0 every scored day: the absolute error is exactly the units sold on them.
    assert forecast.actual > 0
    assert forecast.abs_error == pytest.approx(forecast.actual)
    assert forecast.wape == pytest.approx(1.0)
    planned = slot_demand([slot.level], forecast.start, 14)[slot.level.pk]
    assert planned["mean"] == forecast.mean
    assert sum(planned["high"]) >= sum(forecast.mean)

    response = _login(client, world.regional).get(reverse("forecasts:machine", args=[slot.device_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["accuracy"].mase == pytest.approx(forecast.mase)
    assert f"MASE {forecast.mase:.2f}" in html
    assert re.search(r'<td class="num point">0(\.0)?</td>', html)
    assert "Scored: the median of each forecast" in html

    api_client.force_authenticate(world.service)
    (row,) = api_client.get(reverse("forecast-list"), {"device": slot.device_id}).json()["results"]
    assert row["point"] == [0.0] * 14
    assert row["mean"] == forecast.mean
