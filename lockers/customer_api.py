"""Booking a locker compartment from the customer app (docs/adr/0019): the banks the customer may
use with each size's price and free count, booking one (paid by wallet balance, points or an
online provider), the customer's bookings, and the drop-off code of a paid booking. Every amount
comes from the server; the app only chooses."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import router
from devices.models import Device
from lockers.bookings import (
    BOOKING_METHODS,
    BOOKING_UNPAID_TIMEOUT,
    bank_for_booking,
    banks_for_customer,
    booking_cancel,
    booking_dropoff_code,
    booking_price,
    free_by_size,
    locker_book,
)
from lockers.models import SIZES, LockerOrder
from members.customer_api import CustomerViewMixin
from orders.models import Channel, OrderStatus


class BookingPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.CharField(source="provider")
    status = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    qr = serializers.SerializerMethodField(help_text=_("The QR code string or payment link to pay it with."))

    def get_qr(self, payment) -> str | None:
        if payment.status != "pending":
            return None
        return (payment.data or {}).get("qr")


class SizeOfferSerializer(serializers.Serializer):
    size = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=2)
    free = serializers.IntegerField(help_text=_("Free compartments of exactly this size now."))


class BookableBankSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    site = serializers.CharField()
    sizes = SizeOfferSerializer(many=True)
    methods = serializers.ListField(child=serializers.CharField())


class BookingSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    bank = serializers.CharField(source="bank.name")
    door = serializers.IntegerField(source="compartment.door")
    price = serializers.DecimalField(source="order.total", max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(source="order.paid_amount", max_digits=14, decimal_places=2)
    created_at = serializers.DateTimeField(source="order.created_at")
    pay_until = serializers.SerializerMethodField()

    class Meta:
        model = LockerOrder
        fields = ["id", "number", "status", "stage", "bank", "door", "size", "price", "paid", "created_at", "pay_until"]
        read_only_fields = fields

    def get_pay_until(self, locker_order) -> str | None:
        if locker_order.order.status != OrderStatus.NEW:
            return None
        return serializers.DateTimeField().to_representation(locker_order.order.created_at + BOOKING_UNPAID_TIMEOUT)


class BankScanSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=500, help_text=_("The text of the QR code on the bank's screen."))


class BookSerializer(serializers.Serializer):
    bank = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    size = serializers.ChoiceField(choices=SIZES)
    method = serializers.ChoiceField(choices=BOOKING_METHODS)
    request_id = serializers.CharField(
        max_length=40, help_text=_("The app's own id for this booking; resend on retry.")
    )


class BookedSerializer(BookingSerializer):
    payment = serializers.SerializerMethodField()
    dropoff_code = serializers.SerializerMethodField(
        help_text=_("Type it at the bank to open the compartment; empty until the booking is paid.")
    )

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "payment", "dropoff_code"]
        read_only_fields = fields

    def get_payment(self, locker_order) -> dict | None:
        payment = self.context.get("payment")
        return BookingPaymentSerializer(payment).data if payment else None

    def get_dropoff_code(self, locker_order) -> str:
        return self.context.get("code") or ""


class DropoffCodeSerializer(serializers.Serializer):
    dropoff_code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class CustomerLockerBookingViewSet(
    CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """The customer's locker bookings: where they can book, booking and paying, the drop-off code."""

    serializer_class = BookingSerializer
    queryset = LockerOrder.objects.none()

    def customer_queryset(self):
        return (
            LockerOrder.objects.filter(order__customer=self.customer, order__channel=Channel.CUSTOMER_APP)
            .select_related("order", "bank", "compartment")
            .order_by("-pk")
        )

    def _offer(self, bank, methods) -> dict:
        return {
            "id": bank.pk,
            "name": bank.name,
            "site": bank.site.name,
            "sizes": [
                {"size": size, "price": booking_price(bank=bank, size=size), "free": free}
                for size, free in free_by_size(bank).items()
            ],
            "methods": methods,
        }

    def _methods(self) -> list[str]:
        from orders.payments import provider_get

        return [code for code in BOOKING_METHODS if provider_get(code).available()]

    @extend_schema(responses={200: BookableBankSerializer(many=True)})
    @action(detail=False, methods=["get"])
    def banks(self, request):
        """The locker banks of the customer's region, each size's price and free compartments."""
        methods = self._methods()
        body = [self._offer(bank, methods) for bank in banks_for_customer(self.customer)]
        return Response(BookableBankSerializer(body, many=True).data)

    @extend_schema(request=BankScanSerializer, responses={200: BookableBankSerializer})
    @action(detail=False, methods=["post"])
    def scan(self, request):
        """The customer standing at a bank scans the QR code on its screen: that bank's offer."""
        from devices.services import device_for_app_code

        serializer = BankScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scanned = device_for_app_code(serializer.validated_data["code"], kind=Device.Kind.LOCKER)
        bank = bank_for_booking(customer=self.customer, bank_id=scanned.pk)
        return Response(BookableBankSerializer(self._offer(bank, self._methods())).data)

    @extend_schema(request=BookSerializer, responses={201: BookedSerializer})
    def create(self, request):
        """Book the smallest free compartment of at least `size` and pay for it."""
        serializer = BookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        bank = bank_for_booking(customer=self.customer, bank_id=data["bank"])
        locker_order, payment, code = locker_book(
            customer=self.customer, bank=bank, size=data["size"], method=data["method"], request_id=data["request_id"]
        )
        body = BookedSerializer(locker_order, context={"payment": payment, "code": code}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: DropoffCodeSerializer})
    @action(detail=True, methods=["post"], url_path="dropoff-code")
    def dropoff_code(self, request, pk=None):
        """A fresh drop-off code for a paid booking still waiting for its parcel (the old one dies)."""
        locker_order = get_object_or_404(self.customer_queryset(), pk=pk)
        row, code = booking_dropoff_code(locker_order=locker_order)
        return Response(
            DropoffCodeSerializer({"dropoff_code": code, "expires_at": row.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=None, responses={200: BookingSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Give up a booking not paid yet: its compartment is free again at once."""
        locker_order = get_object_or_404(self.customer_queryset(), pk=pk)
        if not booking_cancel(locker_order=locker_order, actor=self.customer, reason=gettext("cancelled in the app")):
            raise serializers.ValidationError(_("Only a booking not paid yet can be cancelled."))
        return Response(BookingSerializer(self.customer_queryset().get(pk=locker_order.pk)).data)


router.register("customer/locker-bookings", CustomerLockerBookingViewSet, basename="customer-locker-bookings")
