"""Admin for the fleet. Logs (telemetry, events, commands) are append-only here: they change only
through the devices services."""

from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from devices.models import Device, DeviceCommand, DeviceCommandEvent, DeviceCredential, DeviceEvent, Fault, Telemetry


@admin.register(Device)
class DeviceAdmin(ScopedModelAdmin):
    list_display = ["name", "serial_number", "kind", "site", "state", "last_seen_at", "firmware"]
    list_filter = ["kind", "state"]
    search_fields = ["name", "serial_number"]
    readonly_fields = [
        "state",
        "last_seen_at",
        "paired_at",
        "firmware",
        "telemetry_at",
        "powered",
        "signal_dbm",
        "temperature",
        "door_open",
    ]


@admin.register(DeviceCredential)
class DeviceCredentialAdmin(AppendOnlyAdmin):
    list_display = ["device", "token_prefix", "created_at", "last_used_at"]
    readonly_fields = ["device", "token_prefix", "created_at", "last_used_at"]
    exclude = ["token_hash"]


@admin.register(Telemetry)
class TelemetryAdmin(AppendOnlyAdmin):
    list_display = ["device", "at", "powered", "signal_dbm", "temperature", "door_open", "firmware"]
    list_select_related = ["device"]
    date_hierarchy = "at"


@admin.register(DeviceEvent)
class DeviceEventAdmin(AppendOnlyAdmin):
    list_display = ["device", "at", "kind", "actor_label"]
    list_filter = ["kind"]
    list_select_related = ["device"]


@admin.register(Fault)
class FaultAdmin(AppendOnlyAdmin):
    list_display = ["device", "code", "slot", "message", "opened_at", "resolved_at", "resolved_by"]
    list_filter = ["code"]
    list_select_related = ["device"]


class CommandEventInline(admin.TabularInline):
    model = DeviceCommandEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "actor_label", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DeviceCommand)
class DeviceCommandAdmin(AppendOnlyAdmin):
    list_display = ["kind", "device", "status", "reference", "attempts", "created_at", "expires_at", "actor_label"]
    list_filter = ["status", "kind"]
    search_fields = ["reference", "command_id"]
    list_select_related = ["device"]
    inlines = [CommandEventInline]
