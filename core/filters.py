"""FilterSets for regions, sites and the audit log, shared by the API and the console."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.models import AuditEntry, OutboxMessage, Region, Site


@extend_schema_field(OpenApiTypes.INT)
class ScopedModelChoiceFilter(django_filters.ModelChoiceFilter):
    """A choice filter whose options are limited to what the requesting user may see."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.restrict(request.user, "view") if request is not None else queryset.none()


class AnyYesNo(BooleanWidget):
    """A yes/no filter whose empty choice reads "Any" (django-filter's says "Unknown": "Active:
    Unknown" read as a state of the machine, not as "don't filter")."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class SiteFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("Name contains"))
    region = ScopedModelChoiceFilter(queryset=Region.objects.all(), label=_("Region"))
    # Lazy labels (see devices/filters.py): django-filter keeps the ones it makes from the model.
    kind = django_filters.ChoiceFilter(choices=Site.Kind.choices, label=_("Kind"))
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=AnyYesNo)

    class Meta:
        model = Site
        fields = ["q", "kind", "region", "is_active"]


class AuditFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="startswith", label=_("Action"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = AuditEntry
        fields = ["action", "since", "until"]


class OutboxFilter(django_filters.FilterSet):
    address = django_filters.CharFilter(lookup_expr="icontains", label=pgettext_lazy("recipient", "To"))
    text = django_filters.CharFilter(field_name="body", lookup_expr="icontains", label=_("Text"))

    class Meta:
        model = OutboxMessage
        fields = ["channel", "address", "text"]
