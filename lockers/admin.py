from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from lockers.models import Compartment, LockerOrder, ReturnTask, StorageRule


@admin.register(Compartment)
class CompartmentAdmin(ScopedModelAdmin):
    list_display = ["bank", "door", "size", "state", "door_open", "occupied_sensor"]
    list_filter = ["state", "size"]
    readonly_fields = ["state", "door_open", "occupied_sensor"]


@admin.register(LockerOrder)
class LockerOrderAdmin(AppendOnlyAdmin):
    list_display = ["order", "bank", "compartment", "size", "stage", "ready_at", "collected_at"]
    list_filter = ["stage"]


@admin.register(ReturnTask)
class ReturnTaskAdmin(AppendOnlyAdmin):
    list_display = ["locker_order", "created_at", "done_at"]


@admin.register(StorageRule)
class StorageRuleAdmin(ScopedModelAdmin):
    list_display = ["bank", "free_hours", "overdue_fee_per_day", "return_after_days"]
