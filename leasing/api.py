"""Leasing API for staff: assets, leases with their running cost, and a clerk's return scan."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from core.models import Site
from leasing.models import Asset, BulkItem, Lease
from leasing.pricing import minutes_between, price
from leasing.services import bulk_lease_return, bulk_lease_start, lease_extend, lease_return, lease_start


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["id", "serial", "kind", "state", "station", "slot", "site"]
        read_only_fields = fields


class LeaseSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="order.number", read_only=True)
    running_cost = serializers.SerializerMethodField()

    class Meta:
        model = Lease
        fields = [
            "id",
            "number",
            "asset",
            "bulk_item",
            "quantity",
            "customer",
            "plan",
            "stage",
            "rented_at",
            "returned_at",
            "minutes",
            "amount",
            "due_at",
            "pay_later",
            "running_cost",
        ]
        read_only_fields = fields

    def get_running_cost(self, lease) -> str | None:
        if lease.stage != Lease.Stage.IN_USE or lease.plan.billing_period:
            return None
        return str(price(lease.plan.pricing(), minutes_between(lease.rented_at, timezone.now())).total)


def _active_customers():
    from members.models import Customer

    return Customer.objects.filter(is_active=True)


class AssetRentSerializer(serializers.Serializer):
    # A related field, so the viewset restricts it to the caller's customers (core.api).
    customer = serializers.PrimaryKeyRelatedField(queryset=_active_customers())


class AssetViewSet(ScopedReadOnlyViewSet):
    queryset = Asset.objects.all()
    serializer_class = AssetSerializer
    filterset_fields = ["kind", "state", "station", "site"]

    @extend_schema(request=AssetRentSerializer, responses={201: LeaseSerializer})
    @action(detail=True, methods=["post"])
    def rent(self, request, pk=None):
        """Rent this asset to a customer: ejected by its station, or handed over by a clerk at a store."""
        if not request.user.has_perm("leasing.change_lease"):
            raise exceptions.PermissionDenied()
        serializer = self.scoped_serializer(AssetRentSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        asset = get_object_or_404(Asset.objects.restrict(request.user, "change").select_related("site__region"), pk=pk)
        lease = lease_start(customer=serializer.validated_data["customer"], asset=asset, actor=request.user)
        return Response(LeaseSerializer(lease).data, status=status.HTTP_201_CREATED)


class ReturnScanSerializer(serializers.Serializer):
    asset = serializers.CharField(max_length=64, help_text=_("The serial or RFID tag scanned at the counter."))
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())


class BulkItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = BulkItem
        fields = ["id", "site", "kind", "total", "available"]
        read_only_fields = fields


class BulkRentSerializer(serializers.Serializer):
    customer = serializers.PrimaryKeyRelatedField(queryset=_active_customers())
    quantity = serializers.IntegerField(min_value=1, max_value=50, default=1)


class BulkReturnSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())


class BulkItemViewSet(ScopedReadOnlyViewSet):
    """Counted rentable items per store; a clerk hands some over to a customer."""

    queryset = BulkItem.objects.all()
    serializer_class = BulkItemSerializer
    filterset_fields = ["site", "kind"]

    @extend_schema(request=BulkRentSerializer, responses={201: LeaseSerializer})
    @action(detail=True, methods=["post"])
    def rent(self, request, pk=None):
        if not request.user.has_perm("leasing.change_lease"):
            raise exceptions.PermissionDenied()
        serializer = self.scoped_serializer(BulkRentSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        item = get_object_or_404(BulkItem.objects.restrict(request.user, "change"), pk=pk)
        lease = bulk_lease_start(
            customer=serializer.validated_data["customer"],
            item=item,
            quantity=serializer.validated_data["quantity"],
            actor=request.user,
        )
        return Response(LeaseSerializer(lease).data, status=status.HTTP_201_CREATED)


class ExtendSerializer(serializers.Serializer):
    periods = serializers.IntegerField(min_value=1, max_value=24, default=1)


class LeaseViewSet(ScopedReadOnlyViewSet):
    queryset = Lease.objects.all()
    serializer_class = LeaseSerializer
    filterset_fields = ["stage", "customer", "asset"]
    select_related = ("order", "plan")

    @extend_schema(request=ReturnScanSerializer, responses={200: LeaseSerializer})
    @action(detail=False, methods=["post"], url_path="return-scan")
    def return_scan(self, request):
        """A clerk scans an asset brought back to the store: the lease is billed and closed."""
        if not request.user.has_perm("leasing.change_lease"):
            raise exceptions.PermissionDenied()
        serializer = self.scoped_serializer(ReturnScanSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        site = get_object_or_404(Site.objects.restrict(request.user, "change"), pk=serializer.validated_data["site"].pk)
        lease = lease_return(asset_serial=serializer.validated_data["asset"], site=site, actor=request.user)
        if lease is None:
            return Response({"asset": [_("This asset is not rented.")]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(LeaseSerializer(lease).data)

    @extend_schema(request=BulkReturnSerializer, responses={200: LeaseSerializer})
    @action(detail=True, methods=["post"], url_path="bulk-return")
    def bulk_return(self, request, pk=None):
        """Counted items brought back to a store of the region: billed and closed."""
        if not request.user.has_perm("leasing.change_lease"):
            raise exceptions.PermissionDenied()
        serializer = self.scoped_serializer(BulkReturnSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        site = get_object_or_404(Site.objects.restrict(request.user, "change"), pk=serializer.validated_data["site"].pk)
        lease = get_object_or_404(Lease.objects.restrict(request.user, "change"), pk=pk)
        return Response(LeaseSerializer(bulk_lease_return(lease=lease, site=site, actor=request.user)).data)

    @extend_schema(request=ExtendSerializer, responses={200: LeaseSerializer})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Extend (or renew) a long-term lease by whole periods; its billing continues."""
        if not request.user.has_perm("leasing.change_lease"):
            raise exceptions.PermissionDenied()
        serializer = ExtendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lease = get_object_or_404(Lease.objects.restrict(request.user, "change"), pk=pk)
        lease = lease_extend(lease=lease, periods=serializer.validated_data["periods"], actor=request.user)
        return Response(LeaseSerializer(lease).data)


router.register("assets", AssetViewSet)
router.register("bulk-items", BulkItemViewSet)
router.register("leases", LeaseViewSet)

import leasing.customer_api  # noqa: E402,F401  (registers the customers' endpoints)
