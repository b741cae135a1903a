"""Lockers API: compartments for staff (scoped) and code entry for locker banks (device token)."""

from django.core.exceptions import ValidationError
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
from lockers.services import locker_phone_confirmation_send, locker_pickup, locker_pickup_confirmed
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


def _session_field():
    return serializers.RegexField(
        r"^[A-Za-z0-9_.:-]{1,64}$",
        required=False,
        help_text=_(
            "The keypad session this code was typed in (the machine starts a new one for each customer). "
            "Wrong codes lock this session, not the whole bank."
        ),
    )


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text=_("The digits the customer typed or the QR carried."))
    session = _session_field()


class PhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text=_("The phone number the pickup code was sent to."))


class ConfirmedCodeSerializer(CodeSerializer):
    phone = serializers.CharField(max_length=32, help_text=_("The phone number the pickup code was sent to."))
    confirmation = serializers.CharField(max_length=12, help_text=_("The one-time code sent to that phone by SMS."))


def _source(request, data) -> str:
    """Who is typing: the keypad session the machine reports, else the API client (the machine's
    token) as a whole."""
    bank = request.auth
    session = data.get("session")
    return f"device:{bank.pk}:keypad:{session}" if session else f"device:{bank.pk}:api"


def _refusal(error: ValidationError) -> Response:
    if isinstance(error, EntryLocked):
        return Response({"detail": error.messages[0], "confirm_by_phone": True}, status=status.HTTP_423_LOCKED)
    if getattr(error, "error_dict", None):
        return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": error.messages[0]}, status=status.HTTP_400_BAD_REQUEST)


class DevicePickupViewSet(viewsets.ViewSet):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(
        request=CodeSerializer,
        responses={
            200: None,
            400: OpenApiResponse(description="invalid or expired"),
            423: OpenApiResponse(description="locked for this session or the whole bank: confirm by phone"),
        },
    )
    def create(self, request):
        """A pickup code entered at this locker bank: its compartment opens once."""
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            locker_order = locker_pickup(bank=request.auth, code=data["code"], source=_source(request, data))
        except (EntryLocked, InvalidCode) as error:
            return _refusal(error)
        return Response({"door": locker_order.compartment.door, "order": locker_order.order.number})

    @extend_schema(
        request=PhoneSerializer,
        responses={202: None, 400: OpenApiResponse(description="not a phone number, or asked too often")},
    )
    @action(detail=False, methods=["post"])
    def phone(self, request):
        """The customer's phone number: if a parcel for it waits in this bank, a one-time code goes to
        it by SMS (the answer is the same either way)."""
        serializer = PhoneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            locker_phone_confirmation_send(bank=request.auth, phone=serializer.validated_data["phone"])
        except ValidationError as error:
            return _refusal(error)
        return Response(
            {"detail": _("If a parcel for this number waits here, a confirmation code was sent to it by SMS.")},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        request=ConfirmedCodeSerializer,
        responses={200: None, 400: OpenApiResponse(description="invalid or expired code or confirmation")},
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request):
        """The pickup code with the one-time code sent to the customer's phone: opens even while code
        entry is locked here."""
        serializer = ConfirmedCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            locker_order = locker_pickup_confirmed(
                bank=request.auth,
                code=data["code"],
                phone=data["phone"],
                otp=data["confirmation"],
                source=_source(request, data),
            )
        except ValidationError as error:
            return _refusal(error)
        return Response({"door": locker_order.compartment.door, "order": locker_order.order.number})


router.register("compartments", CompartmentViewSet)
router.register("device/pickup", DevicePickupViewSet, basename="device-pickup")
