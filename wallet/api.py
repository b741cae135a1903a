"""Wallet API endpoints; registered on core.api.router.

Customers (their app's token) list their recharges and refund one they have not spent: the money
goes back through the provider that took it and the bonus it earned is clawed back."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import router
from members.customer_api import CustomerViewMixin
from wallet.models import Recharge
from wallet.recharges import recharge_refund


class CustomerRechargeSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    created_at = serializers.DateTimeField(source="order.created_at")
    refundable = serializers.SerializerMethodField(help_text=_("Credited, not refunded yet."))

    class Meta:
        model = Recharge
        fields = ["id", "number", "status", "amount", "bonus", "created_at", "refundable"]
        read_only_fields = fields

    def get_refundable(self, recharge) -> bool:
        return bool(recharge.credited_id and not recharge.refunded_id)


class RechargeRefundSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CustomerRechargeListViewSet(
    CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    serializer_class = CustomerRechargeSerializer
    queryset = Recharge.objects.none()

    def customer_queryset(self):
        return Recharge.objects.filter(customer=self.customer).select_related("order")

    @extend_schema(request=RechargeRefundSerializer, responses={200: CustomerRechargeSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Refund an unspent recharge in full: the money goes back to where it came from and the
        bonus it earned leaves the wallet. Refused if some of it was spent."""
        from orders.payments import provider_get

        recharge = get_object_or_404(self.customer_queryset(), pk=pk)
        serializer = RechargeRefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = recharge.order.payments.filter(status="succeeded").first()
        if payment is not None and provider_get(payment.provider).collected_in_person:
            raise serializers.ValidationError(_("This recharge was paid at a store; the store refunds it."))
        reason = serializer.validated_data["reason"].strip() or str(_("asked for in the app"))
        recharge = recharge_refund(recharge=recharge, actor=self.customer, reason=reason)
        recharge.order.refresh_from_db()
        return Response(CustomerRechargeSerializer(recharge).data)


router.register("customer/recharges", CustomerRechargeListViewSet, basename="customer-recharges")
