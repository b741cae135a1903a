"""The roll-ups in the admin: read-only, the platform's only (their rows carry plain region ids,
not a scoped relation; the report pages are where regions see their figures)."""

from django.contrib import admin

from core.admin import AppendOnlyAdmin
from reports.models import (
    OrderRollup,
    OrderStatusDay,
    ProductPlaceDay,
    ProductPlaceMonth,
    ProductSalesDay,
    ProductSalesMonth,
    RollupCheck,
    RollupPending,
    SalesDay,
    SalesHour,
    SalesMonth,
    SalesPlaceDay,
    SalesPlaceHour,
    SummarySend,
    SummarySubscription,
)


class RollupAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("day", "region_id", "site_id", "device_id", "kind", "channel", "method", "orders", "net")
    list_filter = ("kind", "channel", "method")
    date_hierarchy = "day"
    show_full_result_count = False


admin.site.register(SalesDay, RollupAdmin)
admin.site.register(SalesMonth, RollupAdmin)


@admin.register(SalesPlaceDay, SalesPlaceHour, ProductPlaceDay, ProductPlaceMonth)
class PlaceRollupAdmin(RollupAdmin):
    list_display = ("day", "region_id", "site_id", "device_id", "orders", "quantity", "net")
    list_filter = ()


@admin.register(SalesHour)
class SalesHourAdmin(RollupAdmin):
    list_display = ("day", "hour", "region_id", "site_id", "device_id", "kind", "method", "orders", "net")


@admin.register(ProductSalesDay, ProductSalesMonth)
class ProductSalesDayAdmin(RollupAdmin):
    list_display = ("day", "product_id", "region_id", "site_id", "device_id", "kind", "orders", "quantity", "net")


@admin.register(OrderStatusDay)
class OrderStatusDayAdmin(RollupAdmin):
    list_display = ("day", "region_id", "site_id", "device_id", "kind", "status", "orders", "completed")
    list_filter = ("kind", "status")


@admin.register(OrderRollup)
class OrderRollupAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("order_id", "updated_at")
    search_fields = ("=order_id",)
    show_full_result_count = False


@admin.register(RollupPending)
class RollupPendingAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("order_id", "changed_at")
    search_fields = ("=order_id",)
    show_full_result_count = False


@admin.register(RollupCheck)
class RollupCheckAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("day", "checked_at", "trigger", "orders", "differences")
    list_filter = ("trigger",)
    date_hierarchy = "day"


@admin.register(SummarySubscription)
class SummarySubscriptionAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("user", "active", "language", "hour", "updated_at")
    list_filter = ("active", "language")
    search_fields = ("user__username",)


@admin.register(SummarySend)
class SummarySendAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ("day", "user", "language", "sent_at")
    date_hierarchy = "day"
