"""Buying at a machine from the customer app: scan the slot's QR code on the machine's screen,
see the member's price and usable coupons, pay with wallet balance, points or an online
provider, and follow the sale until it is dispensed or refunded (`customer/orders`). Every
amount comes from the server; the app only chooses."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import router
from members.customer_api import CustomerCouponSerializer, CustomerCouponViewSet, CustomerViewMixin
from vending.api import VendPaymentSerializer
from vending.services import APP_METHODS, member_price, slot_for_app_code, vend_buy_in_app


class ScanSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=500, help_text=_("The text of the QR code on the machine's screen."))


class QuoteSerializer(serializers.Serializer):
    machine = serializers.CharField()
    slot = serializers.CharField()
    product = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    member_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    in_stock = serializers.BooleanField()
    methods = serializers.ListField(child=serializers.CharField())
    coupons = CustomerCouponSerializer(many=True)


class BuySerializer(ScanSerializer):
    method = serializers.ChoiceField(choices=APP_METHODS)
    request_id = serializers.CharField(
        max_length=40, help_text=_("The app's own id for this purchase; resend on retry.")
    )
    coupon = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class PurchaseSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    total = serializers.DecimalField(source="order.total", max_digits=14, decimal_places=2)
    discount = serializers.DecimalField(source="order.discount_total", max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(source="order.paid_amount", max_digits=14, decimal_places=2)
    payment = serializers.SerializerMethodField()

    def get_payment(self, vend) -> dict | None:
        payment = self.context.get("payment")
        return VendPaymentSerializer(payment).data if payment else None


class CustomerMachineViewSet(CustomerViewMixin, viewsets.ViewSet):
    """A member at a machine: what the scanned slot costs them, and buying it."""

    @extend_schema(request=ScanSerializer, responses={200: QuoteSerializer})
    @action(detail=False, methods=["post"])
    def scan(self, request):
        from orders.payments import provider_get

        serializer = ScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        slot = slot_for_app_code(serializer.validated_data["code"])
        coupons = CustomerCouponViewSet(request=request, format_kwarg=None)
        coupons.request = request
        body = {
            "machine": slot.device.name,
            "slot": slot.code,
            "product": slot.product.name,
            "price": slot.sale_price,
            "member_price": member_price(customer=self.customer, slot=slot),
            "in_stock": slot.level.quantity > 0,
            "methods": [code for code in APP_METHODS if provider_get(code).available()],
            "coupons": CustomerCouponSerializer(coupons.customer_queryset(), many=True).data,
        }
        return Response(QuoteSerializer(body).data)

    @extend_schema(request=BuySerializer, responses={201: PurchaseSerializer})
    @action(detail=False, methods=["post"])
    def buy(self, request):
        serializer = BuySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        vend, payment = vend_buy_in_app(
            customer=self.customer,
            code=data["code"],
            request_id=data["request_id"],
            method=data["method"],
            coupon=data["coupon"],
        )
        body = PurchaseSerializer(vend, context={"payment": payment}).data
        return Response(body, status=status.HTTP_201_CREATED)


router.register("customer/machine", CustomerMachineViewSet, basename="customer-machine")
