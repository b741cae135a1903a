from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from members.models import (
    Coupon,
    CouponRedemption,
    Customer,
    CustomerToken,
    Feedback,
    LoginCode,
    MemberLevel,
    PayCode,
    PointsEntry,
    Promotion,
    PromotionUse,
)


@admin.register(Customer)
class CustomerAdmin(ScopedModelAdmin):
    list_display = ["phone", "name", "home_region", "created_at", "is_active"]
    search_fields = ["phone", "name"]


@admin.register(Feedback)
class FeedbackAdmin(ScopedModelAdmin):
    list_display = ["created_at", "rating", "order", "clerk", "site"]
    list_filter = ["rating"]
    raw_id_fields = ["order", "customer", "clerk"]


@admin.register(Coupon)
class CouponAdmin(ScopedModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "value",
        "region",
        "valid_from",
        "valid_until",
        "used_count",
        "total_quantity",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["used_count"]


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(AppendOnlyAdmin):
    list_display = ["at", "coupon", "order", "customer", "amount", "status"]
    list_filter = ["status"]


@admin.register(MemberLevel)
class MemberLevelAdmin(admin.ModelAdmin):
    list_display = ["level", "name", "min_spend", "discount_percent", "points_multiplier"]


@admin.register(PointsEntry)
class PointsEntryAdmin(AppendOnlyAdmin):
    list_display = ["at", "customer", "delta", "reason", "order"]
    list_filter = ["reason"]


@admin.register(CustomerToken)
class CustomerTokenAdmin(AppendOnlyAdmin):
    """Tokens are shown once, at sign-in; here they can only be seen (hashed) and revoked."""

    list_display = ["customer", "created_at", "last_used_at", "revoked"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("members.change_customertoken")

    fields = ["customer", "created_at", "last_used_at", "revoked"]
    readonly_fields = ["customer", "created_at", "last_used_at"]


@admin.register(LoginCode)
class LoginCodeAdmin(AppendOnlyAdmin):
    list_display = ["phone", "created_at", "expires_at", "attempts", "used_at"]
    exclude = ["code_hash"]


@admin.register(Promotion)
class PromotionAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "region", "starts_at", "ends_at", "given_count", "given_value", "is_active"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["given_count", "given_value"]


@admin.register(PromotionUse)
class PromotionUseAdmin(AppendOnlyAdmin):
    list_display = ["at", "promotion", "order", "amount", "status"]


@admin.register(PayCode)
class PayCodeAdmin(AppendOnlyAdmin):
    """Payment codes a member's app showed at a till (hashed); read-only, the platform's only."""

    platform_only = True
    list_display = ["customer", "created_at", "expires_at", "used_at", "used_for"]
    exclude = ["code_hash"]
