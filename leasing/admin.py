from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from leasing.models import Asset, BulkItem, Lease, LeaseCharge, RatePlan


@admin.register(RatePlan)
class RatePlanAdmin(ScopedModelAdmin):
    list_display = [
        "name",
        "asset_kind",
        "region",
        "unit_minutes",
        "unit_price",
        "free_minutes",
        "daily_cap",
        "max_total",
        "deposit",
    ]


@admin.register(Asset)
class AssetAdmin(ScopedModelAdmin):
    list_display = ["serial", "kind", "state", "station", "slot", "site"]
    list_filter = ["kind", "state"]
    search_fields = ["serial"]


@admin.register(Lease)
class LeaseAdmin(AppendOnlyAdmin):
    list_display = ["order", "asset", "customer", "stage", "rented_at", "returned_at", "minutes", "amount"]
    list_filter = ["stage"]


@admin.register(LeaseCharge)
class LeaseChargeAdmin(AppendOnlyAdmin):
    list_display = ["lease", "period", "amount", "paid", "at"]


@admin.register(BulkItem)
class BulkItemAdmin(ScopedModelAdmin):
    """Stock is added here; what is available changes only through rentals and returns."""

    list_display = ["site", "kind", "total", "available"]
    list_filter = ["kind"]

    def get_readonly_fields(self, request, obj=None):
        return ["available"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.available = obj.total
        super().save_model(request, obj, form, change)
