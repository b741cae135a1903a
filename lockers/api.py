"""Lockers API: compartments and locker orders for staff (scoped), locker orders for API partners
(partner key, docs/adr/0017), and code entry for locker banks (device token)."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api import ScopedMixin, ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from devices.models import Device
from lockers import services
from lockers.models import Compartment, LockerOrder
from lockers.services import locker_phone_confirmation_send, locker_pickup, locker_pickup_confirmed
from orders.idempotency import idempotent
from orders.partner_api import IDEMPOTENCY_PARAMETER, PartnerViewMixin
from orders.partners import partner_may_use
from pickup.services import EntryLocked


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
        """A code entered at this locker bank: a drop-off code opens the reserved compartment for the
        depositor, a pickup code opens the recipient's; each once. `purpose` says which."""
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            locker_order = locker_pickup(bank=request.auth, code=data["code"], source=_source(request, data))
        except ValidationError as error:
            return _refusal(error)
        purpose = "dropoff" if locker_order.stage == LockerOrder.Stage.ASSIGNED else "pickup"
        return Response({"door": locker_order.compartment.door, "order": locker_order.order.number, "purpose": purpose})

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


# --- Locker orders placed by staff and partners -------------------------------------------------
class LockerOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="order.number", read_only=True)
    order_id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(source="order.status", read_only=True)
    parcel_reference = serializers.CharField(source="order.external_reference", read_only=True)
    door = serializers.IntegerField(source="compartment.door", read_only=True)
    created_at = serializers.DateTimeField(source="order.created_at", read_only=True)

    class Meta:
        model = LockerOrder
        fields = [
            "id",
            "order_id",
            "number",
            "status",
            "stage",
            "bank",
            "door",
            "size",
            "parcel_reference",
            "keep_days",
            "overdue_fee_per_day",
            "created_at",
            "ready_at",
            "collected_at",
        ]
        read_only_fields = fields


class LockerOrderCreatedSerializer(LockerOrderSerializer):
    dropoff_code = serializers.CharField(
        read_only=True, help_text=_("The depositor types it at the bank's keypad to open the compartment. Shown once.")
    )

    class Meta(LockerOrderSerializer.Meta):
        fields = [*LockerOrderSerializer.Meta.fields, "dropoff_code"]
        read_only_fields = fields


class LockerOrderInputSerializer(serializers.Serializer):
    size = serializers.ChoiceField(
        choices=Compartment.Size.choices, help_text=_("The smallest free compartment of this size or larger.")
    )
    recipient_phone = serializers.CharField(max_length=32, help_text=_("Gets the pickup code by SMS."))
    parcel_reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    sender_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text=_("Told by SMS if the parcel goes back.")
    )
    keep_days = serializers.IntegerField(
        min_value=1,
        max_value=services.KEEP_DAYS_MAX,
        required=False,
        allow_null=True,
        help_text=_("Days the goods wait for the recipient; the bank's storage rule when left out."),
    )
    overdue_fee = serializers.BooleanField(
        default=True, help_text=_("Whether the recipient pays the bank's fee for goods left past the free hours.")
    )
    open_now = serializers.BooleanField(
        default=False, help_text=_("Open the door at once (the depositor is at the bank) instead of by drop-off code.")
    )


class StaffLockerOrderInputSerializer(LockerOrderInputSerializer):
    # Any device in scope; the service refuses one that is not a locker bank, with that message.
    bank = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all())


class PartnerLockerOrderInputSerializer(LockerOrderInputSerializer):
    bank = serializers.IntegerField(help_text=_("A locker bank this key was given (see /partner/me/)."))


def _locker_order_create(data: dict, *, bank, actor, partner=None) -> Response:
    locker_order, code = services.locker_order_create(
        bank=bank,
        size=data["size"],
        recipient_phone=data["recipient_phone"],
        parcel_reference=data.get("parcel_reference", ""),
        sender_phone=data.get("sender_phone", ""),
        keep_days=data.get("keep_days"),
        overdue_fee=data["overdue_fee"],
        open_now=data["open_now"],
        actor=actor,
        partner=partner,
    )
    locker_order.dropoff_code = code
    return Response(LockerOrderCreatedSerializer(locker_order).data, status=status.HTTP_201_CREATED)


class LockerOrderViewSet(ScopedMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Locker orders of the banks in scope. POST places a parcel for a recipient at a bank:
    the smallest fitting compartment is reserved and the drop-off code is in the answer, once."""

    queryset = LockerOrder.objects.all()
    serializer_class = LockerOrderSerializer
    select_related = ("order", "compartment")
    filterset_fields = ["bank", "stage", "size"]

    @extend_schema(request=StaffLockerOrderInputSerializer, responses={201: LockerOrderCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.scoped_serializer(StaffLockerOrderInputSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        return _locker_order_create(data, bank=data["bank"], actor=request.user)


class PartnerLockerOrderViewSet(
    PartnerViewMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Locker orders this key placed. POST reserves a compartment at a bank this key was given and
    answers with the depositor's drop-off code (an idempotent replay answers the same)."""

    serializer_class = LockerOrderSerializer
    queryset = LockerOrder.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LockerOrder.objects.none()
        return (
            LockerOrder.objects.filter(order__partner=self.client)
            .select_related("order", "compartment")
            .order_by("-pk")
        )

    @extend_schema(
        request=PartnerLockerOrderInputSerializer,
        responses={201: LockerOrderCreatedSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = PartnerLockerOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        partner_may_use(self.client, bank=data["bank"])
        bank = Device.objects.filter(pk=data["bank"], kind=Device.Kind.LOCKER).first()
        if bank is None:
            raise exceptions.ValidationError({"bank": [_("This is not a locker bank.")]})
        return _locker_order_create(data, bank=bank, actor=self.client, partner=self.client)


router.register("compartments", CompartmentViewSet)
router.register("locker-orders", LockerOrderViewSet)
router.register("partner/locker-orders", PartnerLockerOrderViewSet, basename="partner-locker-orders")
router.register("device/pickup", DevicePickupViewSet, basename="device-pickup")

import lockers.customer_api  # noqa: E402,F401  (registers the customers' endpoints)
