"""The API's shared parts: the router every app registers on, scoped base viewsets, permission
and error handling; plus the region and site endpoints.

Every viewset derives from `ScopedViewSet` / `ScopedReadOnlyViewSet`, whose `get_queryset`
calls `restrict(user, action)`, so an endpoint cannot forget scoping; the generated scoping
tests in tests/core/test_scoping_generated.py walk this router.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django_filters import rest_framework as filters
from rest_framework import permissions, routers, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.models import AuditEntry, Notification, Region, Site
from core.permissions import ModelPermissions  # noqa: F401  (re-exported for apps)

logger = logging.getLogger(__name__)


class NumericIdRouter(routers.DefaultRouter):
    """Detail routes match numeric primary keys only, so `/assets/abc/rent/` is a 404 before any
    action code tries `int()` or a pk lookup on it (which used to end in a 500)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._default_value_pattern = "[0-9]+"  # a viewset's own lookup_value_regex still wins


router = NumericIdRouter()


def exception_handler(exc, context):
    """Turn domain validation errors into 400s with field errors instead of 500s."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        from rest_framework.exceptions import PermissionDenied

        exc = PermissionDenied(str(exc) or None)
    elif isinstance(exc, IntegrityError):
        logger.warning("Integrity error answered as 400: %s", exc)
        return Response({"detail": "The change conflicts with existing data."}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def reference_action(request) -> str:
    """A reference may name only what the caller may see. Seeing is the bar (not changing): a
    clerk with a view grant on their store opens a shift or rings up a sale there; whether the
    caller may change the object acted on is the endpoint's and the service's check."""
    return "view"


def restrict_references(fields, user, action: str) -> None:
    """Restrict the queryset of every related field (also inside `many=True` fields and nested
    serializers) to what `user` may `action`, when the related model's manager can `restrict`.

    An id outside the caller's scope then fails validation exactly like an id that does not
    exist ("Invalid pk ... object does not exist."), so a reference never reveals, or acts on,
    another region's object (docs/adr/0001-region-scoping.md, "References")."""
    for field in fields.values():
        if isinstance(field, serializers.ListSerializer):
            field = field.child
        if isinstance(field, serializers.Serializer):
            restrict_references(field.fields, user, action)
            continue
        relation = getattr(field, "child_relation", field)
        queryset = getattr(relation, "queryset", None)
        if not isinstance(relation, serializers.RelatedField) or queryset is None:
            continue
        manager = queryset.model._default_manager
        if hasattr(manager, "restrict"):
            relation.queryset = queryset.filter(pk__in=manager.restrict(user, action).values("pk"))


class ScopedMixin:
    """get_queryset restricted to the caller; writes restricted to what they may change; every
    related field of a serializer (the viewset's own, or an action's via `scoped_serializer`)
    accepts only objects in the caller's scope."""

    queryset = None

    def get_serializer(self, *args, **kwargs):
        serializer = super().get_serializer(*args, **kwargs)
        self._restrict_serializer(serializer)
        return serializer

    def scoped_serializer(self, serializer_class, *args, **kwargs):
        """Instantiate an action's input serializer with the request context and its references
        restricted to the caller, like the viewset's own serializer."""
        kwargs.setdefault("context", self.get_serializer_context())
        serializer = serializer_class(*args, **kwargs)
        self._restrict_serializer(serializer)
        return serializer

    def _restrict_serializer(self, serializer):
        request = getattr(self, "request", None)
        if request is None:  # the schema generator builds serializers without a request
            return
        target = serializer.child if isinstance(serializer, serializers.ListSerializer) else serializer
        if isinstance(target, serializers.Serializer):
            restrict_references(target.fields, request.user, reference_action(request))

    def get_queryset(self):
        # Restrict the viewset's own queryset, not the model's manager: a viewset that lists a
        # subset (`RestockTask.objects.filter(route_date__isnull=False)`) keeps its filter for
        # every role, the platform administrator's unrestricted view included.
        action = "view" if self.request.method in permissions.SAFE_METHODS else "change"
        return (
            self.queryset.all()
            .restrict(self.request.user, action)
            .select_related(*getattr(self, "select_related", ()))
            .order_by(*self.queryset.query.order_by or self.queryset.model._meta.ordering or ["pk"])
        )


class ScopedReadOnlyViewSet(ScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedViewSet(ScopedMixin, viewsets.ModelViewSet):
    pass


# --- Regions and sites -----------------------------------------------------------------------
class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "name", "code", "kind", "parent", "path"]
        read_only_fields = ["path"]


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "code",
            "kind",
            "region",
            "address",
            "latitude",
            "longitude",
            "opening_time",
            "closing_time",
            "is_active",
        ]

    def validate_region(self, region):
        request = self.context["request"]
        if not Region.objects.restrict(request.user, "change").filter(pk=region.pk).exists():
            raise ValidationError("You may not place sites in this region.")
        return region


class RegionFilter(filters.FilterSet):
    class Meta:
        model = Region
        fields = {"kind": ["exact"], "parent": ["exact"], "code": ["exact"]}


class SiteFilter(filters.FilterSet):
    class Meta:
        model = Site
        fields = {"kind": ["exact"], "region": ["exact"], "is_active": ["exact"], "code": ["exact"]}


class RegionViewSet(ScopedReadOnlyViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    search_fields = ["name", "code"]


class SiteViewSet(ScopedViewSet):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer
    filterset_class = SiteFilter
    search_fields = ["name", "code", "address"]
    select_related = ("region",)

    def perform_create(self, serializer):
        from core.services import site_create

        data = dict(serializer.validated_data)
        serializer.instance = site_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        from core.services import site_update

        serializer.instance = site_update(
            actor=self.request.user, site=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        raise ValidationError("Sites are deactivated, not deleted.")


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "actor_label", "action", "object_id", "object_repr", "changes", "region"]


class AuditEntryViewSet(ScopedReadOnlyViewSet):
    queryset = AuditEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_fields = {"action": ["exact"], "actor": ["exact"], "at": ["gte", "lte"], "region": ["exact"]}


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "created_at", "template", "channel", "subject", "body", "status", "sent_at", "read_at"]


class MyNotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's own in-app notifications."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = {"status": ["exact"], "read_at": ["isnull"]}
    queryset = Notification.objects.none()

    def get_queryset(self):
        from core.selectors import notification_list_for

        return notification_list_for(recipient=self.request.user)


router.register("regions", RegionViewSet)
router.register("sites", SiteViewSet)
router.register("audit-log", AuditEntryViewSet)
router.register("my/notifications", MyNotificationViewSet, basename="my-notification")
