"""Accounting rows for the generated scoping tests: by region (finance and administrators) and by
revenue partner (the partner portal). Rows are made through the services, as users make them."""

import datetime
from decimal import Decimal

from django.utils import timezone

from accounting import accruals, withdrawals
from accounting.models import Accrual, Partner, SharingRule, Withdrawal
from accounting.rules import rule_create
from tests.factories import SiteFactory, make_order


def _partner_in(region):
    return Partner.objects.create(name="Partner", kind=Partner.Kind.SITE_OWNER, region=region)


def _rule_for(partner, site=None):
    site = site or SiteFactory(region=partner.region)
    return rule_create(actor=None, partner=partner, site=site, basis=SharingRule.Basis.GROSS, rate=Decimal("10"))


def accrual_for(partner, total=Decimal("100.00")) -> Accrual:
    site = SiteFactory(region=partner.region)
    rule = _rule_for(partner, site)
    order = make_order(site=site, total=total, paid=True)
    accruals.order_accrue(order_id=order.pk)
    return Accrual.objects.get(order=order, rule=rule)


def withdrawal_for(partner) -> Withdrawal:
    accrual_for(partner, total=Decimal("500.00"))
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=30))
    return withdrawals.withdrawal_request(partner=partner, amount=Decimal("20.00"), actor=None)


SCOPED_BUILDERS = {
    Partner: _partner_in,
    SharingRule: lambda region: _rule_for(_partner_in(region)),
    Accrual: lambda region: accrual_for(_partner_in(region)),
    Withdrawal: lambda region: withdrawal_for(_partner_in(region)),
}

PARTNER_BUILDERS = {
    Accrual: accrual_for,
    Withdrawal: withdrawal_for,
}
