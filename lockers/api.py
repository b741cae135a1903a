"""Lockers API: compartments for staff (scoped) and code entry for locker banks (device token)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from lockers import services
from lockers.models import Compartment
from lockers.services import locker_pickup
from pickup.services import EntryLocked, InvalidCode


class CompartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Compartment
        fields = ["id", "bank", "door", "size", "state", "door_open", "occupied_sensor"]
        read_only_fields = fields


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class CompartmentViewSet(ScopedReadOnlyViewSet):
    queryset = Compartment.objects.all()
    serializer_class = CompartmentSerializer
    filterset_fields = ["bank", "state", "size"]

    def _changeable(self, request, pk):
        if not request.user.has_perm("lockers.change_compartment"):
            raise exceptions.PermissionDenied()
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        compartment = get_object_or_404(
            Compartment.objects.restrict(request.user, "change").select_related("bank__site"), pk=pk
        )
        return compartment, serializer.validated_data["reason"]

    @extend_schema(request=ReasonSerializer, responses={202: None})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """Open this compartment's door (staff), with the reason in the logs."""
        compartment, reason = self._changeable(request, pk)
        command = services.compartment_reopen(compartment=compartment, actor=request.user, reason=reason)
        return Response({"command_id": str(command.command_id)}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReasonSerializer, responses=CompartmentSerializer)
    @action(detail=True, methods=["post"], url_path="out-of-service")
    def out_of_service(self, request, pk=None):
        compartment, reason = self._changeable(request, pk)
        compartment = services.compartment_out_of_service(compartment=compartment, actor=request.user, reason=reason)
        return Response(CompartmentSerializer(compartment).data)

    @extend_schema(request=ReasonSerializer, responses=None)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        """Move the order waiting for goods here to another free compartment of the bank."""
        compartment, reason = self._changeable(request, pk)
        locker_order = services.locker_reassign(compartment=compartment, actor=request.user, reason=reason)
        return Response({"order": locker_order.order.number, "door": locker_order.compartment.door})


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
