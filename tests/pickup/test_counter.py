"""Pickup-code orders collected at a store counter, and codes sent again by staff."""

import re
from decimal import Decimal

import pytest

from core.sms import OutboxSMSProvider
from orders.models import OrderKind, OrderStatus
from pickup.models import EntryLock, PickupCode
from pickup.services import InvalidCode, code_regenerate, counter_redeem, pickup_ready_at_counter
from tests.factories import CustomerFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()


def _ready_order(site, callbacks):
    order = make_order(site=site, kind=OrderKind.PICKUP, paid=True, total=Decimal("12.00"), customer=CustomerFactory())
    with callbacks(execute=True):
        pickup_ready_at_counter(order=order, actor=None)
    return order, re.search(r"\b(\d{8})\b", OutboxSMSProvider.outbox[-1][1]).group(1)


def test_the_clerk_hands_over_once_and_only_at_the_right_store(world, client, django_capture_on_commit_callbacks):
    order, code = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    with pytest.raises(InvalidCode):
        counter_redeem(site=world.west_store, code=code, actor=None)  # another store's counter
    client.force_login(world.clerk)
    page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert page.status_code == 200 and order.number.encode() in page.content
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    again = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert b"Invalid or expired code." in again.content


def test_five_wrong_codes_lock_the_clerk_at_the_counter(world, client, django_capture_on_commit_callbacks):
    order, code = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    client.force_login(world.clerk)
    for wrong in ["00000001", "00000002", "00000003", "00000004", "00000005"]:
        if wrong != code:
            page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": wrong})
            assert b"Invalid or expired code." in page.content
    assert EntryLock.objects.filter(site=world.east_store, source__endswith=f"user:{world.clerk.pk}").exists()
    page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert b"Code entry is locked here for a while after too many wrong codes." in page.content
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING


def test_a_regenerated_code_replaces_the_old_one_at_once(world, django_capture_on_commit_callbacks):
    order, old = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        code_regenerate(order=order, actor=world.manager)
    new = re.search(r"\b(\d{8})\b", OutboxSMSProvider.outbox[-1][1]).group(1)
    assert PickupCode.objects.filter(order=order, status="live").count() == 1
    with pytest.raises(InvalidCode):
        counter_redeem(site=world.east_store, code=old, actor=None)
    if new != old:
        assert counter_redeem(site=world.east_store, code=new, actor=None) == order


def test_codes_go_on_the_customers_preferred_channel_when_reachable():
    from pickup.services import customer_channels

    assert customer_channels(CustomerFactory(email="a@example.test", preferred_channel="email")) == ["email"]
    assert customer_channels(CustomerFactory(email="", preferred_channel="email")) == ["sms"]
    assert customer_channels(CustomerFactory(email="b@example.test")) == ["sms"]


def test_a_banks_own_storage_rule_sets_the_code_lifetime(world, django_capture_on_commit_callbacks):
    import datetime

    from devices.models import Device
    from devices.services import device_event_record
    from lockers.models import StorageRule
    from lockers.services import compartments_create, locker_assign
    from tests.devices.helpers import answer_pending
    from tests.factories import DeviceFactory

    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=world.east_store)
    StorageRule.objects.create(bank=bank, free_hours=2, return_after_days=1)
    compartments_create(bank=bank, sizes=["M"])
    order = make_order(site=world.east_store, kind=OrderKind.LOCKER, paid=True, customer=CustomerFactory())
    with django_capture_on_commit_callbacks(execute=True):
        locker_order = locker_assign(order=order, bank=bank, size="M", actor=None)
        answer_pending(bank)
        device_event_record(device=bank, kind="door_closed", data={"door": locker_order.compartment.door})
    row = PickupCode.objects.get(order=order)
    assert abs((row.expires_at - row.created_at) - datetime.timedelta(days=1)) < datetime.timedelta(seconds=5)
