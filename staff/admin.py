from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from core.admin_site import PlatformOnlyAdmin
from staff.models import AnomalyRule, RefundApproval, Shift, StaffAlert, StaffProfile, User


@admin.register(User)
class UserAdmin(PlatformOnlyAdmin, BaseUserAdmin):
    """Accounts, their roles, permissions and passwords: platform administrators only. Regional
    administrators and store managers manage store staff on the console (staff.services), which
    checks scope, role and limits."""

    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ("phone", "gender", "language", "must_change_password")}),)
    list_display = ["username", "first_name", "last_name", "phone", "is_active", "is_staff"]

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: what a user did stays attributed to them


@admin.register(StaffProfile)
class StaffProfileAdmin(ScopedModelAdmin):
    """Read-only: switches, limits and stores change on the clerk's console page, whose service
    checks who may grant what and writes the change to the audit log."""

    list_display = ["user", "can_collect", "can_refund", "refund_limit", "refund_daily_limit", "reports"]
    filter_horizontal = ["sites"]
    raw_id_fields = ["user", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Shift)
class ShiftAdmin(AppendOnlyAdmin):
    """Read-only: shifts open and close at the till, where expected cash and variance are computed."""

    list_display = ["opened_at", "site", "clerk", "opening_float", "closed_at", "expected_amount", "variance"]
    list_filter = ["site"]


@admin.register(RefundApproval)
class RefundApprovalAdmin(AppendOnlyAdmin):
    """Read-only: approvals are decided on their page, which moves the money."""

    list_display = ["requested_at", "order", "amount", "status", "level", "requested_by", "decided_by"]
    list_filter = ["status", "level"]


@admin.register(AnomalyRule)
class AnomalyRuleAdmin(ScopedModelAdmin):
    list_display = ["region", "kind", "threshold", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(StaffAlert)
class StaffAlertAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "kind", "site", "clerk", "message", "acknowledged_at"]
    list_filter = ["kind"]
