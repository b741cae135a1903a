from django.contrib import admin

from core.admin import AppendOnlyAdmin
from pickup.models import EntryLock, PickupAttempt, PickupCode


@admin.register(PickupCode)
class PickupCodeAdmin(AppendOnlyAdmin):
    list_display = ["order", "status", "created_at", "expires_at", "used_at"]
    list_filter = ["status"]
    exclude = ["code_hmac"]


@admin.register(PickupAttempt)
class PickupAttemptAdmin(AppendOnlyAdmin):
    list_display = ["at", "device", "site", "succeeded", "refused_locked"]
    list_filter = ["succeeded", "refused_locked"]


@admin.register(EntryLock)
class EntryLockAdmin(AppendOnlyAdmin):
    list_display = ["locked_at", "device", "site", "until", "wrong_codes"]
