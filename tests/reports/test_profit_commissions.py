"""The profit report subtracts the revenue partners' shares (accounting's commission ledger): an
order's shares count in the groups the order belongs to (its day, site, machine, region, kind,
channel), reversals by refunds taken off; a report by product cannot split an order's shares and
shows none."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounting.models import Accrual, Partner, SharingRule
from accounting.rules import rule_create
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _profit(client, user, **params):
    client.force_login(user)
    today = timezone.localdate()
    response = client.get(
        reverse("reports:profit"),
        {"format": "json", "date_from": today, "date_to": today, **params},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content[:300]
    return {row[0]: row for row in response.json()["sections"][0]["rows"]}


def test_profit_takes_off_the_partners_shares(client, world, django_capture_on_commit_callbacks):
    owner = Partner.objects.create(name="Site owner", kind=Partner.Kind.SITE_OWNER, region=world.east)
    rule_create(actor=None, partner=owner, site=world.east_store, basis=SharingRule.Basis.GROSS, rate=Decimal("10"))
    with django_capture_on_commit_callbacks(execute=True):
        make_order(site=world.east_store, total=Decimal("40.00"), paid=True)
        make_order(site=world.east_store, total=Decimal("60.00"), paid=True)
        make_order(site=world.west_store, total=Decimal("30.00"), paid=True)
    call_command("reports_rollup_pending")  # what the beat does every 30 s
    shares = sum(a.amount - a.reversed_amount for a in Accrual.objects.all())
    assert shares == Decimal("10.00")  # 10 % of the east store's 100.00

    by_site = _profit(client, world.admin, by="site")
    east, west = by_site[world.east_store.name], by_site[world.west_store.name]
    assert east[4] == "10.00" and west[4] == "0.00"
    for row in (east, west):
        net, cost, fees, commissions, profit = (Decimal(v) for v in row[1:6])
        assert profit == net - cost - fees - commissions

    by_day = _profit(client, world.admin, by="day")
    assert [row[4] for row in by_day.values()] == ["10.00"]

    # The east region's administrator sees the east store's shares and nothing of the west.
    regional = _profit(client, world.regional, by="site")
    assert regional[world.east_store.name][4] == "10.00" and world.west_store.name not in regional

    # By product an order's shares cannot be split: none shown, and the page says nothing false.
    assert all(row[4] == "0.00" for row in _profit(client, world.admin, by="product").values())
