import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import AnyYesNo, ScopedModelChoiceFilter
from core.models import Region, Site
from devices.models import Device


class DeviceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site = ScopedModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    region = ScopedModelChoiceFilter(queryset=Region.objects.all(), method="in_region", label=_("Region"))
    # Labels given here, lazily. django-filter works out a label from the model once and keeps it
    # on the class's filter as a plain string: when the API schema is built first (in English), the
    # console's form would keep showing that English.
    kind = django_filters.ChoiceFilter(choices=Device.Kind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(choices=Device.State.choices, label=_("State"))
    is_active = django_filters.BooleanFilter(label=_("Active"), widget=AnyYesNo)

    class Meta:
        model = Device
        fields = ["q", "kind", "state", "site", "region", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(serial_number__icontains=value))

    def in_region(self, queryset, name, value):
        return queryset.filter(site__region__path__startswith=value.path) if value else queryset
