from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from vending.models import DexAdjustment, RestockLine, RestockTask, Slot, Vend


@admin.register(Slot)
class SlotAdmin(ScopedModelAdmin):
    list_display = ["device", "code", "product", "price", "level", "is_active"]
    list_select_related = ["device", "product", "level"]
    search_fields = ["device__name", "code", "product__name"]
    readonly_fields = ["level"]


@admin.register(Vend)
class VendAdmin(AppendOnlyAdmin):
    list_display = ["order", "device", "slot", "request_id", "command_id", "stock_returned", "created_at"]
    list_select_related = ["order", "device", "slot"]


class RestockLineInline(admin.TabularInline):
    model = RestockLine
    extra = 0
    can_delete = False
    readonly_fields = ["slot", "product", "planned", "confirmed"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RestockTask)
class RestockTaskAdmin(AppendOnlyAdmin):
    """Read-only: tasks are planned and confirmed on their pages, which write the stock movements."""

    list_display = ["created_at", "device", "status", "route", "done_at", "done_by"]
    list_filter = ["status"]
    inlines = [RestockLineInline]


@admin.register(DexAdjustment)
class DexAdjustmentAdmin(AppendOnlyAdmin):
    list_display = ["at", "read", "selection", "slot", "difference", "reason", "actor_label"]
