"""Filters of the reconciliation pages."""

import django_filters
from django.utils.translation import gettext_lazy as _

from accounting.recon_models import ReconItem, Statement
from core.forms import date_input


class ReconItemFilter(django_filters.FilterSet):
    day = django_filters.DateFilter(label=_("Day"), widget=date_input())
    provider = django_filters.ChoiceFilter(label=_("Provider"), choices=ReconItem._meta.get_field("provider").choices)
    kind = django_filters.ChoiceFilter(label=_("Result"), choices=ReconItem.Kind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReconItem.Status.choices)

    class Meta:
        model = ReconItem
        fields = ["day", "provider", "kind", "status"]


class StatementFilter(django_filters.FilterSet):
    provider = django_filters.ChoiceFilter(label=_("Provider"), choices=Statement._meta.get_field("provider").choices)

    class Meta:
        model = Statement
        fields = ["provider"]
