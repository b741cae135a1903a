"""The storage window and fee operators set for a region (ADR 16) are what the overdue job
charges a parcel in a bank of that region with no storage rule of its own."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from lockers.models import LockerOrder
from tests.lockers.test_locker_flow import _ready

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms(settings):
    from core.sms import OutboxSMSProvider

    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()


def test_the_overdue_job_charges_by_the_regions_storage_window(
    bank, paid_order, world, client, django_capture_on_commit_callbacks
):
    from lockers.services import lockers_charge_overdue
    from wallet.services import balances, recharge_credit

    parent = bank.site.region
    client.force_login(world.admin)
    page = reverse("core:region-settings", args=[parent.pk])
    assert client.post(page, {"key": "lockers.free_hours", "value": "48"}).status_code == 302
    assert client.post(page, {"key": "lockers.overdue_fee_per_day", "value": "3.50"}).status_code == 302
    locker_order, _code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    customer = locker_order.order.customer
    recharge_credit(customer=customer, amount="10.00", provider="cash", key="window-seed")
    LockerOrder.objects.filter(pk=locker_order.pk).update(ready_at=timezone.now() - datetime.timedelta(hours=54))
    assert lockers_charge_overdue() == 1  # 6 hours past 48 free: one started day (the default: 2 days)
    assert balances(customer=customer).paid == Decimal("6.50")  # 10.00 - 3.50 (the default fee is 2.00)
