from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from inventory.models import StockLevel, StockLocation, StockMovement


@admin.register(StockLocation)
class StockLocationAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "site", "device", "code", "is_active"]
    list_filter = ["kind"]


@admin.register(StockLevel)
class StockLevelAdmin(AppendOnlyAdmin):
    """Levels change only through stock movements (inventory services)."""

    list_display = ["location", "product", "quantity", "reserved", "capacity", "par_level", "low_threshold"]
    list_select_related = ["location", "product"]


@admin.register(StockMovement)
class StockMovementAdmin(AppendOnlyAdmin):
    list_display = ["at", "level", "delta", "reason", "reference", "actor_label"]
    list_filter = ["reason"]
    list_select_related = ["level__location", "level__product"]
