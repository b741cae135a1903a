from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from vending.models import Slot, Vend


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
