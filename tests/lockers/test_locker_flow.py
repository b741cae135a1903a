"""Self-pickup locker orders: allocation, ready, code, collection — and the codes' defences."""

import datetime
import random
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Notification
from core.sms import OutboxSMSProvider
from devices.models import DeviceCommand
from devices.services import device_event_record, device_pair
from lockers.models import Compartment, LockerOrder, ReturnTask
from lockers.services import locker_assign, locker_pickup, lockers_expire
from orders.models import OrderStatus
from pickup.models import AttemptCounter, EntryLock, PickupAttempt, PickupCode
from pickup.services import InvalidCode
from tests.devices.helpers import answer_pending

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()


def _ready(bank, paid_order, callbacks, size="M"):
    with callbacks(execute=True):
        locker_order = locker_assign(order=paid_order(), bank=bank, size=size, actor=None)
        answer_pending(bank)  # the depositor's door opens
        device_event_record(device=bank, kind="door_closed", data={"door": locker_order.compartment.door})
    locker_order.refresh_from_db()
    sent = OutboxSMSProvider.outbox[-1][1]
    code = re.search(r"\b(\d{8})\b", sent).group(1)
    return locker_order, code


def test_the_smallest_fitting_compartment_is_chosen_and_too_large_is_refused(bank, paid_order):
    first = locker_assign(order=paid_order(), bank=bank, size="S", actor=None)
    second = locker_assign(order=paid_order(), bank=bank, size="S", actor=None)
    third = locker_assign(order=paid_order(), bank=bank, size="S", actor=None)  # smalls gone: a medium
    assert [o.compartment.size for o in (first, second, third)] == ["S", "S", "M"]
    locker_assign(order=paid_order(), bank=bank, size="XL", actor=None)
    with pytest.raises(ValidationError, match="No free compartment of size XL"):
        locker_assign(order=paid_order(), bank=bank, size="XL", actor=None)


def test_door_closed_makes_it_ready_the_code_opens_once_and_closing_completes(
    bank, paid_order, django_capture_on_commit_callbacks
):
    locker_order, code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    assert locker_order.stage == "ready" and locker_order.compartment.state == Compartment.State.OCCUPIED
    with django_capture_on_commit_callbacks(execute=True):
        opened = locker_pickup(bank=bank, code=code)
        assert opened.pk == locker_order.pk
        with pytest.raises(InvalidCode, match="Invalid or expired code"):
            locker_pickup(bank=bank, code=code)  # replay refused
        answer_pending(bank)
        device_event_record(device=bank, kind="door_opened", data={"door": locker_order.compartment.door})
        device_event_record(device=bank, kind="door_closed", data={"door": locker_order.compartment.door})
    locker_order.refresh_from_db()
    locker_order.compartment.refresh_from_db()
    assert locker_order.stage == "collected" and locker_order.compartment.state == Compartment.State.FREE
    assert locker_order.order.status == OrderStatus.COMPLETED
    opens = DeviceCommand.objects.filter(device=bank, kind="open_door", payload__purpose="pickup")
    assert opens.count() == 1


def test_guesses_open_nothing_and_entry_locks_for_every_further_guess(
    bank, paid_order, api_client, django_capture_on_commit_callbacks, world
):
    """Guesses from one keypad session: five are looked at, then that session is locked, and a
    refused guess changes no counter and no lock (only the log gains a row), so the next guess
    meets the same lock as this one: the 10,000th no less than the 6th. A new session of an
    attacker each five guesses gets no further than the bank-wide ceiling, which locks the bank
    and alerts staff."""
    from core.services import scope_grant

    scope_grant(actor=None, user=world.service, target=bank.site.region, action="view")
    locker_order, code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    _bank, token = device_pair(serial_number=bank.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    rnd = random.Random(7)
    guesses = (guess for guess in (f"{rnd.randrange(10**8):08d}" for _ in iter(int, 1)) if guess != code)

    def enter():
        return api_client.post("/api/v1/device/pickup/", {"code": next(guesses), "session": "one"}, format="json")

    def counters():
        return sorted(AttemptCounter.objects.values_list("source", "count", "window_start", "locked_until"))

    statuses = [enter().status_code for _ in range(6)]
    assert statuses == [400] * 5 + [423]
    locked = counters()
    assert [(source, count) for source, count, _start, until in locked if until] == [
        (f"device:{bank.pk}:keypad:one", settings.PICKUP_MAX_WRONG_CODES)
    ]
    statuses = [enter().status_code for _ in range(200)]
    assert set(statuses) == {423}
    assert counters() == locked  # every refused guess left the counters and the lock as they were
    refused = PickupAttempt.objects.filter(device=bank, refused_locked=True)
    assert refused.count() == 201 and not refused.filter(succeeded=True).exists()
    assert EntryLock.objects.filter(device=bank).count() == 1
    # Rotating sessions: at most the bank-wide ceiling of codes is ever looked at.
    for n in range(200):
        api_client.post("/api/v1/device/pickup/", {"code": next(guesses), "session": f"s{n // 5}"}, format="json")
    looked_at = PickupAttempt.objects.filter(device=bank, succeeded=False, refused_locked=False).count()
    assert looked_at == settings.PICKUP_PLACE_MAX_WRONG_CODES
    assert EntryLock.objects.filter(device=bank, source="").count() == 1
    alerted = Notification.objects.filter(template="pickup_entry_locked").values_list("recipient_id", flat=True)
    assert world.service.pk in set(alerted)
    assert not DeviceCommand.objects.filter(device=bank, payload__purpose="pickup").exists()
    # After the locks pass, the right code opens exactly one compartment, exactly once.
    past = timezone.now() - datetime.timedelta(minutes=settings.PICKUP_LOCK_MINUTES + 1)
    EntryLock.objects.update(until=past)
    AttemptCounter.objects.update(locked_until=past, window_start=past)
    right = api_client.post("/api/v1/device/pickup/", {"code": code, "session": "one"}, format="json")
    assert right.status_code == 200 and right.json()["door"] == locker_order.compartment.door
    assert api_client.post("/api/v1/device/pickup/", {"code": code}, format="json").status_code == 400
    assert DeviceCommand.objects.filter(device=bank, payload__purpose="pickup").count() == 1


def test_no_code_appears_in_clear_anywhere_in_the_database(bank, paid_order, django_capture_on_commit_callbacks):
    _locker_order, code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    for model in apps.get_models():
        for row in model._default_manager.all().values_list():
            assert code not in " ".join(str(value) for value in row), model._meta.label


def test_malformed_codes_get_the_same_answer(bank, paid_order, django_capture_on_commit_callbacks):
    _ready(bank, paid_order, django_capture_on_commit_callbacks)
    for bad in ["", "abc", "1" * 40, "12 34"]:
        with pytest.raises(InvalidCode, match="^\\['Invalid or expired code.'\\]$"):
            locker_pickup(bank=bank, code=bad)


def test_a_door_that_does_not_open_keeps_the_order_ready_and_raises_a_fault(
    bank, paid_order, django_capture_on_commit_callbacks
):
    from devices.models import Fault

    locker_order, code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        locker_pickup(bank=bank, code=code)
        answer_pending(bank, succeeded=False)
    locker_order.refresh_from_db()
    assert locker_order.stage == "ready"
    assert Fault.objects.filter(device=bank, code="DOOR_DID_NOT_OPEN").exists()
    assert PickupCode.objects.get(order=locker_order.order).status == "live"


def test_expiry_notifies_creates_return_tasks_and_is_idempotent(bank, paid_order, django_capture_on_commit_callbacks):
    locker_order, _code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    PickupCode.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert lockers_expire() == 1
    assert lockers_expire() == 0
    locker_order.refresh_from_db()
    assert locker_order.stage == "expired"
    assert ReturnTask.objects.filter(locker_order=locker_order).count() == 1
    assert Notification.objects.filter(template="pickup_expired").count() == 1  # once, on the preferred channel
    assert LockerOrder.objects.count() == 1


def test_overdue_days_are_charged_once_each_and_reminders_go_once(bank, paid_order, django_capture_on_commit_callbacks):
    from decimal import Decimal

    from wallet.services import balances, recharge_credit

    locker_order, _code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    customer = locker_order.order.customer
    recharge_credit(customer=customer, amount="10.00", provider="cash", key="overdue-seed")
    LockerOrder.objects.filter(pk=locker_order.pk).update(ready_at=timezone.now() - datetime.timedelta(hours=24 + 30))
    from lockers.services import lockers_charge_overdue

    assert lockers_charge_overdue() == 2  # 30 hours past the free day: two started days
    assert lockers_charge_overdue() == 0
    assert balances(customer=customer).paid == Decimal("6.00")
    from pickup.services import codes_remind

    PickupCode.objects.update(expires_at=timezone.now() + datetime.timedelta(hours=3))
    assert codes_remind() == 1 and codes_remind() == 0
    assert Notification.objects.filter(template="pickup_reminder").exists()


def test_the_qr_link_in_the_message_shows_the_code_and_forged_links_do_not(
    bank, paid_order, client, django_capture_on_commit_callbacks
):
    _locker_order, code = _ready(bank, paid_order, django_capture_on_commit_callbacks)
    link = re.search(r"https?://\S+/pickup/qr/\S+/", OutboxSMSProvider.outbox[-1][1]).group(0)
    path = link.split("127.0.0.1:8000", 1)[-1]
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert client.get(path.replace("/qr/", "/qr/x")).status_code == 404


def test_staff_reopen_reassign_and_take_out_of_service_with_reasons(bank, paid_order, api_client, world):
    from core.models import AuditEntry
    from core.services import scope_grant
    from orders.models import OrderEvent

    scope_grant(actor=None, user=world.regional, target=bank.site.region, action="change")
    locker_order = locker_assign(order=paid_order(), bank=bank, size="M", actor=None)
    api_client.force_authenticate(world.regional)
    base = f"/api/v1/compartments/{locker_order.compartment_id}"
    assert api_client.post(f"{base}/reassign/", {}, format="json").status_code == 400  # a reason is required
    moved = api_client.post(f"{base}/reassign/", {"reason": "door sticks"}, format="json")
    assert moved.status_code == 200 and moved.json()["door"] != locker_order.compartment.door
    assert OrderEvent.objects.filter(
        order=locker_order.order, action="locker.reassigned", reason="door sticks"
    ).exists()
    assert api_client.post(f"{base}/out-of-service/", {"reason": "hinge broken"}, format="json").json()["state"] == (
        "out_of_service"
    )
    assert api_client.post(f"{base}/reopen/", {"reason": "check the hinge"}, format="json").status_code == 202
    assert AuditEntry.objects.filter(action="lockers.reopen").exists()
    api_client.force_authenticate(world.clerk)  # may not change compartments
    assert api_client.post(f"{base}/reopen/", {"reason": "x"}, format="json").status_code == 403


def test_the_occupancy_sensor_is_followed(bank, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        device_event_record(device=bank, kind="occupied", data={"door": 2})
    assert Compartment.objects.get(bank=bank, door=2).occupied_sensor is True
    with django_capture_on_commit_callbacks(execute=True):
        device_event_record(device=bank, kind="emptied", data={"door": 2})
    assert Compartment.objects.get(bank=bank, door=2).occupied_sensor is False
