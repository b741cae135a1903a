"""Stored forecasts in the admin: read-only, scoped like the pages (the nightly refit writes them)."""

from django.contrib import admin

from core.admin import AppendOnlyAdmin
from forecasts.models import SlotForecast


@admin.register(SlotForecast)
class SlotForecastAdmin(AppendOnlyAdmin):
    list_display = ("level", "device", "product", "start", "basis", "reason", "model", "mase", "naive_mase")
    list_filter = ("basis", "reason", "model")
    raw_id_fields = ("level", "site", "device", "product")
