"""The customers' API (apps and machine screens): sign in with a one-time SMS code, then a token
(`Authorization: Customer <token>`) that reaches the customer's own balance, statement, points,
coupons, orders and feedback — and nothing else."""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from core.api import router
from members.models import Coupon, Customer, Feedback, PointsEntry
from members.services import (
    SignInCodeLimited,
    customer_for_token,
    feedback_submit,
    login_code_request,
    login_code_verify,
)
from orders.api import OrderSerializer
from orders.models import Order
from wallet.models import Entry


class CustomerPrincipal:
    """What request.user is for a customer's token: not a staff user, never has staff permissions."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, customer: Customer):
        self.customer = customer

    def has_perm(self, *args, **kwargs):
        return False

    def has_perms(self, *args, **kwargs):
        return False

    def get_username(self):
        return f"customer:{self.customer.phone}"


class CustomerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Customer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="ignore").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token after 'Customer'."))
        customer = customer_for_token(header[1])
        if customer is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid."))
        return CustomerPrincipal(customer), header[1]

    def authenticate_header(self, request):
        return self.keyword


class CustomerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "members.customer_api.CustomerTokenAuthentication"
    name = "customerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Customer <token>"}


class IsCustomer(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, CustomerPrincipal)


class CustomerViewMixin:
    authentication_classes = [CustomerTokenAuthentication]
    permission_classes = [IsCustomer]

    @property
    def customer(self) -> Customer:
        return self.request.user.customer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no customer
            return self.queryset.none()
        return self.customer_queryset()


class SignInThrottle(AnonRateThrottle):
    rate = "20/hour"


class CodeRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class CodeVerifySerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    code = serializers.CharField(max_length=8)


class CustomerTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    customer = serializers.IntegerField()


class CustomerSignInViewSet(viewsets.ViewSet):
    """Sign in: ask for a code by SMS, then exchange it for a token."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [SignInThrottle]

    @extend_schema(request=CodeRequestSerializer, responses={202: None})
    def create(self, request):
        serializer = CodeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The address the throttles use: the socket's, or what our own proxies report (NUM_PROXIES).
        client_address = SignInThrottle().get_ident(request)
        try:
            login_code_request(phone=serializer.validated_data["phone"], client_address=client_address)
        except SignInCodeLimited as limited:
            raise exceptions.Throttled(wait=limited.retry_after, detail=limited.message) from None
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=CodeVerifySerializer, responses={201: CustomerTokenSerializer})
    @action(detail=False, methods=["post"])
    def verify(self, request):
        serializer = CodeVerifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer, key = login_code_verify(**serializer.validated_data)
        return Response({"token": key, "customer": customer.pk}, status=status.HTTP_201_CREATED)


class MeSerializer(serializers.ModelSerializer):
    balance = serializers.SerializerMethodField()
    bonus = serializers.SerializerMethodField()
    held = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "phone", "name", "level", "points", "total_spent", "segment", "balance", "bonus", "held"]
        read_only_fields = fields

    def _balances(self, customer):
        from wallet.services import balances

        cache = self.context.setdefault("balances", {})
        if customer.pk not in cache:
            cache[customer.pk] = balances(customer=customer)
        return cache[customer.pk]

    def get_balance(self, customer) -> str:
        return str(self._balances(customer).paid)

    def get_bonus(self, customer) -> str:
        return str(self._balances(customer).bonus)

    def get_held(self, customer) -> str:
        return str(self._balances(customer).held)


class CustomerMeViewSet(CustomerViewMixin, viewsets.ViewSet):
    @extend_schema(responses=MeSerializer)
    def list(self, request):
        return Response(MeSerializer(self.customer).data)


class StatementEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="transaction.created_at")
    kind = serializers.CharField(source="transaction.kind")
    account = serializers.CharField(source="account.kind")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    reference = serializers.CharField(source="transaction.reference")


class CustomerStatementViewSet(CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    serializer_class = StatementEntrySerializer
    queryset = Entry.objects.none()

    def customer_queryset(self):
        from wallet.services import statement

        return statement(customer=self.customer)


class PointsEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = PointsEntry
        fields = ["id", "delta", "reason", "order", "at"]


class CustomerPointsViewSet(CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    serializer_class = PointsEntrySerializer
    queryset = PointsEntry.objects.none()

    def customer_queryset(self):
        return PointsEntry.objects.filter(customer=self.customer)


class CustomerCouponSerializer(serializers.ModelSerializer):
    class Meta:
        model = Coupon
        fields = ["code", "name", "kind", "value", "min_spend", "valid_from", "valid_until"]


class CustomerCouponViewSet(CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin):
    """Coupons the customer can use now in their home region."""

    serializer_class = CustomerCouponSerializer
    queryset = Coupon.objects.none()

    def customer_queryset(self):
        now = timezone.now()
        region = self.customer.home_region
        queryset = Coupon.objects.filter(is_active=True, valid_from__lte=now, valid_until__gt=now)
        if region is not None:
            queryset = queryset.filter(region__path__in=region.ancestor_paths())
        return queryset.filter(Q(total_quantity__isnull=True) | Q(used_count__lt=F("total_quantity")))


class CustomerOrderViewSet(CustomerViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = OrderSerializer
    queryset = Order.objects.none()

    def customer_queryset(self):
        return Order.objects.filter(customer=self.customer).order_by("-created_at")


class FeedbackSerializer(serializers.ModelSerializer):
    class Meta:
        model = Feedback
        fields = ["id", "subject", "order", "device", "product", "rating", "comment", "status", "reply", "created_at"]
        read_only_fields = ["id", "subject", "status", "reply", "created_at"]

    def validate_order(self, order):
        if order is not None and order.customer_id != self.context["request"].user.customer.pk:
            raise serializers.ValidationError(_("This is not your order."))
        return order


class CustomerFeedbackViewSet(
    CustomerViewMixin, viewsets.GenericViewSet, mixins.ListModelMixin, mixins.CreateModelMixin
):
    serializer_class = FeedbackSerializer
    queryset = Feedback.objects.none()

    def customer_queryset(self):
        return Feedback.objects.filter(customer=self.customer)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = feedback_submit(
            customer=self.customer,
            rating=data["rating"],
            comment=data.get("comment", ""),
            order=data.get("order"),
            device=data.get("device"),
            product=data.get("product"),
        )


class RechargeRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    method = serializers.ChoiceField(choices=["alipay", "wechat", "stripe"])


class RechargeStartedSerializer(serializers.Serializer):
    order = serializers.CharField()
    payment = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    bonus = serializers.DecimalField(max_digits=10, decimal_places=2)
    qr = serializers.CharField()


class CustomerRechargeViewSet(CustomerViewMixin, viewsets.ViewSet):
    """Top up the wallet: a recharge order paid through an online provider (QR code or link);
    the balance (and any bonus of the region's tiers) arrives when the provider confirms."""

    @extend_schema(request=RechargeRequestSerializer, responses={201: RechargeStartedSerializer})
    def create(self, request):
        from orders.payments import provider_get
        from orders.services import payment_collect
        from wallet.recharges import recharge_start

        serializer = RechargeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = serializer.validated_data["method"]
        if not provider_get(method).available():
            raise serializers.ValidationError({"method": [_("This payment method is not offered here.")]})
        if self.customer.home_region is None:
            raise serializers.ValidationError(_("Pay once at a machine or store first, so we know your region."))
        recharge = recharge_start(
            customer=self.customer, amount=serializer.validated_data["amount"], actor=self.customer, channel="app"
        )
        payment = payment_collect(order=recharge.order, provider=method, amount=recharge.amount, actor=self.customer)
        if payment.status != "pending":
            raise serializers.ValidationError(_("The payment provider could not be reached."))
        body = {
            "order": recharge.order.number,
            "payment": payment.pk,
            "amount": recharge.amount,
            "bonus": recharge.bonus,
            "qr": payment.data["qr"],
        }
        return Response(RechargeStartedSerializer(body).data, status=status.HTTP_201_CREATED)


class PayCodeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Show it as digits and a barcode; the clerk scans it."))
    expires_at = serializers.DateTimeField()


class CustomerPayCodeViewSet(CustomerViewMixin, viewsets.ViewSet):
    """Pay at a till with the wallet balance or points: the member shows this code, which pays one
    order once within two minutes."""

    @extend_schema(request=None, responses={201: PayCodeSerializer})
    def create(self, request):
        from members.paycodes import pay_code_issue

        code, expires_at = pay_code_issue(customer=self.customer)
        return Response(
            PayCodeSerializer({"code": code, "expires_at": expires_at}).data, status=status.HTTP_201_CREATED
        )


router.register("customer/sign-in", CustomerSignInViewSet, basename="customer-sign-in")
router.register("customer/recharge", CustomerRechargeViewSet, basename="customer-recharge")
router.register("customer/me", CustomerMeViewSet, basename="customer-me")
router.register("customer/statement", CustomerStatementViewSet, basename="customer-statement")
router.register("customer/points", CustomerPointsViewSet, basename="customer-points")
router.register("customer/coupons", CustomerCouponViewSet, basename="customer-coupons")
router.register("customer/orders", CustomerOrderViewSet, basename="customer-orders")
router.register("customer/feedback", CustomerFeedbackViewSet, basename="customer-feedback")
router.register("customer/pay-code", CustomerPayCodeViewSet, basename="customer-pay-code")
