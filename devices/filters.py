import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedModelChoiceFilter
from core.models import Region, Site
from devices.models import Device


class DeviceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    site = ScopedModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    region = ScopedModelChoiceFilter(queryset=Region.objects.all(), method="in_region", label=_("Region"))

    class Meta:
        model = Device
        fields = ["q", "kind", "state", "site", "region", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(serial_number__icontains=value))

    def in_region(self, queryset, name, value):
        return queryset.filter(site__region__path__startswith=value.path) if value else queryset
