from django.contrib import admin

from core.admin import AppendOnlyAdmin
from pickup.models import AttemptCounter, EntryLock, PhoneConfirmation, PickupAttempt, PickupCode


@admin.register(PickupCode)
class PickupCodeAdmin(AppendOnlyAdmin):
    list_display = ["order", "status", "created_at", "expires_at", "used_at"]
    list_filter = ["status"]
    exclude = ["code_hmac"]


@admin.register(PickupAttempt)
class PickupAttemptAdmin(AppendOnlyAdmin):
    list_display = ["at", "device", "site", "source", "succeeded", "refused_locked", "confirmed_by_phone"]
    list_filter = ["succeeded", "refused_locked", "confirmed_by_phone"]


@admin.register(EntryLock)
class EntryLockAdmin(AppendOnlyAdmin):
    list_display = ["locked_at", "device", "site", "source", "until", "wrong_codes"]


@admin.register(AttemptCounter)
class AttemptCounterAdmin(AppendOnlyAdmin):
    list_display = ["place", "site", "source", "window_start", "count", "locked_until"]


@admin.register(PhoneConfirmation)
class PhoneConfirmationAdmin(AppendOnlyAdmin):
    list_display = ["place", "site", "phone", "created_at", "expires_at", "attempts", "used_at"]
    exclude = ["code_hmac"]
