"""Vending API: slots (the planogram) for staff, and sales for machines.

A machine starts a sale with its own request id (`POST /api/v1/device/vends/`); repeating the
request returns the same order. Payment then goes through the order's payment endpoints, and the
dispense command reaches the machine through `/api/v1/device/commands/`.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from vending.models import Slot
from vending.services import vend_start


class SlotSerializer(serializers.ModelSerializer):
    quantity = serializers.IntegerField(source="level.quantity", read_only=True)
    capacity = serializers.IntegerField(source="level.capacity", read_only=True)
    sale_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = Slot
        fields = ["id", "device", "code", "product", "price", "sale_price", "quantity", "capacity", "is_active"]
        read_only_fields = fields


class SlotViewSet(ScopedReadOnlyViewSet):
    queryset = Slot.objects.all()
    serializer_class = SlotSerializer
    filterset_fields = ["device", "product", "is_active"]
    select_related = ("level", "product")


class VendRequestSerializer(serializers.Serializer):
    slot = serializers.CharField(max_length=20)
    request_id = serializers.CharField(
        max_length=64, help_text=_("The machine's own id for this sale; resend it on retry.")
    )


class VendSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    total = serializers.DecimalField(source="order.total", max_digits=14, decimal_places=2)
    slot = serializers.CharField(source="slot.code")
    request_id = serializers.CharField()


class DeviceVendViewSet(viewsets.ViewSet):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(request=VendRequestSerializer, responses={201: VendSerializer})
    def create(self, request):
        """Start a sale of one item from a slot of this machine."""
        serializer = VendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vend = vend_start(
            device=request.auth,
            slot_code=serializer.validated_data["slot"],
            request_id=serializer.validated_data["request_id"],
        )
        return Response(VendSerializer(vend).data, status=status.HTTP_201_CREATED)


router.register("slots", SlotViewSet)
router.register("device/vends", DeviceVendViewSet, basename="device-vends")
