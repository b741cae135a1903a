from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from members.models import Coupon, CouponRedemption, Customer, Feedback


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
