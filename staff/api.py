"""Staff API: clerks and their switches, the counter (sales, collections, refund requests), shifts,
refund approvals, anomaly rules and alerts. Refusals answer 403 with the reason, and are logged."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.models import Product
from core.api import ScopedMixin, router
from core.models import Notification, Site
from members.models import Customer
from orders.api import OrderDetailSerializer, PaymentSerializer, RefundSerializer
from orders.models import Order, OrderKind
from staff import counter, offline
from staff.anomalies import alert_acknowledge
from staff.models import (
    COLLECT_KINDS,
    AnomalyRule,
    OfflineSale,
    RefundApproval,
    Shift,
    StaffAlert,
    StaffProfile,
    User,
)
from staff.roles import CLERK, STORE_MANAGER
from staff.services import PROFILE_FIELDS, clerk_create, staff_profile_update, staff_set_active

MONEY = {"max_digits": 12, "decimal_places": 2}


class ViewScopedMixin(ScopedMixin):
    """Rows the caller can see; what they may do to them is decided by the staff policies."""

    def get_queryset(self):
        return (
            self.queryset.all()
            .restrict(self.request.user, "view")
            .select_related(*getattr(self, "select_related", ()))
            .order_by(*self.queryset.model._meta.ordering or ["pk"])
        )


class DecisionActionsMixin:
    """Actions that decide on a row (approve, acknowledge) check their own permission inside,
    instead of the model's add permission that DRF would ask for a POST."""

    decision_actions: tuple[str, ...] = ()

    def get_permissions(self):
        if self.action in self.decision_actions:
            return [permissions.IsAuthenticated()]
        return super().get_permissions()


def _need(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise exceptions.PermissionDenied()


# --- Clerks ----------------------------------------------------------------------------------
class StaffProfileSerializer(serializers.ModelSerializer):
    collect_methods = serializers.ListField(child=serializers.ChoiceField(choices=COLLECT_KINDS), read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    name = serializers.CharField(source="user.get_full_name", read_only=True)
    phone = serializers.CharField(source="user.phone", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    roles = serializers.ListField(source="user.role_names", child=serializers.CharField(), read_only=True)

    class Meta:
        model = StaffProfile
        fields = ["id", "username", "name", "phone", "is_active", "roles", "sites", *PROFILE_FIELDS, "created_at"]
        read_only_fields = ["id", "username", "name", "phone", "is_active", "roles", "created_at"]


class StaffProfileUpdateSerializer(serializers.ModelSerializer):
    sites = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), many=True, required=False)
    collect_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=COLLECT_KINDS), required=False, allow_empty=True
    )

    class Meta:
        model = StaffProfile
        fields = ["sites", *PROFILE_FIELDS]
        extra_kwargs = {field: {"required": False} for field in PROFILE_FIELDS}


class ClerkCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    phone = serializers.CharField(max_length=20)
    gender = serializers.ChoiceField(choices=User.Gender.choices, required=False, default="")
    email = serializers.EmailField(required=False, default="")
    role = serializers.ChoiceField(choices=[CLERK, STORE_MANAGER], default=CLERK)
    sites = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), many=True)
    send_by = serializers.ChoiceField(
        choices=[Notification.Channel.SMS, Notification.Channel.EMAIL], default=Notification.Channel.SMS
    )
    can_collect = serializers.BooleanField(default=True)
    can_refund = serializers.BooleanField(default=False)
    refund_limit = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, default=None, min_value=Decimal("0")
    )
    refund_daily_limit = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, default=None, min_value=Decimal("0")
    )
    reports = serializers.ChoiceField(choices=StaffProfile.Reports.choices, default=StaffProfile.Reports.OWN)
    can_manage_members = serializers.BooleanField(default=False)
    can_change_settings = serializers.BooleanField(default=False)
    collect_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=COLLECT_KINDS),
        required=False,
        allow_empty=True,
        default=list(COLLECT_KINDS),
    )
    collect_limit = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, default=None, min_value=Decimal("0")
    )
    collect_daily_limit = serializers.DecimalField(
        **MONEY, required=False, allow_null=True, default=None, min_value=Decimal("0")
    )
    can_sell_services = serializers.BooleanField(default=True)


class DecisionReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StaffProfileViewSet(ViewScopedMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Clerks and store managers of the caller's stores. Created with a random initial password
    sent by SMS or email; deactivated, never deleted."""

    queryset = StaffProfile.objects.all()
    serializer_class = StaffProfileSerializer
    select_related = ("user",)
    filterset_fields = ["can_refund", "sites"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=ClerkCreateSerializer, responses={201: StaffProfileSerializer})
    def create(self, request, *args, **kwargs):
        _need(request, "staff.add_staffprofile")
        serializer = self.scoped_serializer(ClerkCreateSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        user = clerk_create(actor=request.user, **data)
        return Response(StaffProfileSerializer(user.profile).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StaffProfileUpdateSerializer, responses=StaffProfileSerializer)
    def partial_update(self, request, *args, **kwargs):
        _need(request, "staff.change_staffprofile")
        profile = self.get_object()
        serializer = StaffProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        sites = data.pop("sites", None)
        profile = staff_profile_update(actor=request.user, profile=profile, sites=sites, **data)
        return Response(StaffProfileSerializer(profile).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            raise exceptions.MethodNotAllowed("PUT")
        return super().update(request, *args, **kwargs)

    @extend_schema(request=DecisionReasonSerializer, responses=StaffProfileSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        _need(request, "staff.change_staffprofile")
        profile = self.get_object()
        reason = DecisionReasonSerializer(data=request.data)
        reason.is_valid(raise_exception=True)
        staff_set_active(actor=request.user, user=profile.user, active=False, reason=reason.validated_data["reason"])
        return Response(StaffProfileSerializer(profile).data)

    @extend_schema(request=None, responses=StaffProfileSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        _need(request, "staff.change_staffprofile")
        profile = self.get_object()
        staff_set_active(actor=request.user, user=profile.user, active=True)
        return Response(StaffProfileSerializer(profile).data)


# --- The counter -----------------------------------------------------------------------------
class SaleLineSerializer(serializers.Serializer):
    """A catalog product (by id, or the barcode/SKU a scanner typed), or a free-text line (a
    service: description and price, for clerks allowed to sell outside the catalog)."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(is_active=True), required=False, allow_null=True, default=None
    )
    barcode = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    unit_price = serializers.DecimalField(
        **MONEY, min_value=Decimal("0.01"), required=False, allow_null=True, default=None
    )
    quantity = serializers.IntegerField(min_value=1, max_value=999, default=1)

    def validate(self, data):
        if data["product"] is None and not data["barcode"].strip():
            if not data["description"].strip() or data["unit_price"] is None:
                raise serializers.ValidationError(_("Give a product, a barcode, or a description with a price."))
        return data


def _member_by_phone(phone: str):
    """The active member with this phone (what the till asks for), None for an empty one."""
    from members.services import phone_normalise

    phone = (phone or "").strip()
    if not phone:
        return None
    try:
        normalised = phone_normalise(phone)
    except DjangoValidationError:
        raise serializers.ValidationError(_("Enter a valid phone number.")) from None
    customer = Customer.objects.filter(phone__in=[normalised, phone], is_active=True).first()
    if customer is None:
        raise serializers.ValidationError(_("No member with this phone number."))
    return customer


class SaleSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    lines = SaleLineSerializer(many=True, allow_empty=False)
    customer_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default="", help_text=_("The member's phone, if any.")
    )

    def validate_customer_phone(self, phone):
        return _member_by_phone(phone)


class DiscountLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField()
    amount = serializers.DecimalField(**MONEY)


class CounterOrderSerializer(OrderDetailSerializer):
    """The order with its discounts as lines of their own (promotions, member benefit, coupons)."""

    discounts = serializers.SerializerMethodField()

    class Meta(OrderDetailSerializer.Meta):
        fields = [*OrderDetailSerializer.Meta.fields, "discounts"]

    @extend_schema_field(DiscountLineSerializer(many=True))
    def get_discounts(self, order):
        from members.promotions import discount_lines

        return DiscountLineSerializer(discount_lines(order), many=True).data


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class ReturnSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=999, default=1)
    destination = serializers.ChoiceField(choices=counter.RETURN_DESTINATIONS)
    reason = serializers.CharField(max_length=255)


class ProductHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sku = serializers.CharField()
    barcode = serializers.CharField()
    price = serializers.DecimalField(**MONEY)
    on_shelf = serializers.IntegerField()
    exact = serializers.BooleanField(help_text=_("The query is this product's barcode or SKU (a scan)."))


class EnrolSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    phone = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class PointsAdjustSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    phone = serializers.CharField(max_length=32, help_text=_("The member's phone."))
    points = serializers.IntegerField()
    reason = serializers.CharField(max_length=255)


class CollectSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=[])
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"), required=False, allow_null=True, default=None)
    tendered = serializers.DecimalField(**MONEY, min_value=Decimal("0"), required=False, allow_null=True, default=None)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    offline_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    idempotency_key = serializers.CharField(max_length=100, required=False, allow_null=True, default=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = [code for code, _label in counter.counter_methods()]
        # The clerk's own method switches are enforced (and a refusal logged) by counter_collect.


class CollectionSerializer(serializers.Serializer):
    payment = PaymentSerializer()
    change = serializers.DecimalField(**MONEY)


class RefundRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=255)


class RefundApprovalSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = RefundApproval
        fields = [
            "id",
            "order",
            "order_number",
            "amount",
            "reason",
            "level",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "refund",
        ]
        read_only_fields = fields


class RefundOutcomeSerializer(serializers.Serializer):
    refund = RefundSerializer(allow_null=True)
    approval = RefundApprovalSerializer(allow_null=True)


class CounterOrderViewSet(ViewScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Counter orders of the caller's stores: walk-in sales of catalog products (scanned or
    searched) and services, collecting, voiding an unpaid sale, returns and refund requests."""

    queryset = Order.objects.filter(kind=OrderKind.COUNTER)
    serializer_class = CounterOrderSerializer
    select_related = ("customer",)

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(kind=OrderKind.COUNTER)
            .prefetch_related("lines", "payments", "refunds", "events")
        )

    def _counter_order(self, request, pk):
        _need(request, "staff.use_cashier")
        return self.get_object()

    def _site(self, request) -> Site:
        try:
            site_id = int(request.query_params.get("site", ""))
        except ValueError:
            raise exceptions.ValidationError({"site": [_("Choose a store.")]}) from None
        site = Site.objects.restrict(request.user, "view").filter(pk=site_id).first()
        if site is None:
            raise exceptions.ValidationError({"site": [_("Choose one of your stores.")]})
        return site

    @extend_schema(
        parameters=[OpenApiParameter("site", int, required=True), OpenApiParameter("q", str, required=True)],
        responses=ProductHitSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def products(self, request):
        """Search the catalog by name, SKU or barcode, with what is on the store's shelf."""
        _need(request, "staff.use_cashier")
        site = self._site(request)
        hits = counter.products_search(site=site, query=request.query_params.get("q", ""))
        return Response(ProductHitSerializer(hits, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("site", int, required=True), OpenApiParameter("code", str, required=True)],
        responses=ProductHitSerializer,
    )
    @action(detail=False, methods=["get"])
    def scan(self, request):
        """The product a scanned barcode (or a typed SKU) names; 404 with a message if none."""
        _need(request, "staff.use_cashier")
        site = self._site(request)
        code = request.query_params.get("code", "").strip()
        product = counter.product_find(code)
        if product is None:
            return Response(
                {"detail": _("No product has the barcode or SKU %(code)s.") % {"code": code}},
                status=status.HTTP_404_NOT_FOUND,
            )
        hits = [hit for hit in counter.products_search(site=site, query=product.sku) if hit["id"] == product.pk]
        return Response(ProductHitSerializer(hits[0]).data)

    @extend_schema(request=SaleSerializer, responses={201: CounterOrderSerializer})
    def create(self, request):
        _need(request, "staff.use_cashier")
        _need(request, "orders.add_order")
        serializer = self.scoped_serializer(SaleSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        lines = [
            counter.SaleLine(
                product=line["product"],
                code=line["barcode"],
                description=line["description"],
                unit_price=line["unit_price"],
                quantity=line["quantity"],
            )
            for line in serializer.validated_data["lines"]
        ]
        order = counter.counter_sale_create(
            actor=request.user,
            site=serializer.validated_data["site"],
            lines=lines,
            customer=serializer.validated_data["customer_phone"],
        )
        order = self.get_queryset().get(pk=order.pk)
        return Response(CounterOrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CollectSerializer, responses=CollectionSerializer)
    @action(detail=True, methods=["post"])
    def collect(self, request, pk=None):
        order = self._counter_order(request, pk)
        _need(request, "orders.add_payment")
        serializer = CollectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        collection = counter.counter_collect(actor=request.user, order=order, **serializer.validated_data)
        return Response(CollectionSerializer({"payment": collection.payment, "change": collection.change}).data)

    @extend_schema(request=VoidSerializer, responses=CounterOrderSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Cancel an unpaid sale with a reason; its products go back on the shelf."""
        order = self._counter_order(request, pk)
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counter.counter_void(actor=request.user, order=order, reason=serializer.validated_data["reason"])
        return Response(CounterOrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(request=ReturnSerializer, responses={201: RefundOutcomeSerializer, 202: RefundOutcomeSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_line(self, request, pk=None):
        """Items of a paid line come back: onto the shelf or into damaged goods; the line's share
        is refunded within the clerk's limits (201) or waits for approval (202)."""
        order = self._counter_order(request, pk)
        _need(request, "orders.add_refund")
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        outcome = counter.counter_return(
            actor=request.user,
            order=order,
            line_id=data["line"],
            quantity=data["quantity"],
            destination=data["destination"],
            reason=data["reason"],
        )
        body = RefundOutcomeSerializer({"refund": outcome.refund, "approval": outcome.approval}).data
        return Response(body, status=status.HTTP_202_ACCEPTED if outcome.needs_approval else status.HTTP_201_CREATED)

    @extend_schema(
        request=RefundRequestSerializer, responses={201: RefundOutcomeSerializer, 202: RefundOutcomeSerializer}
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Within the caller's limits the refund is done (201); above them an approval request is
        created and no money moves (202)."""
        order = self._counter_order(request, pk)
        _need(request, "orders.add_refund")
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = counter.refund_request(actor=request.user, order=order, **serializer.validated_data)
        body = RefundOutcomeSerializer({"refund": outcome.refund, "approval": outcome.approval}).data
        return Response(body, status=status.HTTP_202_ACCEPTED if outcome.needs_approval else status.HTTP_201_CREATED)


class StoreHoursSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    opening_time = serializers.TimeField(allow_null=True)
    closing_time = serializers.TimeField(allow_null=True)


class TillSettingsViewSet(viewsets.ViewSet):
    """The store's settings changed from the till (the clerk's "settings" switch)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=StoreHoursSerializer, responses=StoreHoursSerializer)
    @action(detail=False, methods=["post"])
    def hours(self, request):
        _need(request, "staff.use_cashier")
        serializer = StoreHoursSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site = counter.store_hours_set(actor=request.user, **serializer.validated_data)
        return Response(
            StoreHoursSerializer(
                {"site": site, "opening_time": site.opening_time, "closing_time": site.closing_time}
            ).data
        )


class TillMembersViewSet(viewsets.ViewSet):
    """Member management at the till (the clerk's "members" switch): enrol, adjust points."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=EnrolSerializer, responses={201: None})
    @action(detail=False, methods=["post"])
    def enrol(self, request):
        _need(request, "staff.use_cashier")
        serializer = EnrolSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = counter.member_enrol(actor=request.user, **serializer.validated_data)
        return Response({"id": customer.pk, "phone": customer.phone, "name": customer.name}, status=201)

    @extend_schema(request=PointsAdjustSerializer, responses={201: None})
    @action(detail=False, methods=["post"])
    def points(self, request):
        _need(request, "staff.use_cashier")
        serializer = PointsAdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = _member_by_phone(data.pop("phone"))
        entry = counter.member_points_adjust(actor=request.user, customer=customer, **data)
        customer.refresh_from_db(fields=["points"])
        return Response({"entry": entry.pk, "points": customer.points}, status=201)


# --- Shifts ----------------------------------------------------------------------------------
class ShiftSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shift
        fields = [
            "id",
            "site",
            "clerk",
            "opened_at",
            "opening_float",
            "closed_at",
            "closed_by",
            "expected_amount",
            "counted_amount",
            "variance",
            "note",
        ]
        read_only_fields = fields


class ShiftOpenSerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    opening_float = serializers.DecimalField(**MONEY, min_value=Decimal("0"))


class ShiftCloseSerializer(serializers.Serializer):
    counted_amount = serializers.DecimalField(**MONEY, min_value=Decimal("0"))
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ShiftViewSet(ViewScopedMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Shift.objects.all()
    serializer_class = ShiftSerializer
    select_related = ("site", "clerk")
    filterset_fields = ["site", "clerk"]

    @extend_schema(request=ShiftOpenSerializer, responses={201: ShiftSerializer})
    def create(self, request):
        _need(request, "staff.add_shift")
        serializer = self.scoped_serializer(ShiftOpenSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        shift = counter.shift_open(actor=request.user, **serializer.validated_data)
        return Response(ShiftSerializer(shift).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ShiftCloseSerializer, responses=ShiftSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        _need(request, "staff.change_shift")
        serializer = ShiftCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shift = counter.shift_close(actor=request.user, shift=self.get_object(), **serializer.validated_data)
        return Response(ShiftSerializer(shift).data)


# --- Approvals, rules, alerts ----------------------------------------------------------------
class RefundApprovalViewSet(DecisionActionsMixin, ViewScopedMixin, viewsets.ReadOnlyModelViewSet):
    decision_actions = ("approve", "reject")
    queryset = RefundApproval.objects.all()
    serializer_class = RefundApprovalSerializer
    select_related = ("order",)
    filterset_fields = ["status", "level", "order"]

    def _decide(self, request, approve: bool):
        _need(request, "staff.change_refundapproval")
        serializer = DecisionReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = counter.refund_approval_decide(
            actor=request.user, approval=self.get_object(), approve=approve, reason=serializer.validated_data["reason"]
        )
        return Response(RefundApprovalSerializer(approval).data)

    @extend_schema(request=DecisionReasonSerializer, responses=RefundApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: the refund is made now. A decided request, or one's own, is refused."""
        return self._decide(request, True)

    @extend_schema(request=DecisionReasonSerializer, responses=RefundApprovalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject, with a reason: no money ever moves for this request."""
        return self._decide(request, False)


class AnomalyRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnomalyRule
        fields = ["id", "region", "kind", "threshold", "is_active"]

    def validate_region(self, region):
        from core.scoping import user_can_reach

        if not user_can_reach(self.context["request"].user, region, "change"):
            raise serializers.ValidationError(_("You cannot set rules for this region."))
        return region


class AnomalyRuleViewSet(ViewScopedMixin, viewsets.ModelViewSet):
    queryset = AnomalyRule.objects.all()
    serializer_class = AnomalyRuleSerializer
    select_related = ("region",)
    filterset_fields = ["region", "kind", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]


class StaffAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = StaffAlert
        fields = [
            "id",
            "kind",
            "region",
            "site",
            "clerk",
            "message",
            "evidence",
            "created_at",
            "acknowledged_at",
            "acknowledged_by",
        ]
        read_only_fields = fields


class StaffAlertViewSet(DecisionActionsMixin, ViewScopedMixin, viewsets.ReadOnlyModelViewSet):
    decision_actions = ("acknowledge",)
    queryset = StaffAlert.objects.all()
    serializer_class = StaffAlertSerializer
    filterset_fields = ["kind", "site", "clerk"]

    @extend_schema(request=None, responses=StaffAlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        _need(request, "staff.change_staffalert")
        return Response(StaffAlertSerializer(alert_acknowledge(actor=request.user, alert=self.get_object())).data)


class PerformanceRowSerializer(serializers.Serializer):
    clerk = serializers.CharField()
    user = serializers.IntegerField(source="user.pk")
    collections = serializers.IntegerField()
    collected_amount = serializers.DecimalField(**MONEY)
    refunds = serializers.IntegerField()
    refunded_amount = serializers.DecimalField(**MONEY)
    voids = serializers.IntegerField()


class PerformanceViewSet(viewsets.ViewSet):
    """Clerk performance over a period: a clerk with "own" reports sees their own row, with
    "store" reports their stores' clerks, without reports nothing (403)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str), OpenApiParameter("site", int)],
        responses=PerformanceRowSerializer(many=True),
    )
    def list(self, request):
        _need(request, "staff.view_performance")
        from staff.forms import PeriodForm
        from staff.selectors import performance_rows
        from staff.views import _period

        form = PeriodForm(request.query_params or None, user=request.user)
        if form.is_bound and not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        start, end = _period(form)
        site = form.cleaned_data.get("site") if form.is_bound else None
        rows = performance_rows(viewer=request.user, start=start, end=end, site=site)
        return Response(PerformanceRowSerializer(rows, many=True).data)


# --- The offline till (ADR 20) -------------------------------------------------------------
class OfflineLineSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=999)
    unit_price = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)


class OfflineSaleInSerializer(serializers.Serializer):
    """A sale the till made offline, as it queued it: its own id, when it happened, the lines at
    the prices it charged, and how it was paid (cash with the tendered amount, or card with the
    terminal's reference)."""

    client_id = serializers.UUIDField()
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    shift = serializers.PrimaryKeyRelatedField(queryset=Shift.objects.all(), required=False, allow_null=True)
    happened_at = serializers.DateTimeField()
    method = serializers.ChoiceField(choices=offline.OFFLINE_METHODS)
    lines = OfflineLineSerializer(many=True, allow_empty=False, max_length=offline.MAX_LINES)
    amount = serializers.DecimalField(min_value=Decimal("0.01"), **MONEY)
    tendered = serializers.DecimalField(required=False, allow_null=True, min_value=Decimal("0.00"), **MONEY)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


class OfflineSaleSerializer(serializers.ModelSerializer):
    messages = serializers.ListField(child=serializers.CharField(), source="flag_messages", read_only=True)
    number = serializers.CharField(source="order.number", read_only=True, default=None)

    class Meta:
        model = OfflineSale
        fields = [
            "id",
            "client_id",
            "site",
            "clerk",
            "shift",
            "method",
            "amount",
            "happened_at",
            "received_at",
            "order",
            "number",
            "status",
            "flags",
            "messages",
            "resolved_by",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields


class OfflineSyncAnswerSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    sale = serializers.IntegerField()
    order = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    payment = serializers.IntegerField()
    flags = serializers.ListField(child=serializers.CharField())
    expected_cash = serializers.DecimalField(allow_null=True, **MONEY)


class ResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=255)


class OfflineSaleViewSet(DecisionActionsMixin, ViewScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Sales the till made while offline: the till fetches what it keeps (`snapshot`) and sends
    each queued sale here once it is back (`create`: applied once per till id, a resend answers
    200 with the first result); the manager lists the flagged ones and resolves them."""

    decision_actions = ("resolve",)
    queryset = OfflineSale.objects.all()
    serializer_class = OfflineSaleSerializer
    select_related = ("order",)
    filterset_fields = ["status", "site", "clerk"]

    @extend_schema(parameters=[OpenApiParameter("site", int, required=True)], responses=dict)
    @action(detail=False, methods=["get"])
    def snapshot(self, request):
        """What the till keeps to sell offline at a store: its shelf's products with prices and
        barcodes, the caller's offline methods and limits, their open shift there."""
        _need(request, "staff.use_cashier")
        try:
            site_id = int(request.query_params.get("site", ""))
        except ValueError:
            raise exceptions.ValidationError({"site": [_("Choose a store.")]}) from None
        site = Site.objects.restrict(request.user, "view").filter(pk=site_id).first()
        if site is None:
            raise exceptions.ValidationError({"site": [_("Choose one of your stores.")]})
        return Response(offline.till_snapshot(user=request.user, site=site))

    @extend_schema(request=OfflineSaleInSerializer, responses={201: OfflineSyncAnswerSerializer})
    def create(self, request):
        _need(request, "staff.use_cashier")
        _need(request, "orders.add_payment")
        serializer = self.scoped_serializer(OfflineSaleInSerializer, data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        applied = offline.offline_sale_apply(
            actor=request.user,
            client_id=data["client_id"],
            site=data["site"],
            shift=data.get("shift"),
            happened_at=data["happened_at"],
            method=data["method"],
            lines=[
                offline.OfflineLine(product=line["product"], quantity=line["quantity"], unit_price=line["unit_price"])
                for line in data["lines"]
            ],
            amount=data["amount"],
            tendered=data.get("tendered"),
            reference=data.get("reference", ""),
        )
        sale = applied.sale
        expected = counter.shift_expected(sale.shift) if sale.shift_id else None
        body = {**sale.answer, "expected_cash": str(expected) if expected is not None else None}
        return Response(body, status=status.HTTP_201_CREATED if applied.created else status.HTTP_200_OK)

    @extend_schema(request=ResolveSerializer, responses=OfflineSaleSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """The manager says what was done about a flagged offline sale."""
        _need(request, "staff.change_offlinesale")
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sale = offline.offline_sale_resolve(
            actor=request.user, sale=self.get_object(), resolution=serializer.validated_data["resolution"]
        )
        return Response(OfflineSaleSerializer(sale).data)


router.register("staff-profiles", StaffProfileViewSet)
router.register("till-offline-sales", OfflineSaleViewSet, basename="till-offline-sale")
router.register("clerk-performance", PerformanceViewSet, basename="clerk-performance")
router.register("counter-orders", CounterOrderViewSet, basename="counter-order")
router.register("till-members", TillMembersViewSet, basename="till-member")
router.register("till-settings", TillSettingsViewSet, basename="till-settings")
router.register("shifts", ShiftViewSet)
router.register("refund-approvals", RefundApprovalViewSet)
router.register("anomaly-rules", AnomalyRuleViewSet)
router.register("staff-alerts", StaffAlertViewSet)
