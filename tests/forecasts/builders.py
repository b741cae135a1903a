"""Scoped rows of the forecasts app for the generated scoping tests."""

import datetime

from django.utils import timezone

from forecasts.models import SlotForecast
from tests.vending.builders import _slot_in


def _forecast_in(region):
    slot = _slot_in(region)
    return SlotForecast.objects.create(
        level=slot.level,
        site=slot.device.site,
        device=slot.device,
        product=slot.product,
        start=datetime.date(2026, 1, 5),
        mean=[1.0] * 14,
        low=[0.0] * 14,
        high=[2.0] * 14,
        basis=SlotForecast.Basis.MODEL,
        model="TSB",
        fitted_at=timezone.now(),
    )


SCOPED_BUILDERS = {SlotForecast: _forecast_in}
