from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from fulfilment.models import Allocation, Delivery, PackScan, PlatformMapping


@admin.register(Delivery)
class DeliveryAdmin(AppendOnlyAdmin):
    """Deliveries change through the delivery order pages and services (the operation log)."""

    list_display = ["order", "recipient_name", "city", "shipping_method", "platform", "platform_order_number"]
    list_filter = ["shipping_method", "platform"]
    list_select_related = ["order"]
    search_fields = ["order__number", "platform_order_number", "recipient_name", "phone"]


@admin.register(Allocation)
class AllocationAdmin(AppendOnlyAdmin):
    """Reservations change only through the fulfilment services, with the stock level."""

    list_display = ["order", "line", "level", "quantity", "picked", "state"]
    list_filter = ["state"]
    list_select_related = ["order", "line", "level__location", "level__product"]


@admin.register(PlatformMapping)
class PlatformMappingAdmin(ScopedModelAdmin):
    """The platforms' file layouts; the console page edits them with an audit entry."""

    list_display = ["platform", "name", "updated_at"]
    search_fields = ["platform", "name"]


@admin.register(PackScan)
class PackScanAdmin(AppendOnlyAdmin):
    """Scans are written only by the picking page (fulfilment.packing)."""

    list_display = ["order", "barcode", "quantity", "at", "actor"]
    list_select_related = ["order", "actor"]
    search_fields = ["order__number", "barcode"]
