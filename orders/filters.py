"""The unified order inquiry filters, shared by the console and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedModelChoiceFilter
from core.models import Region, Site
from devices.models import Device
from orders.models import Channel, Order, OrderKind, OrderStatus, PartnerClient


class OrderFilter(django_filters.FilterSet):
    number = django_filters.CharFilter(lookup_expr="iexact", label=_("Number"))
    kind = django_filters.MultipleChoiceFilter(choices=OrderKind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    customer = django_filters.CharFilter(field_name="customer__phone", label=_("Customer phone"))
    region = ScopedModelChoiceFilter(queryset=Region.objects.all(), method="in_region", label=_("Region"))
    site = ScopedModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    device = ScopedModelChoiceFilter(queryset=Device.objects.all(), label=_("Device"))
    partner = ScopedModelChoiceFilter(queryset=PartnerClient.objects.all(), label=_("API partner"))
    product = django_filters.CharFilter(method="with_product", label=_("Product SKU"))
    since = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = Order
        fields = [
            "number",
            "kind",
            "status",
            "channel",
            "customer",
            "region",
            "site",
            "device",
            "partner",
            "product",
            "since",
            "until",
        ]

    def in_region(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path) if value else queryset

    def with_product(self, queryset, name, value):
        value = (value or "").strip()
        return queryset.filter(lines__product__sku__iexact=value).distinct() if value else queryset
