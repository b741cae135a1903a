from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from core.pagination import EstimatedCountPaginator, Ordering
from orders.models import (
    IdempotencyRecord,
    Order,
    OrderEvent,
    OrderLine,
    PartnerClient,
    Payment,
    Refund,
    WebhookDelivery,
)
from orders.selectors import order_search_q


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["product", "description", "quantity", "unit_price", "cost_price", "line_total"]

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor_kind", "actor_label", "action", "from_status", "to_status", "reason", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ScopedModelAdmin):
    """Read-only: orders change through the order services, never by editing a row."""

    list_display = ["number", "kind", "status", "region", "site", "total", "paid_amount", "created_at"]
    list_filter = ["kind", "status", "channel"]
    # The search box takes an order number, a phone (or its first digits) or an external
    # reference, each an index lookup (orders.selectors.order_search_q), never a `contains`.
    search_fields = ["number"]
    search_help_text = _("An order number, a customer's phone (or its first digits), or an external reference.")
    inlines = [OrderLineInline, OrderEventInline]
    # A large table: the related names come with the rows (site is nullable, so the admin would
    # not join it by itself), the total is never counted, and the filtered count stops at
    # core.pagination.COUNT_LIMIT (docs/adr/0025).
    list_select_related = ["region", "site"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_ordering(self, request):
        if request.GET.get("q", "").strip():
            # A search leaves few rows: sort them (core.pagination.Ordering.sort_matches).
            return Ordering.parse("-created_at", sort_matches=True).order_by()
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(order_search_q(search_term)), False

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(AppendOnlyAdmin):
    list_display = ["order", "provider", "amount", "fee", "status", "reference", "created_at"]
    list_filter = ["provider", "status"]


@admin.register(Refund)
class RefundAdmin(AppendOnlyAdmin):
    list_display = ["order", "amount", "status", "reason", "created_at"]
    list_filter = ["status"]


@admin.register(OrderEvent)
class OrderEventAdmin(AppendOnlyAdmin):
    list_display = ["order", "at", "actor_label", "action", "from_status", "to_status"]


@admin.register(PartnerClient)
class PartnerClientAdmin(AppendOnlyAdmin):
    """API partners are created, re-keyed and revoked on their console pages (the key is shown
    once there); here they are only seen."""

    list_display = ["name", "kind", "region", "key_prefix", "is_active"]
    exclude = ["key_hash", "webhook_secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "client", "event", "status", "attempts", "last_status_code"]
    list_filter = ["status"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(AppendOnlyAdmin):
    platform_only = True
    list_display = ["client", "key", "method", "path", "status_code", "created_at"]
