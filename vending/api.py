"""Vending API: slots (the planogram) for staff, and sales for machines.

A machine starts a sale with its own request id (`POST /api/v1/device/vends/`); repeating the
request returns the same order. The machine then reports what its coin mech, bill validator or
card reader took, or asks for an online payment and shows the QR code it gets back
(`POST /api/v1/device/vends/<request id>/pay/`); the provider's callback pays that one. Once paid,
the dispense command reaches the machine through `/api/v1/device/commands/`, and its result
completes the sale or refunds it.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.api import ScopedReadOnlyViewSet, router
from devices.api import DeviceTokenAuthentication, IsDevice
from vending.models import RestockLine, RestockTask, Slot
from vending.services import (
    HARDWARE_METHODS,
    ONLINE_METHODS,
    slot_app_code,
    vend_cancel,
    vend_for_request,
    vend_pay,
    vend_start,
)


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


class VendPaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.SerializerMethodField()
    status = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reference = serializers.CharField()
    qr = serializers.SerializerMethodField(help_text=_("What to show on the screen: a QR code string or payment link."))

    def get_method(self, payment) -> str:
        return (payment.data or {}).get("method") or payment.provider

    def get_qr(self, payment) -> str | None:
        if payment.status != "pending":
            return None
        return (payment.data or {}).get("qr")


class VendSerializer(serializers.Serializer):
    order = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    status = serializers.CharField(source="order.status")
    total = serializers.DecimalField(source="order.total", max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(source="order.paid_amount", max_digits=14, decimal_places=2)
    slot = serializers.CharField(source="slot.code")
    request_id = serializers.CharField()
    dispense_command = serializers.SerializerMethodField(
        help_text=_("The id of the dispense command this sale gets once paid.")
    )
    payment = serializers.SerializerMethodField()

    def get_dispense_command(self, vend) -> str | None:
        return str(vend.command_id) if vend.order.paid_amount >= vend.order.total else None

    @extend_schema_field(VendPaymentSerializer(allow_null=True))
    def get_payment(self, vend):
        payment = self.context.get("payment") or vend.order.payments.order_by("-created_at", "-pk").first()
        return VendPaymentSerializer(payment).data if payment else None


class VendPayRequestSerializer(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=[*HARDWARE_METHODS, *ONLINE_METHODS],
        help_text=_(
            "coin, bill or card: what the machine's own hardware took; alipay, wechat or stripe: "
            "an online payment whose QR code the machine shows."
        ),
    )
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("What the hardware took (must equal the price). Online methods take the price from the server."),
    )
    reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text=_("The card reader's approval reference.")
    )
    attempt = serializers.IntegerField(
        min_value=1, max_value=99, default=1, help_text=_("Raise it to try again after a payment failed.")
    )


class DeviceVendViewSet(viewsets.ViewSet):
    """A machine's sales, named by the machine's own request id: start, pay, follow, cancel."""

    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]
    lookup_field = "request_id"
    lookup_value_regex = "[A-Za-z0-9._:-]{1,64}"

    def _vend(self, request, request_id):
        vend = vend_for_request(request.auth, request_id)
        if vend is None:
            raise NotFound(_("This machine has no sale with that request id."))
        return vend

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

    @extend_schema(responses={200: VendSerializer})
    def retrieve(self, request, request_id=None):
        """The sale, its payment (with the QR code to show while it waits) and its dispense command."""
        return Response(VendSerializer(self._vend(request, request_id)).data)

    @extend_schema(request=VendPayRequestSerializer, responses={200: VendSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request, request_id=None):
        """Report what the machine's hardware took, or ask for an online payment to show as a QR
        code. Repeating the same request returns the same payment."""
        vend = self._vend(request, request_id)
        serializer = VendPayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = vend_pay(
            vend=vend,
            method=data["method"],
            amount=data.get("amount"),
            reference=data.get("reference", ""),
            attempt=data["attempt"],
        )
        vend.order.refresh_from_db()
        return Response(VendSerializer(vend, context={"payment": payment}).data)

    @extend_schema(request=None, responses={200: VendSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, request_id=None):
        """The buyer walked away before paying: the sale closes and the item goes back."""
        vend = self._vend(request, request_id)
        if vend.order.status != "cancelled":
            vend_cancel(vend=vend, actor=request.auth, reason=str(_("cancelled at the machine")))
        vend.order.refresh_from_db()
        return Response(VendSerializer(vend).data)


class DeviceSlotSerializer(serializers.Serializer):
    code = serializers.CharField()
    product = serializers.CharField(source="product.name")
    price = serializers.DecimalField(source="sale_price", max_digits=14, decimal_places=2)
    quantity = serializers.IntegerField(source="level.quantity")
    app_code = serializers.SerializerMethodField(
        help_text=_("Show it as a QR code: a member scans it to buy this slot in the app.")
    )

    def get_app_code(self, slot) -> str:
        return slot_app_code(slot)


class DeviceSlotViewSet(viewsets.ViewSet):
    authentication_classes = [DeviceTokenAuthentication]
    permission_classes = [IsDevice]

    @extend_schema(responses=DeviceSlotSerializer(many=True))
    def list(self, request):
        """This machine's planogram: what each slot sells, its price and stock, and its app code."""
        slots = Slot.objects.filter(device=request.auth, is_active=True).select_related("product", "level")
        return Response(DeviceSlotSerializer(slots.order_by("code"), many=True).data)


class RouteLineSerializer(serializers.ModelSerializer):
    slot = serializers.CharField(source="slot.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = RestockLine
        fields = ["id", "slot", "product", "product_name", "planned", "confirmed"]
        read_only_fields = fields


class RouteStopSerializer(serializers.ModelSerializer):
    lines = RouteLineSerializer(many=True, read_only=True, help_text=_("The prekit of this stop, slot by slot."))
    machine = serializers.CharField(source="device.name", read_only=True)
    site = serializers.CharField(source="device.site.name", read_only=True)
    address = serializers.CharField(source="device.site.address", read_only=True)
    latitude = serializers.SerializerMethodField()
    longitude = serializers.SerializerMethodField()
    confirm_url = serializers.SerializerMethodField()

    class Meta:
        model = RestockTask
        fields = [
            "id",
            "route_date",
            "route_vehicle",
            "route_stop",
            "route_eta",
            "route_note",
            "status",
            "device",
            "machine",
            "site",
            "address",
            "latitude",
            "longitude",
            "confirm_url",
            "lines",
        ]
        read_only_fields = fields

    def get_latitude(self, task) -> float | None:
        from vending.restock import machine_point

        return (machine_point(task.device) or (None, None))[0]

    def get_longitude(self, task) -> float | None:
        from vending.restock import machine_point

        return (machine_point(task.device) or (None, None))[1]

    def get_confirm_url(self, task) -> str:
        from django.urls import reverse

        return reverse("vending:restock-detail", args=[task.pk])


class RouteStopViewSet(ScopedReadOnlyViewSet):
    """A driver's day: `GET /api/v1/restock-route/?route_date=2026-12-05` lists the planned stops
    in driving order (vehicle, stop), and the tasks left off the route with `route_note` saying why.
    Confirming a visit is the restock page `confirm_url`."""

    queryset = RestockTask.objects.filter(route_date__isnull=False).order_by(
        "route_date", "route_vehicle", "route_stop", "pk"
    )
    serializer_class = RouteStopSerializer
    filterset_fields = ["route_date", "route_vehicle", "status"]
    select_related = ("device__site",)

    def get_queryset(self):
        return super().get_queryset().prefetch_related("lines__slot", "lines__product")


class PlanSlotSerializer(serializers.Serializer):
    slot = serializers.CharField(source="slot.code")
    product = serializers.IntegerField(source="slot.product_id")
    product_name = serializers.CharField(source="slot.product.name")
    stock = serializers.IntegerField()
    par = serializers.IntegerField()
    capacity = serializers.IntegerField(allow_null=True)
    empty_in_days = serializers.FloatField(source="empty_in", allow_null=True, help_text=_("At the expected demand."))
    empty_in_days_safe = serializers.FloatField(
        source="empty_in_safe", allow_null=True, help_text=_("At the upper bound of the demand.")
    )
    at_visit = serializers.IntegerField(help_text=_("Expected stock when the vehicle arrives."))
    bring = serializers.IntegerField(help_text=_("Units to bring to reach par at the visit."))
    suggested_par = serializers.IntegerField(allow_null=True)
    due = serializers.BooleanField()
    basis = serializers.CharField()


class PlanMachineSerializer(serializers.Serializer):
    device = serializers.IntegerField(source="device.pk")
    machine = serializers.CharField(source="device.name")
    site = serializers.CharField(source="device.site.name")
    due = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    open_task = serializers.IntegerField(source="open_task.pk", allow_null=True, default=None)
    visited_task = serializers.IntegerField(source="visited.pk", allow_null=True, default=None)
    units = serializers.IntegerField()
    slots = PlanSlotSerializer(many=True)


class PlanPickSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product.pk")
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    machines = serializers.ListField(child=serializers.CharField())


class RestockPlanSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField(source="warehouse.pk")
    day = serializers.DateField()
    interval = serializers.IntegerField(help_text=_("Days until the next possible visit after this one."))
    bases = serializers.ListField(child=serializers.CharField(), help_text=_("Where the demand figures come from."))
    threshold_fallback = serializers.BooleanField(source="fallback")
    visits = PlanMachineSerializer(many=True)
    can_wait = PlanMachineSerializer(many=True, source="fine")
    visited = PlanMachineSerializer(many=True)
    pick_list = PlanPickSerializer(many=True)


class RestockPlanQuerySerializer(serializers.Serializer):
    warehouse = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    day = serializers.DateField(required=False)
    interval = serializers.IntegerField(min_value=1, max_value=28, required=False)


class RestockPlanViewSet(viewsets.ViewSet):
    """A driver's (or planner's) view of the replenishment plan:
    `GET /api/v1/restock-plan/?warehouse=<id>&day=2026-12-05&interval=3` lists the machines to visit
    with why and the prekit per machine (each slot's days until empty, what to bring, the suggested
    par), the machines that can wait, those already visited that day, and the vehicle's pick list.
    The route itself is `/api/v1/restock-route/`."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[RestockPlanQuerySerializer], responses=RestockPlanSerializer)
    def list(self, request):
        from django.utils import timezone
        from rest_framework.exceptions import PermissionDenied, ValidationError

        from vending.replenishment import replenishment_plan
        from vending.restock import route_depots

        if not request.user.has_perm("vending.view_restocktask"):
            raise PermissionDenied()
        query = RestockPlanQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        warehouse = route_depots(request.user).filter(pk=query.validated_data["warehouse"]).first()
        if warehouse is None:
            raise ValidationError({"warehouse": [_("Choose one of your warehouses.")]})
        try:
            plan = replenishment_plan(
                user=request.user,
                warehouse=warehouse,
                day=query.validated_data.get("day") or timezone.localdate(),
                interval=query.validated_data.get("interval"),
            )
        except DjangoValidationError as error:
            raise ValidationError({"day": error.messages}) from None
        return Response(RestockPlanSerializer(plan).data)


router.register("slots", SlotViewSet)
router.register("restock-route", RouteStopViewSet, basename="restock-route")
router.register("restock-plan", RestockPlanViewSet, basename="restock-plan")
router.register("device/slots", DeviceSlotViewSet, basename="device-slots")
router.register("device/vends", DeviceVendViewSet, basename="device-vends")


import vending.customer_api  # noqa: E402,F401  (registers the customers' endpoints)
