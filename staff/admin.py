from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from core.admin_site import PlatformOnlyAdmin
from staff.models import (
    AnomalyRule,
    Evaluation,
    OfflineSale,
    OtpEnrolment,
    PeerRating,
    RefundApproval,
    RewardPenalty,
    Shift,
    StaffAlert,
    StaffProfile,
    TrainingRecord,
    User,
)


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


@admin.register(OfflineSale)
class OfflineSaleAdmin(AppendOnlyAdmin):
    """Read-only: offline sales arrive from the till and are resolved on their console page."""

    list_display = ["happened_at", "order", "site", "clerk", "method", "amount", "status"]
    list_filter = ["status", "method"]


@admin.register(AnomalyRule)
class AnomalyRuleAdmin(ScopedModelAdmin):
    list_display = ["region", "kind", "threshold", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(StaffAlert)
class StaffAlertAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "kind", "site", "clerk", "message", "acknowledged_at"]
    list_filter = ["kind"]


@admin.register(OtpEnrolment)
class OtpEnrolmentAdmin(PlatformOnlyAdmin, admin.ModelAdmin):
    """Two-factor enrolment links (hashed): issued from the console, only seen here."""

    list_display = ["user", "sent_to", "issued_by", "created_at", "expires_at", "used_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# Training, evaluations, ratings, rewards and penalties are recorded on the clerk's console page,
# whose services check who manages whom and write the audit log; the admin shows them read-only.
@admin.register(TrainingRecord)
class TrainingRecordAdmin(AppendOnlyAdmin):
    list_display = ["date", "profile", "content", "result", "recorded_by"]
    list_filter = ["result"]


@admin.register(Evaluation)
class EvaluationAdmin(AppendOnlyAdmin):
    list_display = ["period_end", "profile", "score", "evaluated_by"]


@admin.register(PeerRating)
class PeerRatingAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "evaluation", "rater", "score"]


@admin.register(RewardPenalty)
class RewardPenaltyAdmin(AppendOnlyAdmin):
    list_display = ["date", "profile", "kind", "amount", "recorded_by"]
    list_filter = ["kind"]
