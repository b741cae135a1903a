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


# --- Shipping and returns (docs/adr/0034): written only by fulfilment.shipping / returns ---------
from fulfilment.models import ReturnItem, ReturnRequest, ReturnScan, Shipment, TrackingEvent  # noqa: E402


class TrackingEventInline(admin.TabularInline):
    model = TrackingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "status", "description", "location", "source", "received_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(AppendOnlyAdmin):
    list_display = ["order", "carrier", "waybill_number", "status", "shipped_at", "delivered_at"]
    list_filter = ["carrier", "status"]
    list_select_related = ["order"]
    search_fields = ["order__number", "waybill_number"]
    inlines = [TrackingEventInline]


@admin.register(TrackingEvent)
class TrackingEventAdmin(AppendOnlyAdmin):
    list_display = ["shipment", "at", "status", "description", "location", "source"]
    list_filter = ["status", "source"]
    list_select_related = ["shipment"]


class ReturnItemInline(admin.TabularInline):
    model = ReturnItem
    extra = 0
    can_delete = False
    fields = ["line", "quantity", "received", "condition", "notes", "photo", "put_to", "inspected_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(AppendOnlyAdmin):
    list_display = ["order", "source", "reason", "status", "refund", "created_at"]
    list_filter = ["source", "reason", "status"]
    list_select_related = ["order", "refund"]
    search_fields = ["order__number"]
    inlines = [ReturnItemInline]


@admin.register(ReturnItem)
class ReturnItemAdmin(AppendOnlyAdmin):
    list_display = ["request", "line", "quantity", "received", "condition", "inspected_at"]
    list_filter = ["condition"]
    list_select_related = ["request__order", "line"]


@admin.register(ReturnScan)
class ReturnScanAdmin(AppendOnlyAdmin):
    list_display = ["item", "scan_id", "location", "at"]
    list_select_related = ["item__line", "location"]


@admin.register(PackScan)
class PackScanAdmin(AppendOnlyAdmin):
    """Scans are written only by the picking page (fulfilment.packing)."""

    list_display = ["order", "barcode", "quantity", "at", "actor"]
    list_select_related = ["order", "actor"]
    search_fields = ["order__number", "barcode"]
