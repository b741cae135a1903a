"""Finance's dashboard shows the last week's reconciliation by day and provider (red with the open
count, linked to the differences) and this month's payment fees by method, within finance's
grants; a regional administrator sees only their region's."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accounting.recon_helpers import paid
from tests.reconciliation.builders import recon_item_in

pytestmark = pytest.mark.django_db


def test_finance_dashboard_shows_reconciliation_and_fees(world, client):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    recon_item_in(world.east, day=yesterday)
    recon_item_in(world.east, day=yesterday)
    recon_item_in(world.west, day=yesterday, provider="alipay")
    payment = paid(world.east_store, "wechat", "100.00", "FD-1")
    type(payment).objects.filter(pk=payment.pk).update(succeeded_at=timezone.now())  # settled this month
    client.force_login(world.finance)
    page = client.get(reverse("accounting:finance"))
    assert page.status_code == 200
    row = next(r for r in page.context["recon_days"] if r.day == yesterday)
    open_by_provider = {p.provider: p.open for p in row.providers}
    assert open_by_provider.get("wechat") == 2 and open_by_provider.get("alipay") == 1
    html = page.content.decode()
    assert 'id="finance-recon"' in html and reverse("accounting:recon-item-list") in html
    fees = {method: (amount, fee) for method, amount, fee in page.context["fees"]}
    assert fees["WeChat Pay"][0] == Decimal("100.00") and fees["WeChat Pay"][1] > 0

    client.force_login(world.regional)
    regional = client.get(reverse("accounting:finance"))
    row = next(r for r in regional.context["recon_days"] if r.day == yesterday)
    assert {p.provider: p.open for p in row.providers}.get("alipay", 0) == 0  # the west's is not theirs
