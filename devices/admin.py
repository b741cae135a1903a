from django.contrib import admin

from core.admin import ScopedModelAdmin
from devices.models import Device


@admin.register(Device)
class DeviceAdmin(ScopedModelAdmin):
    list_display = ["name", "serial_number", "kind", "site", "state", "last_seen_at"]
    list_filter = ["kind", "state"]
    search_fields = ["name", "serial_number"]
