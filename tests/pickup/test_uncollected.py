"""Counter pickup orders nobody collects: after the code expired and the region's grace hours, the
beat job ends them as not collected, tells the store's staff to put the goods back and lists them
on the pickup queue; a new code sent before that keeps the order waiting."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from core.sms import OutboxSMSProvider
from orders.models import OrderEvent, OrderKind, OrderStatus
from pickup.models import PickupCode
from pickup.services import InvalidCode, code_issue, counter_redeem, pickup_order_create, pickup_ready_at_counter
from pickup.tasks import pickup_uncollected_expire
from tests.factories import CustomerFactory, UserFactory, make_order


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    settings.PICKUP_UNCOLLECTED_GRACE_HOURS = 24
    OutboxSMSProvider.outbox.clear()


def _ready_order(site, callbacks):
    order = make_order(site=site, kind=OrderKind.PICKUP, paid=True, total=Decimal("12.00"), customer=CustomerFactory())
    with callbacks(execute=True):
        pickup_ready_at_counter(order=order, actor=None)
    return order, re.search(r"\b(\d{8})\b", OutboxSMSProvider.outbox[-1][1]).group(1)


def _code_expired(order, hours_ago):
    PickupCode.objects.filter(order=order).update(expires_at=timezone.now() - datetime.timedelta(hours=hours_ago))


def _notified(user, template):
    return Notification.objects.filter(recipient_id=user.pk, template=template).count()


def _queue(client, **params):
    page = client.get(reverse("pickup:queue"), params)
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.django_db
def test_the_beat_job_ends_an_uncollected_order_once_and_the_queue_shows_it(
    world, client, django_capture_on_commit_callbacks
):
    from config.celery import app
    from core.services import scope_grant

    west_manager = UserFactory(role="store_manager")
    scope_grant(actor=None, user=west_manager, target=world.west_store, action="change")

    assert app.conf.beat_schedule["pickup-uncollected-expire"]["task"] == "pickup.tasks.pickup_uncollected_expire"
    order, code = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    kept, _kept_code = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    _code_expired(order, hours_ago=25)  # past the 24 grace hours
    _code_expired(kept, hours_ago=23)  # expired, but staff can still send a new code
    with django_capture_on_commit_callbacks(execute=True):
        assert pickup_uncollected_expire.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert pickup_uncollected_expire.delay().get() == 0  # a second run changes nothing
    order.refresh_from_db()
    kept.refresh_from_db()
    assert order.status == OrderStatus.FAILED and kept.status == OrderStatus.FULFILLING
    event = OrderEvent.objects.get(order=order, action="pickup.not_collected")
    assert (event.from_status, event.to_status) == (OrderStatus.FULFILLING, OrderStatus.FAILED)
    assert PickupCode.objects.get(order=order).status == PickupCode.Status.EXPIRED
    # The store's staff are told once to put the goods back; the other region's staff are not.
    assert _notified(world.manager, "pickup_not_collected") == 1
    assert _notified(west_manager, "pickup_not_collected") == 0
    assert Notification.objects.filter(recipient_id=order.customer_id, template="pickup_expired").count() == 1

    client.force_login(world.clerk)
    returns = _queue(client, state="not_collected")
    assert order.number in returns and kept.number not in returns
    assert "Not collected" in returns
    waiting = _queue(client)
    assert kept.number in waiting and order.number not in waiting
    assert "Code expired: send a new code or it ends as not collected" in waiting
    # The customer comes too late: the standard refusal, and the order stays ended.
    page = client.post(reverse("pickup:counter"), {"site": world.east_store.pk, "code": code})
    assert "Invalid or expired code." in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    # The clerk puts the goods back: noted once, and the order leaves the list.
    done = client.post(reverse("pickup:put-back", args=[order.pk]), follow=True).content.decode()
    assert f"Order {order.number}: goods put back." in done
    assert order.number not in _queue(client, state="not_collected")
    again = client.post(reverse("pickup:put-back", args=[order.pk]), follow=True).content.decode()
    assert f"Order {order.number} has no goods waiting to be put back." in again
    waiting_one = client.post(reverse("pickup:put-back", args=[kept.pk]), follow=True).content.decode()
    assert f"Order {kept.number} has no goods waiting to be put back." in waiting_one
    assert OrderEvent.objects.filter(order=order, action="pickup.put_back").count() == 1
    assert not OrderEvent.objects.filter(order=kept, action="pickup.put_back").exists()
    # No new code for an order that ended: a clear message and nothing issued.
    client.force_login(world.manager)
    detail = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert "Not collected in time" in detail
    answer = client.post(reverse("pickup:regenerate", args=[order.pk]), follow=True)
    assert "Only an order waiting for pickup gets a new code." in answer.content.decode()
    assert not PickupCode.objects.filter(order=order, status=PickupCode.Status.LIVE).exists()


@pytest.mark.django_db
def test_a_new_code_sent_within_the_grace_hours_keeps_the_order_waiting(
    world, client, django_capture_on_commit_callbacks
):
    order, _old = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    _code_expired(order, hours_ago=23)
    client.force_login(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("pickup:regenerate", args=[order.pk])).status_code == 302
    new = re.search(r"\b(\d{8})\b", OutboxSMSProvider.outbox[-1][1]).group(1)
    later = timezone.now() + datetime.timedelta(hours=2)  # the old code's grace is over by then
    assert pickup_uncollected_expire.delay().get() == 0
    from pickup.services import uncollected_expire

    assert uncollected_expire(now=later) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLING
    client.force_login(world.clerk)
    assert order.number in _queue(client)
    page = client.post(reverse("pickup:counter"), {"site": world.east_store.pk, "code": new})
    assert page.status_code == 200 and order.number in page.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_the_regions_grace_hours_decide(world, client, django_capture_on_commit_callbacks):
    order, _code = _ready_order(world.east_store, django_capture_on_commit_callbacks)
    other, _other_code = _ready_order(world.west_store, django_capture_on_commit_callbacks)
    _code_expired(order, hours_ago=2)
    _code_expired(other, hours_ago=2)
    client.force_login(world.admin)
    page = reverse("core:region-settings", args=[world.east_store.region_id])
    assert client.post(page, {"key": "pickup.uncollected_grace_hours", "value": "1"}).status_code == 302
    refused = client.post(page, {"key": "pickup.uncollected_grace_hours", "value": "721"})
    assert refused.status_code == 400 and "from 0 to 720" in refused.content.decode()
    assert pickup_uncollected_expire.delay().get() == 1
    order.refresh_from_db()
    other.refresh_from_db()
    assert order.status == OrderStatus.FAILED and other.status == OrderStatus.FULFILLING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_collect_and_the_expiry_at_the_same_moment_never_both_win(world):
    """On PostgreSQL: ten customers collect at the moment two runs of the job (their clock past
    every code's grace) run: each order is handed over with its code used, or ended once with its
    code expired and the collect refused with the standard message; never both, never neither."""
    from pickup.services import uncollected_expire

    count = 10
    orders = []
    for index in range(count):
        order, _row = pickup_order_create(site=world.east_store, recipient_phone=f"1390000{index:04d}", actor=None)
        _row, code = code_issue(order=order)
        orders.append((order, code, UserFactory(role="clerk")))
    late = timezone.now() + datetime.timedelta(hours=72 + 24 + 1)
    barrier = threading.Barrier(count + 2)
    collected: dict[int, object] = {}
    ended: list[int] = []

    def collect(order, code, clerk):
        try:
            barrier.wait()
            collected[order.pk] = counter_redeem(site=world.east_store, code=code, actor=clerk)
        except ValidationError as error:
            collected[order.pk] = error
        finally:
            connection.close()

    def expire():
        try:
            barrier.wait()
            ended.append(uncollected_expire(now=late))
        finally:
            connection.close()

    threads = [threading.Thread(target=collect, args=args) for args in orders] + [
        threading.Thread(target=expire) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    handed = failed = 0
    for order, _code, _clerk in orders:
        order.refresh_from_db()
        code = PickupCode.objects.get(order=order, status__in=["used", "expired"])
        outcome = collected[order.pk]
        if order.status == OrderStatus.COMPLETED:
            handed += 1
            assert code.status == PickupCode.Status.USED and outcome == order
            assert not OrderEvent.objects.filter(order=order, action="pickup.not_collected").exists()
        else:
            failed += 1
            assert order.status == OrderStatus.FAILED and code.status == PickupCode.Status.EXPIRED
            assert isinstance(outcome, InvalidCode) and outcome.messages == ["Invalid or expired code."]
            assert OrderEvent.objects.filter(order=order, action="pickup.not_collected").count() == 1
    assert handed + failed == count and sum(ended) == failed and len(ended) == 2
    assert uncollected_expire(now=late) == 0  # what is left changes no more
