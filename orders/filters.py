"""The unified order inquiry filters, shared by the console, the API and the exports.

Every filter is an index lookup on a large table (orders.selectors, docs/adr/0025)."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filters import ScopedModelChoiceFilter
from core.models import Region, Site
from core.scoping import region_ids_under
from devices.models import Device
from orders.models import Channel, Order, OrderKind, OrderStatus, PartnerClient
from orders.selectors import created_between_q, order_number_normalise, order_search_q

# A name matching more customers than this is too vague to list their orders by.
CUSTOMER_NAME_MATCHES = 500


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Number, phone or reference"))
    number = django_filters.CharFilter(method="with_number", label=_("Number"))
    kind = django_filters.MultipleChoiceFilter(choices=OrderKind.choices, label=_("Kind"))
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, label=_("Status"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    customer = django_filters.CharFilter(field_name="customer__phone", label=_("Customer phone"))
    customer_name = django_filters.CharFilter(method="with_customer_name", label=_("Customer name"))
    region = ScopedModelChoiceFilter(queryset=Region.objects.all(), method="in_region", label=_("Region"))
    site = ScopedModelChoiceFilter(queryset=Site.objects.all(), label=_("Site"))
    device = ScopedModelChoiceFilter(queryset=Device.objects.all(), label=_("Device"))
    partner = ScopedModelChoiceFilter(queryset=PartnerClient.objects.all(), label=_("API partner"))
    product = django_filters.CharFilter(method="with_product", label=_("Product SKU"))
    since = django_filters.DateFilter(method="created_since", label=_("From"))
    until = django_filters.DateFilter(method="created_until", label=_("To"))

    class Meta:
        model = Order
        fields = [
            "q",
            "number",
            "kind",
            "status",
            "channel",
            "customer",
            "customer_name",
            "region",
            "site",
            "device",
            "partner",
            "product",
            "since",
            "until",
        ]

    def is_valid(self):
        valid = super().is_valid()
        if valid:
            since, until = self.form.cleaned_data.get("since"), self.form.cleaned_data.get("until")
            if since and until and since > until:
                self.form.add_error("until", forms.ValidationError(_("The end date is before the start date.")))
                return False
        return valid

    def search(self, queryset, name, value):
        return queryset.filter(order_search_q(value)) if (value or "").strip() else queryset

    def with_number(self, queryset, name, value):
        number = order_number_normalise(value)
        return queryset.filter(number=number) if number else queryset

    def in_region(self, queryset, name, value):
        return queryset.filter(region_id__in=region_ids_under([value.path])) if value else queryset

    def with_product(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        from orders.models import OrderLine

        # A semi-join rather than a join + DISTINCT, so the list keeps its index order.
        return queryset.filter(pk__in=OrderLine.objects.filter(product__sku__iexact=value).values("order_id"))

    def with_customer_name(self, queryset, name, value):
        """Customers whose name contains the text (the customer table is small next to the orders:
        their ids first, then the orders' customer index)."""
        value = (value or "").strip()
        if not value:
            return queryset
        from members.models import Customer

        ids = list(Customer.objects.filter(name__icontains=value).values_list("pk", flat=True)[:CUSTOMER_NAME_MATCHES])
        return queryset.filter(customer_id__in=ids)

    def created_since(self, queryset, name, value):
        return queryset.filter(created_between_q(value, None)) if value else queryset

    def created_until(self, queryset, name, value):
        return queryset.filter(created_between_q(None, value)) if value else queryset
