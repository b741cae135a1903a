"""Orders API: the unified inquiry (list / detail with lines, payments, refunds and the log)."""

import django_filters
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers

from core.api import ScopedReadOnlyViewSet, router
from core.db_router import reads_from_replica
from core.pagination import KeysetPagination
from orders.filters import OrderFilter
from orders.models import Order, OrderEvent, OrderLine, Payment, Refund


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "product", "description", "quantity", "unit_price", "cost_price", "line_total"]


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["id", "at", "actor_kind", "actor_label", "action", "from_status", "to_status", "reason", "data"]


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ["id", "order", "provider", "amount", "fee", "status", "reference", "created_at", "succeeded_at"]


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "order", "payment", "amount", "status", "reason", "reference", "created_at", "succeeded_at"]


class OrderSerializer(serializers.ModelSerializer):
    customer_phone = serializers.CharField(source="customer.phone", default=None, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "customer",
            "customer_phone",
            "region",
            "site",
            "device",
            "channel",
            "currency",
            "subtotal",
            "discount_total",
            "total",
            "paid_amount",
            "refunded_amount",
            "created_at",
            "paid_at",
            "completed_at",
            "external_reference",
        ]


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "lines", "payments", "refunds", "events"]


class OrderApiFilter(OrderFilter):
    """The inquiry's filters, plus `search` (the API's historical name of the search box)."""

    search = django_filters.CharFilter(method="search", label=_("Number, phone or reference"))

    class Meta(OrderFilter.Meta):
        fields = [*OrderFilter.Meta.fields, "search"]


@method_decorator(reads_from_replica, name="list")
class OrderViewSet(ScopedReadOnlyViewSet):
    """Orders, newest first, paged by cursor (core.pagination.KeysetPagination): page 2,000 costs
    what page 1 costs. Search is by order number, phone (or its first digits) or external
    reference, each an index lookup (docs/adr/0025)."""

    queryset = Order.objects.all()
    filterset_class = OrderApiFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = KeysetPagination
    selective_filters = ("q", "search", "number", "customer")
    ordering_fields = ["created_at", "total", "number"]
    select_related = ("customer",)

    def get_serializer_class(self):
        return OrderDetailSerializer if self.action == "retrieve" else OrderSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("lines", "payments", "refunds", "events")
        return queryset


@method_decorator(reads_from_replica, name="list")
class PaymentViewSet(ScopedReadOnlyViewSet):
    """Payments, newest first, paged by cursor like the orders (docs/adr/0025): a deep page costs
    what the first costs, `?page=` and `?offset=` are a 400 that says so. The count is bounded, or
    the planner's estimate when it expects more than the bound (a payment's region is its
    order's, so a regional administrator's bounded count reads the table through that join)."""

    queryset = Payment.objects.all()
    serializer_class = PaymentSerializer
    filterset_fields = {"provider": ["exact"], "status": ["exact"], "order": ["exact"], "created_at": ["gte", "lte"]}
    pagination_class = KeysetPagination
    count_from_plan = True
    selective_filters = ("order",)
    ordering_fields = ["created_at", "amount"]


@method_decorator(reads_from_replica, name="list")
class RefundViewSet(ScopedReadOnlyViewSet):
    """Refunds, newest first, paged by cursor like the orders and payments, counted like the
    payments."""

    queryset = Refund.objects.all()
    serializer_class = RefundSerializer
    filterset_fields = {"status": ["exact"], "order": ["exact"], "created_at": ["gte", "lte"]}
    pagination_class = KeysetPagination
    count_from_plan = True
    selective_filters = ("order",)
    ordering_fields = ["created_at", "amount"]


router.register("orders", OrderViewSet)
router.register("payments", PaymentViewSet)
router.register("refunds", RefundViewSet)

# The partner API registers its endpoints on the same router.
from orders import partner_api  # noqa: E402,F401
