"""The partner API (`/api/v1/partner/…`) for online shops, couriers and platforms: an
`Authorization: Partner <key>` header, the partner's own orders only, the stores and locker banks
it was given, and a webhook test. Order-type apps (lockers, pickup) add their create endpoints
with `PartnerViewMixin`, `@idempotent` and `partner_may_use` (docs/adr/0012).

Webhooks: every status change of an order the partner created is POSTed as JSON to its webhook
URL with `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(webhook secret, "<t>.<body>")>`;
failed deliveries are retried with exponential backoff (8 attempts over about an hour)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import authentication, exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from core.api import router
from core.parsers import SafeJSONParser
from orders.idempotency import HEADER as IDEMPOTENCY_HEADER
from orders.idempotency import idempotent
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PartnerClient, WebhookDelivery
from orders.partners import partner_for_key, partner_may_use
from orders.webhooks import webhook_ping


class PartnerPrincipal(AnonymousUser):
    """request.user behind a partner key: not a staff user and holding no staff permission."""

    def __init__(self, client: PartnerClient):
        super().__init__()
        self.client = client

    def __str__(self):
        return f"partner:{self.client.key_prefix}"


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Partner <key>`; request.auth is the PartnerClient. A revoked key is a 401."""

    keyword = "Partner"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the API key after 'Partner'."))
        client = partner_for_key(header[1])
        if client is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        return PartnerPrincipal(client), client

    def authenticate_header(self, request):
        return self.keyword


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = PartnerKeyAuthentication
    name = "partnerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "`Partner <key>`: the key an administrator created for you (shown once). Every create "
                "needs an `Idempotency-Key` header. Webhooks carry `X-Signature: t=<unix>,v1=<hex>`, "
                "HMAC-SHA256 of `<t>.<body>` keyed with your webhook secret."
            ),
        }


class IsPartner(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, PartnerClient)


class PartnerThrottle(SimpleRateThrottle):
    """Per key, so one busy partner cannot crowd out the others."""

    scope = "partner"
    rate = "1200/minute"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, PartnerClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class PartnerViewMixin:
    """Base of every partner endpoint: the partner's key, JSON bodies, a per-key throttle."""

    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [PartnerThrottle]
    parser_classes = [SafeJSONParser]

    @property
    def client(self) -> PartnerClient:
        return self.request.auth


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=_(
        "A unique value per new request (a UUID). The same key with the same body returns the first "
        "answer; with a different body it is a 409."
    ),
)


# --- Who am I -------------------------------------------------------------------------------------
class PartnerSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()


class PartnerBankSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    serial_number = serializers.CharField()
    site = serializers.IntegerField(source="site_id")


class PartnerMeSerializer(serializers.ModelSerializer):
    sites = PartnerSiteSerializer(many=True, read_only=True)
    banks = PartnerBankSerializer(many=True, read_only=True)
    region = serializers.CharField(source="region.name", read_only=True)

    class Meta:
        model = PartnerClient
        fields = ["id", "name", "kind", "key_prefix", "region", "sites", "banks", "webhook_url"]
        read_only_fields = fields


class PartnerMeViewSet(PartnerViewMixin, viewsets.ViewSet):
    @extend_schema(responses=PartnerMeSerializer, operation_id="partner_me")
    def list(self, request):
        """The stores and locker banks this key may use, and where its webhooks go."""
        client = (
            PartnerClient.objects.prefetch_related("sites", "banks").select_related("region").get(pk=self.client.pk)
        )
        return Response(PartnerMeSerializer(client).data)


# --- Its orders -------------------------------------------------------------------------------------
class PartnerOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["description", "quantity", "unit_price", "line_total"]


class PartnerOrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["at", "action", "from_status", "to_status"]


class PartnerOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "site",
            "device",
            "currency",
            "total",
            "paid_amount",
            "refunded_amount",
            "created_at",
            "paid_at",
            "completed_at",
            "external_reference",
        ]


class PartnerOrderDetailSerializer(PartnerOrderSerializer):
    lines = PartnerOrderLineSerializer(many=True, read_only=True)
    events = PartnerOrderEventSerializer(many=True, read_only=True)

    class Meta(PartnerOrderSerializer.Meta):
        fields = [*PartnerOrderSerializer.Meta.fields, "lines", "events"]


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise exceptions.ValidationError({name: _("Give the numeric id.")})
    return int(raw)


class PartnerOrderViewSet(PartnerViewMixin, viewsets.ReadOnlyModelViewSet):
    """The orders this key created, and nobody else's (another partner's order is a 404).
    Filters: `status`, `external_reference`, `site`, `bank` (only the ones this key was given)."""

    queryset = Order.objects.none()
    filter_backends: list = []

    def get_serializer_class(self):
        return PartnerOrderDetailSerializer if self.action == "retrieve" else PartnerOrderSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=[s for s, _label in OrderStatus.choices]),
            OpenApiParameter("external_reference", OpenApiTypes.STR),
            OpenApiParameter("site", OpenApiTypes.INT),
            OpenApiParameter("bank", OpenApiTypes.INT),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        queryset = Order.objects.filter(partner=self.client).order_by("-created_at", "-pk")
        if self.action == "retrieve":
            return queryset.prefetch_related("lines", "events")
        params = self.request.query_params
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("external_reference"):
            queryset = queryset.filter(external_reference=params["external_reference"])
        site, bank = _int_param(self.request, "site"), _int_param(self.request, "bank")
        if site is not None or bank is not None:
            partner_may_use(self.client, site=site, bank=bank)
        if site is not None:
            queryset = queryset.filter(site_id=site)
        if bank is not None:
            queryset = queryset.filter(device_id=bank)
        return queryset


# --- Webhooks ----------------------------------------------------------------------------------------
class PartnerDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="payload.id", read_only=True)
    order = serializers.IntegerField(source="order_id", read_only=True, allow_null=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "order",
            "url",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


class PartnerWebhookTestViewSet(PartnerViewMixin, viewsets.ViewSet):
    @extend_schema(request=None, responses={201: PartnerDeliverySerializer}, parameters=[IDEMPOTENCY_PARAMETER])
    @idempotent
    def create(self, request):
        """Queue a `ping` event to this key's webhook URL, to check the endpoint and the signature
        (`X-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`)."""
        delivery = webhook_ping(client=self.client)
        return Response(PartnerDeliverySerializer(delivery).data, status=status.HTTP_201_CREATED)


class PartnerDeliveryViewSet(PartnerViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The webhooks sent to this key, newest first, with their attempts."""

    serializer_class = PartnerDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookDelivery.objects.none()
        return WebhookDelivery.objects.filter(client=self.client).order_by("-created_at", "-pk")


router.register("partner/me", PartnerMeViewSet, basename="partner-me")
router.register("partner/orders", PartnerOrderViewSet, basename="partner-orders")
router.register("partner/webhook-test", PartnerWebhookTestViewSet, basename="partner-webhook-test")
router.register("partner/webhook-deliveries", PartnerDeliveryViewSet, basename="partner-webhook-deliveries")
