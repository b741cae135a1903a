"""Lockers API: compartments for staff (scoped) and code entry for locker banks (device token)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from lockers.models import Compartment
from lockers.services import locker_pickup
from pickup.services import EntryLocked, InvalidCode


class CompartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Compartment
        fields = ["id", "bank", "door", "size", "state", "door_open", "occupied_sensor"]
        read_only_fields = fields


class CompartmentViewSet(ScopedReadOnlyViewSet):
    queryset = Compartment.objects.all()
    serializer_class = CompartmentSerializer
    filterset_fields = ["bank", "state", "size"]


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text=_("The digits the customer typed or the QR carried."))


class DevicePickupViewSet(viewsets.ViewSet):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(
        request=CodeSerializer,
        responses={
            200: None,
            400: OpenApiResponse(description="invalid or expired"),
            423: OpenApiResponse(description="locked"),
        },
    )
    def create(self, request):
        """A pickup code entered at this locker bank: its compartment opens once."""
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            locker_order = locker_pickup(bank=request.auth, code=serializer.validated_data["code"])
        except EntryLocked as error:
            return Response({"detail": error.messages[0]}, status=status.HTTP_423_LOCKED)
        except InvalidCode as error:
            return Response({"detail": error.messages[0]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"door": locker_order.compartment.door, "order": locker_order.order.number})


router.register("compartments", CompartmentViewSet)
router.register("device/pickup", DevicePickupViewSet, basename="device-pickup")
