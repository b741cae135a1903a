from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from gateway.models import DexRead, DexSelection, LockBoard


class DexSelectionInline(admin.TabularInline):
    model = DexSelection
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DexSelection._meta.fields if f.name != "id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DexRead)
class DexReadAdmin(AppendOnlyAdmin):
    list_display = [
        "device",
        "taken_at",
        "received_at",
        "source",
        "vends_count",
        "vends_value",
        "sales_count",
        "sales_value",
    ]
    list_filter = ["source"]
    list_select_related = ["device"]
    exclude = ["raw"]
    inlines = [DexSelectionInline]


@admin.register(LockBoard)
class LockBoardAdmin(ScopedModelAdmin):
    list_display = ["device", "protocol", "hook_bit"]
    list_filter = ["protocol", "hook_bit"]
    list_select_related = ["device"]
