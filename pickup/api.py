"""Pickup API: pickup-code orders for staff (scoped: issue a code for a paid order, or create an
order bought elsewhere for collection at a store's counter) and for API partners (partner key,
docs/adr/0017). The code itself goes to the customer by SMS, never into an answer."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ScopedMixin, router
from core.models import Site
from members.customer_api import CustomerViewMixin
from orders.idempotency import idempotent
from orders.models import Order, OrderKind
from orders.partner_api import IDEMPOTENCY_PARAMETER, PartnerOrderSerializer, PartnerViewMixin
from orders.partners import partner_may_use
from pickup.models import PickupCode
from pickup.services import code_regenerate, pickup_order_create, pickup_ready_at_counter


class PickupOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="order.number", read_only=True)
    order_status = serializers.CharField(source="order.status", read_only=True)
    site = serializers.IntegerField(source="order.site_id", read_only=True)
    reference = serializers.CharField(source="order.external_reference", read_only=True)

    class Meta:
        model = PickupCode
        fields = [
            "id",
            "order",
            "number",
            "order_status",
            "site",
            "reference",
            "status",
            "created_at",
            "expires_at",
            "used_at",
        ]
        read_only_fields = fields


class PickupOrderInputSerializer(serializers.Serializer):
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.all(),
        required=False,
        help_text=_("A paid pickup order or counter sale of a store: its customer gets the code."),
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.filter(kind=Site.Kind.STORE),
        required=False,
        help_text=_("Without an order: the store where an order bought elsewhere is collected."),
    )
    recipient_phone = serializers.CharField(max_length=32, required=False)
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("order") is None and not (attrs.get("site") and attrs.get("recipient_phone")):
            raise serializers.ValidationError(_("Name a paid order, or a store and the recipient's phone."))
        return attrs


class PickupOrderViewSet(ScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pickup codes of store orders in scope (the code itself is never shown). POST issues one:
    for a paid order, or for a new order bought elsewhere (store + recipient's phone)."""

    queryset = PickupCode.objects.filter(purpose=PickupCode.Purpose.PICKUP)
    serializer_class = PickupOrderSerializer
    select_related = ("order",)
    filterset_fields = ["status"]

    def get_queryset(self):
        return super().get_queryset().filter(purpose=PickupCode.Purpose.PICKUP)

    @extend_schema(request=PickupOrderInputSerializer, responses={201: PickupOrderSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.scoped_serializer(PickupOrderInputSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("order") is not None:
            row = pickup_ready_at_counter(order=data["order"], actor=request.user)
        else:
            _order, row = pickup_order_create(
                site=data["site"],
                recipient_phone=data["recipient_phone"],
                reference=data.get("reference", ""),
                actor=request.user,
            )
        return Response(PickupOrderSerializer(row).data, status=status.HTTP_201_CREATED)


class PartnerPickupOrderInputSerializer(serializers.Serializer):
    site = serializers.IntegerField(help_text=_("A store this key was given (see /partner/me/)."))
    recipient_phone = serializers.CharField(max_length=32, help_text=_("Gets the pickup code by SMS."))
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)


class PartnerPickupOrderViewSet(
    PartnerViewMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Orders this key sent for collection at a store's counter. POST creates one at a store this
    key was given; the recipient gets the pickup code by SMS at once."""

    serializer_class = PartnerOrderSerializer
    queryset = Order.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return Order.objects.filter(partner=self.client, kind=OrderKind.PICKUP).order_by("-created_at", "-pk")

    @extend_schema(
        request=PartnerPickupOrderInputSerializer,
        responses={201: PartnerOrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = PartnerPickupOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner_may_use(self.client, site=data["site"])
        site = Site.objects.filter(pk=data["site"]).first()
        if site is None:
            raise exceptions.ValidationError({"site": [_("This store does not exist.")]})
        order, _row = pickup_order_create(
            site=site,
            recipient_phone=data["recipient_phone"],
            reference=data.get("reference", ""),
            actor=self.client,
            partner=self.client,
        )
        order.refresh_from_db()
        return Response(PartnerOrderSerializer(order).data, status=status.HTTP_201_CREATED)


router.register("pickup-orders", PickupOrderViewSet, basename="pickup-orders")
router.register("partner/pickup-orders", PartnerPickupOrderViewSet, basename="partner-pickup-orders")


class CustomerPickupSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order_id")
    number = serializers.CharField(source="order.number")
    place = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()

    def get_place(self, row) -> str:
        order = row.order
        locker = getattr(order, "locker", None)
        if locker is not None:
            return f"{locker.bank.name} · {locker.compartment.door}"
        return order.site.name if order.site_id else ""


class CustomerPickupViewSet(CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    """Parcels and orders waiting for the customer: where and until when. Codes are stored only
    as a keyed hash, so the app cannot show one; `resend` sends a fresh code to the customer's
    phone (the old one stops working), at most once a minute."""

    serializer_class = CustomerPickupSerializer
    queryset = PickupCode.objects.none()

    def customer_queryset(self):
        return (
            PickupCode.objects.filter(
                order__customer=self.customer,
                purpose=PickupCode.Purpose.PICKUP,
                status=PickupCode.Status.LIVE,
                expires_at__gt=timezone.now(),
            )
            .select_related("order__site", "order__locker__bank", "order__locker__compartment")
            .order_by("expires_at")
        )

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        from core.services import RateLimited, rate_take

        row = get_object_or_404(self.customer_queryset(), order_id=pk)
        try:
            rate_take(limits=[("pickup-resend", f"customer:{self.customer.pk}", "1/min")])
        except RateLimited as limited:
            raise exceptions.Throttled(wait=limited.retry_after) from None
        code_regenerate(order=row.order, actor=self.customer)
        return Response(status=status.HTTP_202_ACCEPTED)


router.register("customer/pickups", CustomerPickupViewSet, basename="customer-pickups")
