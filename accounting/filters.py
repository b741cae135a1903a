"""Filters of the accounting console lists."""

import django_filters
from django.utils.translation import gettext_lazy as _

from accounting.models import Accrual, Partner, SharingRule, Withdrawal


class PartnerFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label=_("Name"), lookup_expr="icontains")

    class Meta:
        model = Partner
        fields = ["name", "kind", "settlement", "is_active"]


class RuleFilter(django_filters.FilterSet):
    class Meta:
        model = SharingRule
        fields = ["basis", "method", "order_kind"]


class AccrualFilter(django_filters.FilterSet):
    earned_after = django_filters.DateFilter(label=_("Earned from"), field_name="earned_on", lookup_expr="gte")
    earned_before = django_filters.DateFilter(label=_("Earned until"), field_name="earned_on", lookup_expr="lte")
    order = django_filters.CharFilter(label=_("Order"), field_name="order__number", lookup_expr="icontains")

    class Meta:
        model = Accrual
        fields = ["status", "basis"]


class WithdrawalFilter(django_filters.FilterSet):
    class Meta:
        model = Withdrawal
        fields = ["status", "method"]
