from django.contrib import admin

from core.admin import AppendOnlyAdmin
from fulfilment.models import Allocation, Delivery, PackScan


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


@admin.register(PackScan)
class PackScanAdmin(AppendOnlyAdmin):
    """Scans are written only by the picking page (fulfilment.packing)."""

    list_display = ["order", "barcode", "quantity", "at", "actor"]
    list_select_related = ["order", "actor"]
    search_fields = ["order__number", "barcode"]
