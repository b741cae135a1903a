"""Gateway API: DEX audit reads for staff (scoped, with upload) and for machines and gateways
(`POST /api/v1/device/dex/`, device token)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, parsers, serializers, status, viewsets
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from devices.models import Device
from gateway.models import DexRead, DexSelection, at_places
from gateway.services import dex_import

MAX_UPLOAD = 2_000_000


class MachineMoneyField(serializers.DecimalField):
    """An amount stored at 4 places, given at the machine's own precision (ID4): "5865.30", not
    "5865.3000"; null stays null (a payment block the machine does not send)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=4, read_only=True, **kwargs)

    def to_representation(self, value):
        places = self.context.get("currency_decimals", 4)  # set by DexReadSerializer for each read
        return str(at_places(value, places)) if value is not None else None


class DexSelectionSerializer(serializers.ModelSerializer):
    price = MachineMoneyField()
    value_total = MachineMoneyField()
    value_sold = MachineMoneyField()

    class Meta:
        model = DexSelection
        fields = [
            "selection",
            "name",
            "price",
            "count_total",
            "value_total",
            "count_sold",
            "value_sold",
            "counter_reset",
        ]


class DexReadSerializer(serializers.ModelSerializer):
    selections = serializers.SerializerMethodField()
    vends_value = MachineMoneyField()
    cash_value = MachineMoneyField(allow_null=True)
    cashless_value = MachineMoneyField(allow_null=True)
    sales_value = MachineMoneyField()

    def to_representation(self, instance):
        self.context["currency_decimals"] = instance.currency_decimals
        return super().to_representation(instance)

    @extend_schema_field(DexSelectionSerializer(many=True))
    def get_selections(self, read):
        context = {**self.context, "currency_decimals": read.currency_decimals}
        return DexSelectionSerializer(read.selections.all(), many=True, context=context).data

    class Meta:
        model = DexRead
        fields = [
            "id",
            "device",
            "received_at",
            "read_at",
            "taken_at",
            "source",
            "currency_decimals",
            "machine_serial",
            "vends_count",
            "vends_value",
            "cash_value",
            "cashless_value",
            "sales_count",
            "sales_value",
            "warnings",
            "selections",
        ]
        read_only_fields = fields


class DexUploadSerializer(serializers.Serializer):
    device = serializers.IntegerField()
    file = serializers.FileField()

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD:
            raise serializers.ValidationError(_("The file is larger than 2 MB."))
        return upload


class DexReadViewSet(ScopedReadOnlyViewSet):
    queryset = DexRead.objects.all()
    serializer_class = DexReadSerializer
    filterset_fields = ["device", "source"]
    select_related = ("device",)

    @extend_schema(request={"multipart/form-data": DexUploadSerializer}, responses={201: DexReadSerializer})
    def create(self, request, *args, **kwargs):
        """Upload a DEX file read from a machine (the same file twice is stored once)."""
        if not request.user.has_perm("gateway.add_dexread"):
            raise exceptions.PermissionDenied()
        serializer = DexUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = get_object_or_404(
            Device.objects.restrict(request.user, "change"), pk=serializer.validated_data["device"]
        )
        read, created = dex_import(
            device=device,
            content=serializer.validated_data["file"].read(),
            source=DexRead.Source.UPLOAD,
            actor=request.user,
        )
        return Response(DexReadSerializer(read).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class DeviceDexViewSet(viewsets.ViewSet):
    """A machine or its gateway sends a DEX audit as the request body (text/plain)."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    parser_classes = [parsers.FileUploadParser]

    @extend_schema(request={"text/plain": bytes}, responses={201: DexReadSerializer, 200: DexReadSerializer})
    def create(self, request):
        upload = request.data.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": _("Send the DEX file as the request body.")})
        if upload.size > MAX_UPLOAD:
            raise exceptions.ValidationError({"file": _("The file is larger than 2 MB.")})
        read, created = dex_import(
            device=request.auth, content=upload.read(), source=DexRead.Source.DEVICE, actor=request.auth
        )
        return Response(DexReadSerializer(read).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


router.register("dex-reads", DexReadViewSet)
router.register("device/dex", DeviceDexViewSet, basename="device-dex")
