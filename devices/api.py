"""Devices API: for staff (the fleet, commands, faults, telemetry — scoped) and for the machines
themselves (`/api/v1/device/…`, token authenticated, a device sees only itself)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AnonymousUser
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from core.api import ScopedReadOnlyViewSet, ScopedViewSet, router
from devices import services
from devices.filters import DeviceFilter
from devices.models import Device, DeviceCommand, Fault, Telemetry

logger = logging.getLogger(__name__)


# --- Staff --------------------------------------------------------------------------------
class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = [
            "id",
            "serial_number",
            "name",
            "kind",
            "model_name",
            "site",
            "latitude",
            "longitude",
            "state",
            "last_seen_at",
            "installed_at",
            "paired_at",
            "firmware",
            "is_active",
            "telemetry_at",
            "temperature",
            "signal_dbm",
            "powered",
            "door_open",
        ]
        read_only_fields = [
            "state",
            "last_seen_at",
            "paired_at",
            "firmware",
            "telemetry_at",
            "temperature",
            "signal_dbm",
            "powered",
            "door_open",
        ]

    def validate_site(self, site):
        from core.models import Site

        if not Site.objects.restrict(self.context["request"].user, "change").filter(pk=site.pk).exists():
            raise serializers.ValidationError(_("You may not place devices at this site."))
        return site


class CommandSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceCommand
        fields = [
            "id",
            "command_id",
            "device",
            "kind",
            "payload",
            "reference",
            "status",
            "attempts",
            "created_at",
            "expires_at",
            "sent_at",
            "acknowledged_at",
            "finished_at",
            "result",
            "actor_label",
        ]
        read_only_fields = fields


class CommandRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=sorted(services.registry.CONSOLE_COMMANDS))
    payload = serializers.DictField(required=False, default=dict)
    ttl_seconds = serializers.IntegerField(required=False, min_value=1, max_value=7 * 24 * 3600)


class TokenSerializer(serializers.Serializer):
    device = serializers.IntegerField()
    token = serializers.CharField(help_text=_("Shown once; only its hash is stored."))


class DeviceViewSet(ScopedViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    search_fields = ["name", "serial_number"]
    select_related = ("site",)
    http_method_names = ["get", "post", "patch", "put", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.device_register(actor=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=TokenSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """Issue a new device token (the old one stops working). Administrators only."""
        device = self.get_object()
        if not request.user.has_perm("devices.change_devicecredential"):
            raise exceptions.PermissionDenied(_("Only administrators may issue device tokens."))
        token = services.device_token_rotate(device=device, actor=request.user)
        return Response({"device": device.pk, "token": token})

    @extend_schema(request=CommandRequestSerializer, responses={201: CommandSerializer})
    @action(detail=True, methods=["post"])
    def commands(self, request, pk=None):
        """Send a remote command to this device."""
        device = self.get_object()
        serializer = CommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not services.console_command_allowed(
            user=request.user, device=device, kind=serializer.validated_data["kind"]
        ):
            raise exceptions.PermissionDenied(_("You may not send this command to this device."))
        command = services.command_send(device=device, actor=request.user, **serializer.validated_data)
        return Response(CommandSerializer(command).data, status=status.HTTP_201_CREATED)


class DeviceCommandViewSet(ScopedReadOnlyViewSet):
    queryset = DeviceCommand.objects.all()
    serializer_class = CommandSerializer
    filterset_fields = ["device", "status", "kind", "reference"]
    select_related = ("device",)


class FaultSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fault
        fields = ["id", "device", "code", "slot", "message", "opened_at", "resolved_at", "resolved_by"]
        read_only_fields = fields


class FaultViewSet(ScopedReadOnlyViewSet):
    queryset = Fault.objects.all()
    serializer_class = FaultSerializer
    filterset_fields = ["device", "code", "slot"]

    @extend_schema(request=None, responses=FaultSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        fault = get_object_or_404(Fault.objects.restrict(request.user, "change"), pk=pk)
        if not request.user.has_perm("devices.change_fault"):
            raise exceptions.PermissionDenied()
        return Response(FaultSerializer(services.fault_resolve(fault=fault, actor=request.user)).data)


class TelemetrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Telemetry
        fields = ["id", "device", "at", "powered", "signal_dbm", "temperature", "door_open", "firmware", "data"]
        read_only_fields = fields


class TelemetryViewSet(ScopedReadOnlyViewSet):
    queryset = Telemetry.objects.all()
    serializer_class = TelemetrySerializer
    filterset_fields = ["device"]


# --- The machines -----------------------------------------------------------------------------
class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Device <token>`; request.auth is the Device, request.user anonymous."""

    keyword = "Device"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        device = services.device_for_token(header[len(self.keyword) + 1 :].strip())
        if device is None:
            logger.warning("Device API: unknown or revoked token from %s", request.META.get("REMOTE_ADDR"))
            raise exceptions.AuthenticationFailed(_("Unknown or revoked device token."))
        return AnonymousUser(), device

    def authenticate_header(self, request):
        return self.keyword


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _("`Device <token>`: the token a machine received when it was paired."),
        }


class IsDevice(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Device)


class PairSerializer(serializers.Serializer):
    serial_number = serializers.CharField(max_length=64)
    firmware = serializers.CharField(max_length=40, required=False, default="", allow_blank=True)


class SlotFaultSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    slot = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    message = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class HeartbeatSerializer(serializers.Serializer):
    power = serializers.BooleanField(required=False, allow_null=True, default=None)
    signal_dbm = serializers.IntegerField(required=False, min_value=-150, max_value=0, allow_null=True)
    temperature = serializers.DecimalField(
        max_digits=5, decimal_places=1, required=False, allow_null=True, min_value=-60, max_value=120
    )
    door_open = serializers.BooleanField(required=False, allow_null=True, default=None)
    firmware = serializers.CharField(max_length=40, required=False, allow_blank=True)
    slot_faults = SlotFaultSerializer(many=True, required=False)
    data = serializers.DictField(required=False)


class EventSerializer(serializers.Serializer):
    kind = serializers.RegexField(r"^[a-z][a-z0-9_]{0,39}$", help_text="door_opened, door_closed, sale, …")
    data = serializers.DictField(required=False, default=dict)
    event_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text=_("Set it when you retry: the event is stored once.")
    )


class ResultSerializer(serializers.Serializer):
    succeeded = serializers.BooleanField()
    result = serializers.DictField(required=False, default=dict)


class DeviceStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    last_seen_at = serializers.DateTimeField(allow_null=True)


class PairThrottle(AnonRateThrottle):
    rate = "30/minute"


def _state(device: Device) -> dict:
    return {"id": device.pk, "state": device.state, "last_seen_at": device.last_seen_at}


class AppCodeSerializer(serializers.Serializer):
    app_code = serializers.CharField()


class DeviceSelfViewSet(viewsets.ViewSet):
    """The API machines call. Every endpoint except pairing needs the device's own token."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(
        request=PairSerializer,
        responses={201: TokenSerializer, 400: OpenApiResponse(description="unknown serial or already paired")},
        auth=[],
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[permissions.AllowAny],
        authentication_classes=[],
        throttle_classes=[PairThrottle],
    )
    def pair(self, request):
        """Pair a newly installed machine by its serial number. The token is shown once."""
        serializer = PairSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device, token = services.device_pair(
            actor=f"pairing from {request.META.get('REMOTE_ADDR', '?')}", **serializer.validated_data
        )
        return Response({"device": device.pk, "token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AppCodeSerializer)
    @action(detail=False, methods=["get"], url_path="app-code")
    def app_code(self, request):
        """The code to show as a QR code on this machine's screen: a customer scans it in the app
        to rent from this station or use this locker bank."""
        return Response({"app_code": services.device_app_code(request.auth)})

    @extend_schema(request=HeartbeatSerializer, responses=DeviceStateSerializer)
    @action(detail=False, methods=["post"])
    def heartbeat(self, request):
        """I am alive, with optional telemetry (power, signal, temperature, door, firmware, slot faults)."""
        serializer = HeartbeatSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        extra = data.pop("data", None) or {}
        device = services.device_heartbeat(device=request.auth, telemetry={**extra, **data})
        return Response(_state(device))

    @extend_schema(request=EventSerializer, responses={201: None})
    @action(detail=False, methods=["post"])
    def events(self, request):
        """Something happened at the machine: door opened / closed, a sale, an asset returned…"""
        serializer = EventSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.device_event_record(device=request.auth, **serializer.validated_data)
        return Response({"id": event.pk}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=CommandSerializer(many=True), operation_id="device_self_commands_pending")
    @action(detail=False, methods=["get"], url_path="commands")
    def commands(self, request):
        """Commands to run now. Acknowledge each by its command_id before running it."""
        return Response(CommandSerializer(services.commands_pending(device=request.auth), many=True).data)

    @extend_schema(request=None, responses=CommandSerializer)
    @action(detail=False, methods=["post"], url_path=r"commands/(?P<command_id>[0-9a-fA-F-]{32,36})/ack")
    def acknowledge(self, request, command_id=None):
        command = services.command_acknowledge(command_id=command_id, device=request.auth)
        return Response(CommandSerializer(command).data)

    @extend_schema(request=ResultSerializer, responses=CommandSerializer)
    @action(detail=False, methods=["post"], url_path=r"commands/(?P<command_id>[0-9a-fA-F-]{32,36})/result")
    def result(self, request, command_id=None):
        serializer = ResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        command = services.command_report(command_id=command_id, device=request.auth, **serializer.validated_data)
        return Response(CommandSerializer(command).data)


router.register("devices", DeviceViewSet)
router.register("device-commands", DeviceCommandViewSet)
router.register("device-faults", FaultViewSet)
router.register("device-telemetry", TelemetryViewSet)
router.register("device", DeviceSelfViewSet, basename="device-self")
