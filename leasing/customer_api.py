"""Renting from the customer app: scan a station's QR code, see what it rents and on what terms
(deposit or pay later by member level), rent one, follow its running cost, return it at any
station of the region (the station reports it), renew a long-term lease. Amounts come from the
server."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import router
from devices.models import Device
from devices.services import device_for_app_code
from leasing.api import LeaseSerializer
from leasing.models import Asset, Lease
from leasing.services import lease_extend, lease_start_at_station, pays_later, plan_for_kind
from members.customer_api import CustomerViewMixin


class StationScanSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=500, help_text=_("The text of the QR code on the station."))


class OfferSerializer(serializers.Serializer):
    kind = serializers.CharField()
    available = serializers.IntegerField()
    plan = serializers.CharField()
    unit_minutes = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    free_minutes = serializers.IntegerField()
    daily_cap = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    deposit = serializers.DecimalField(max_digits=14, decimal_places=2)
    pay_later = serializers.BooleanField(help_text=_("True: no deposit; the rental is paid at return."))


class StationSerializer(serializers.Serializer):
    station = serializers.CharField()
    site = serializers.CharField()
    offers = OfferSerializer(many=True)


class RentSerializer(StationScanSerializer):
    kind = serializers.CharField(max_length=40)


class RenewSerializer(serializers.Serializer):
    periods = serializers.IntegerField(min_value=1, max_value=24, default=1)


class CustomerRentalViewSet(
    CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin
):
    """The customer's rentals: what a station offers, renting, the running cost, renewing."""

    serializer_class = LeaseSerializer
    queryset = Lease.objects.none()

    def customer_queryset(self):
        return Lease.objects.filter(customer=self.customer).select_related("order", "plan").order_by("-rented_at")

    def _offers(self, station: Device) -> list[dict]:
        offers = []
        kinds = (
            Asset.objects.filter(station=station, state=Asset.State.AVAILABLE)
            .values("kind")
            .annotate(available=Count("pk"))
            .order_by("kind")
        )
        for row in kinds:
            try:
                plan = plan_for_kind(station.site, row["kind"])
            except ValidationError:  # no plan for this kind here: not offered
                continue
            later = pays_later(self.customer, plan)
            offers.append(
                {
                    "kind": row["kind"],
                    "available": row["available"],
                    "plan": plan.name,
                    "unit_minutes": plan.unit_minutes,
                    "unit_price": plan.unit_price,
                    "free_minutes": plan.free_minutes,
                    "daily_cap": plan.daily_cap,
                    "deposit": 0 if later else plan.deposit,
                    "pay_later": later,
                }
            )
        return offers

    @extend_schema(request=StationScanSerializer, responses={200: StationSerializer})
    @action(detail=False, methods=["post"])
    def scan(self, request):
        serializer = StationScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        station = device_for_app_code(serializer.validated_data["code"], kind=Device.Kind.RENTAL)
        body = {"station": station.name, "site": station.site.name, "offers": self._offers(station)}
        return Response(StationSerializer(body).data)

    @extend_schema(request=RentSerializer, responses={201: LeaseSerializer})
    def create(self, request):
        """Rent one item of `kind` from the scanned station; it is ejected once the deposit is held."""
        serializer = RentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        station = device_for_app_code(serializer.validated_data["code"], kind=Device.Kind.RENTAL)
        lease = lease_start_at_station(
            customer=self.customer, station=station, kind=serializer.validated_data["kind"], actor=self.customer
        )
        return Response(LeaseSerializer(lease).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RenewSerializer, responses={200: LeaseSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        """Extend a long-term lease by whole periods (before or after it is due)."""
        lease = get_object_or_404(self.customer_queryset(), pk=pk)
        serializer = RenewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lease = lease_extend(lease=lease, periods=serializer.validated_data["periods"], actor=self.customer)
        return Response(LeaseSerializer(lease).data)


router.register("customer/rentals", CustomerRentalViewSet, basename="customer-rentals")
