"""Partner API for delivery orders (docs/adr/0032): an online shop or platform sends an order to be
shipped from the operator's warehouses. Idempotent twice over: on the `Idempotency-Key` header
(ADR 0012) and on the platform's order number (a repeat returns the first order, 200)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from catalog.models import Product
from core.api import router
from fulfilment.models import Delivery, ShippingMethod
from fulfilment.orders import DeliveryLine, delivery_create
from orders.idempotency import idempotent
from orders.models import Channel, Order, OrderKind
from orders.partner_api import IDEMPOTENCY_PARAMETER, PartnerOrderSerializer, PartnerViewMixin


class PartnerDeliveryLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=40, help_text=_("The product's SKU or barcode in the operator's catalog."))
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, help_text=_("Default: the catalog price.")
    )


class PartnerDeliveryInputSerializer(serializers.Serializer):
    platform_order_number = serializers.CharField(
        max_length=64, help_text=_("Your order number: sending it again returns the first order.")
    )
    recipient_name = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32)
    province = serializers.CharField(max_length=50)
    city = serializers.CharField(max_length=50)
    district = serializers.CharField(max_length=50, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255)
    postcode = serializers.CharField(max_length=12, required=False, allow_blank=True)
    shipping_method = serializers.ChoiceField(choices=ShippingMethod.choices, default=ShippingMethod.STANDARD)
    lines = PartnerDeliveryLineSerializer(many=True)

    def validate_lines(self, lines):
        if not lines:
            raise serializers.ValidationError(_("Send at least one line."))
        if len(lines) > 50:
            raise serializers.ValidationError(_("At most 50 lines."))
        codes = {line["sku"] for line in lines}
        products = {}
        for product in Product.objects.filter(sku__in=codes) | Product.objects.filter(barcode__in=codes):
            products.setdefault(product.sku, product)
            if product.barcode:
                products.setdefault(product.barcode, product)
        unknown = sorted(code for code in codes if code not in products)
        if unknown:
            raise serializers.ValidationError(
                _("No product with SKU or barcode %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        for line in lines:
            line["product"] = products[line["sku"]]
        return lines


class PartnerDeliveryOrderSerializer(PartnerOrderSerializer):
    held = serializers.SerializerMethodField()

    class Meta(PartnerOrderSerializer.Meta):
        fields = [*PartnerOrderSerializer.Meta.fields, "held"]

    def get_held(self, order) -> list[str]:
        delivery = Delivery.objects.filter(order=order).first()
        return [hold["message"] for hold in delivery.hold_list] if delivery else []


class PartnerDeliveryOrderViewSet(
    PartnerViewMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Orders this key sent to be shipped. POST creates one in the key's region: it is verified at
    once and, when it passes, stock is reserved at the nearest warehouse; `held` lists what a
    person must check first. The same `platform_order_number` again returns the first order (200)."""

    serializer_class = PartnerDeliveryOrderSerializer
    queryset = Order.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        return Order.objects.filter(partner=self.client, kind=OrderKind.DELIVERY).order_by("-created_at", "-pk")

    @extend_schema(
        request=PartnerDeliveryInputSerializer,
        responses={201: PartnerDeliveryOrderSerializer, 200: PartnerDeliveryOrderSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = PartnerDeliveryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        platform = f"partner-{self.client.pk}"
        try:
            order, created = delivery_create(
                actor=self.client,
                region=self.client.region,
                recipient=data,
                lines=[
                    DeliveryLine(product=line["product"], quantity=line["quantity"], unit_price=line.get("unit_price"))
                    for line in data["lines"]
                ],
                shipping_method=data["shipping_method"],
                channel=Channel.PARTNER,
                platform=platform,
                platform_order_number=data["platform_order_number"],
                partner=self.client,
            )
        except ValidationError as error:
            raise exceptions.ValidationError(
                error.message_dict if hasattr(error, "error_dict") else {"detail": error.messages}
            ) from None
        order.refresh_from_db()
        return Response(
            PartnerDeliveryOrderSerializer(order).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


router.register("partner/delivery-orders", PartnerDeliveryOrderViewSet, basename="partner-delivery-orders")
