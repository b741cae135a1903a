"""Wrong pickup codes lock the source that typed them, not every customer of the bank (issue 15,
item 12): per keypad session, clerk or API client; a slower bank-wide ceiling that alerts staff;
the right code plus a one-time code on the customer's phone still opens; a parallel burst never
gets more codes looked at than the limit. All through the device API and the counter page."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.models import Notification
from core.services import scope_grant
from core.sms import OutboxSMSProvider
from devices.models import Device, DeviceCommand
from devices.services import device_event_record, device_pair
from lockers.services import compartments_create, locker_assign
from orders.models import OrderKind, OrderStatus
from pickup.models import EntryLock, PickupAttempt
from pickup.services import pickup_ready_at_counter
from tests.devices.helpers import answer_pending
from tests.factories import CustomerFactory, DeviceFactory, UserFactory, make_order

PICKUP = "/api/v1/device/pickup/"
WRONG = [f"{n:08d}" for n in range(10_000_000, 10_000_200)]  # never a code: codes are drawn at random,
# but a test must not depend on luck, so every guess is checked against the real code below.


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox.clear()


def _wrong(code, count, start=0):
    return [w for w in WRONG if w != code][start : start + count]


def _locker_parcel(bank, callbacks, phone="13900000011"):
    order = make_order(
        site=bank.site, kind=OrderKind.LOCKER, paid=True, total=Decimal("5.00"), customer=CustomerFactory(phone=phone)
    )
    with callbacks(execute=True):
        locker_order = locker_assign(order=order, bank=bank, size="M", actor=None)
        answer_pending(bank)
        device_event_record(device=bank, kind="door_closed", data={"door": locker_order.compartment.door})
    to, text = OutboxSMSProvider.outbox[-1]
    assert to == phone
    return locker_order, re.search(r"\b(\d{8})\b", text).group(1)


@pytest.fixture
def locker(db, api_client):
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    compartments_create(bank=bank, sizes=["M", "M", "M"])
    _bank, token = device_pair(serial_number=bank.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    return bank


def _try(api_client, code, session=None):
    body = {"code": code} | ({"session": session} if session else {})
    return api_client.post(PICKUP, body, format="json")


def _evaluated_wrong(**where):
    return PickupAttempt.objects.filter(succeeded=False, refused_locked=False, **where).count()


@pytest.mark.django_db
def test_one_keypad_sessions_wrong_codes_do_not_lock_the_next_customer(
    locker, api_client, django_capture_on_commit_callbacks
):
    locker_order, code = _locker_parcel(locker, django_capture_on_commit_callbacks)
    statuses = [_try(api_client, guess, session="kp-attacker").status_code for guess in _wrong(code, 12)]
    assert statuses == [400] * 5 + [423] * 7
    refused = _try(api_client, code, session="kp-attacker")  # even the right code: the session is locked
    assert refused.status_code == 423 and refused.json()["confirm_by_phone"] is True
    assert _evaluated_wrong(device=locker) == 5
    lock = EntryLock.objects.get(device=locker)
    assert lock.source == f"device:{locker.pk}:keypad:kp-attacker"
    # The next customer at the same bank, in a new keypad session, opens at once.
    opened = _try(api_client, code, session="kp-customer")
    assert opened.status_code == 200 and opened.json()["door"] == locker_order.compartment.door
    assert DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").count() == 1
    # A session lock raises no staff alert (only the bank-wide ceiling does).
    assert not Notification.objects.filter(template="pickup_entry_locked").exists()


@pytest.mark.django_db
def test_a_machine_without_sessions_is_one_api_client_and_its_lock_is_its_own(
    locker, api_client, django_capture_on_commit_callbacks
):
    _locker_order, code = _locker_parcel(locker, django_capture_on_commit_callbacks)
    assert [_try(api_client, guess).status_code for guess in _wrong(code, 6)] == [400] * 5 + [423]
    assert EntryLock.objects.get(device=locker).source == f"device:{locker.pk}:api"
    assert _try(api_client, code, session="kp-1").status_code == 200


@pytest.mark.django_db
def test_the_bank_ceiling_locks_the_bank_once_and_alerts_staff(
    locker, api_client, world, settings, django_capture_on_commit_callbacks
):
    settings.PICKUP_PLACE_MAX_WRONG_CODES = 20
    scope_grant(actor=None, user=world.service, target=locker.site.region, action="view")
    _locker_order, code = _locker_parcel(locker, django_capture_on_commit_callbacks)
    guesses = iter(_wrong(code, 200))
    statuses = []
    for session in range(12):  # an attacker who starts a new keypad session every 5 codes
        statuses += [_try(api_client, next(guesses), session=f"kp-{session}").status_code for _ in range(5)]
    assert statuses[:20] == [400] * 20 and set(statuses[20:]) == {423}
    assert _evaluated_wrong(device=locker) == 20  # the ceiling, however many sessions
    bank_locks = EntryLock.objects.filter(device=locker, source="")
    assert bank_locks.count() == 1 and bank_locks.get().wrong_codes == 20
    alerts = Notification.objects.filter(template="pickup_entry_locked")
    assert world.service.pk in set(alerts.values_list("recipient_id", flat=True))
    assert alerts.count() == len(set(alerts.values_list("recipient_id", flat=True)))  # once each
    # A fresh session, even with the right code, is refused while the bank is locked ...
    refused = _try(api_client, code, session="kp-honest")
    assert refused.status_code == 423 and refused.json()["confirm_by_phone"] is True
    assert not DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").exists()
    # ... and the refusals during the lock raised no second alert.
    assert Notification.objects.filter(template="pickup_entry_locked").count() == alerts.count()


@pytest.mark.django_db
def test_the_right_code_and_the_sms_code_open_during_a_bank_lock(
    locker, api_client, settings, django_capture_on_commit_callbacks
):
    settings.PICKUP_PLACE_MAX_WRONG_CODES = 5
    locker_order, code = _locker_parcel(locker, django_capture_on_commit_callbacks, phone="13900000012")
    for session, guess in enumerate(_wrong(code, 5)):
        assert _try(api_client, guess, session=f"kp-{session}").status_code == 400
    assert EntryLock.objects.filter(device=locker, source="").exists()
    assert _try(api_client, code, session="kp-owner").status_code == 423
    sent_before = len(OutboxSMSProvider.outbox)

    # A number with no parcel here gets the same answer, and no SMS goes out.
    with django_capture_on_commit_callbacks(execute=True):
        stranger = api_client.post(f"{PICKUP}phone/", {"phone": "13900000099"}, format="json")
    assert stranger.status_code == 202 and len(OutboxSMSProvider.outbox) == sent_before
    # Not a phone number: a clear 400, nothing sent.
    assert api_client.post(f"{PICKUP}phone/", {"phone": "12"}, format="json").status_code == 400

    with django_capture_on_commit_callbacks(execute=True):
        asked = api_client.post(f"{PICKUP}phone/", {"phone": "13900000012"}, format="json")
    assert asked.status_code == 202 and asked.json()["detail"] == stranger.json()["detail"]
    to, text = OutboxSMSProvider.outbox[-1]
    assert to == "13900000012"
    otp = re.search(r"\b(\d{6})\b", text).group(1)
    # Asking again at once is throttled (the customer's phone is not an SMS cannon).
    again = api_client.post(f"{PICKUP}phone/", {"phone": "13900000012"}, format="json")
    assert again.status_code == 400 and len(OutboxSMSProvider.outbox) == sent_before + 1

    confirm = f"{PICKUP}confirm/"
    wrong_otp = f"{(int(otp) + 1) % 10**6:06d}"
    answer = api_client.post(
        confirm, {"code": code, "phone": "13900000012", "confirmation": wrong_otp, "session": "kp-owner"}, format="json"
    )
    assert answer.status_code == 400 and answer.json()["detail"] == "The confirmation code is not right."
    answer = api_client.post(
        confirm, {"code": _wrong(code, 1)[0], "phone": "13900000012", "confirmation": otp}, format="json"
    )
    assert answer.status_code == 400 and answer.json()["detail"] == "Invalid or expired code."
    assert not DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").exists()

    opened = api_client.post(
        confirm, {"code": code, "phone": "13900000012", "confirmation": otp, "session": "kp-owner"}, format="json"
    )
    assert opened.status_code == 200 and opened.json()["door"] == locker_order.compartment.door
    assert DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").count() == 1
    assert PickupAttempt.objects.filter(device=locker, succeeded=True, confirmed_by_phone=True).count() == 1
    # The SMS code is single use, and so is the pickup code.
    replay = api_client.post(
        confirm, {"code": code, "phone": "13900000012", "confirmation": otp, "session": "kp-owner"}, format="json"
    )
    assert replay.status_code == 400
    assert DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").count() == 1


@pytest.mark.django_db
def test_an_sms_code_guessed_five_times_is_dead(locker, api_client, django_capture_on_commit_callbacks):
    _locker_order, code = _locker_parcel(locker, django_capture_on_commit_callbacks, phone="13900000013")
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(f"{PICKUP}phone/", {"phone": "13900000013"}, format="json")
    otp = re.search(r"\b(\d{6})\b", OutboxSMSProvider.outbox[-1][1]).group(1)
    body = {"code": code, "phone": "13900000013"}
    for n in range(1, 6):
        guess = f"{(int(otp) + n) % 10**6:06d}"
        assert api_client.post(f"{PICKUP}confirm/", body | {"confirmation": guess}, format="json").status_code == 400
    late = api_client.post(f"{PICKUP}confirm/", body | {"confirmation": otp}, format="json")
    assert late.status_code == 400 and "Ask for a new one" in late.json()["detail"]
    assert not DeviceCommand.objects.filter(device=locker, payload__purpose="pickup").exists()


# --- The counter -----------------------------------------------------------------------------
def _counter_parcel(site, callbacks, phone="13900000021"):
    order = make_order(
        site=site, kind=OrderKind.PICKUP, paid=True, total=Decimal("12.00"), customer=CustomerFactory(phone=phone)
    )
    with callbacks(execute=True):
        pickup_ready_at_counter(order=order, actor=None)
    return order, re.search(r"\b(\d{8})\b", OutboxSMSProvider.outbox[-1][1]).group(1)


@pytest.mark.django_db
def test_one_clerks_wrong_codes_do_not_lock_another_clerk_or_the_lockers(
    world, client, django_capture_on_commit_callbacks
):
    order, code = _counter_parcel(world.east_store, django_capture_on_commit_callbacks)
    client.force_login(world.clerk)
    for guess in _wrong(code, 5):
        page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": guess})
        assert b"Invalid or expired code." in page.content
    page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert page.status_code == 200 and b"Code entry is locked here" in page.content
    order.refresh_from_db()
    assert order.status != OrderStatus.COMPLETED
    assert EntryLock.objects.get(site=world.east_store).source == f"site:{world.east_store.pk}:user:{world.clerk.pk}"

    other = UserFactory(role="clerk")
    scope_grant(actor=None, user=other, target=world.east_store, action="view")
    client.force_login(other)
    page = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert page.status_code == 200 and order.number.encode() in page.content
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


@pytest.mark.django_db
def test_a_locked_clerk_hands_over_with_the_code_and_the_customers_sms_code(
    world, client, django_capture_on_commit_callbacks
):
    order, code = _counter_parcel(world.east_store, django_capture_on_commit_callbacks, phone="13900000022")
    client.force_login(world.clerk)
    for guess in _wrong(code, 5):
        client.post("/pickup/counter/", {"site": world.east_store.pk, "code": guess})
    locked = client.post("/pickup/counter/", {"site": world.east_store.pk, "code": code})
    assert b"Code entry is locked here" in locked.content and b"<details open>" in locked.content
    form = {"site": world.east_store.pk, "phone": "13900000022"}
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/pickup/counter/", form | {"action": "send"}, follow=True)
    assert sent.status_code == 200
    to, text = OutboxSMSProvider.outbox[-1]
    assert to == "13900000022"
    otp = re.search(r"\b(\d{6})\b", text).group(1)
    wrong = client.post(
        "/pickup/counter/", form | {"action": "confirm", "code": code, "confirmation": f"{(int(otp) + 1) % 10**6:06d}"}
    )
    assert b"The confirmation code is not right." in wrong.content
    order.refresh_from_db()
    assert order.status != OrderStatus.COMPLETED
    page = client.post("/pickup/counter/", form | {"action": "confirm", "code": code, "confirmation": otp})
    assert page.status_code == 200 and order.number.encode() in page.content
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


# --- Parallel bursts on PostgreSQL -----------------------------------------------------------
def _burst(token, bodies):
    from rest_framework.test import APIClient

    barrier = threading.Barrier(len(bodies))
    statuses = [None] * len(bodies)

    def guess(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
        try:
            barrier.wait()
            statuses[index] = client.post(PICKUP, bodies[index], format="json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_from_one_session_evaluates_at_most_the_limit():
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    _bank, token = device_pair(serial_number=bank.serial_number)
    statuses = _burst(token, [{"code": guess, "session": "kp-burst"} for guess in WRONG[:24]])
    assert sorted(statuses) == [400] * 5 + [423] * 19
    assert _evaluated_wrong(device=bank) == 5
    assert PickupAttempt.objects.filter(device=bank, refused_locked=True).count() == 19
    assert EntryLock.objects.filter(device=bank, source=f"device:{bank.pk}:keypad:kp-burst").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_parallel_burst_over_many_sessions_evaluates_at_most_the_bank_ceiling(settings):
    settings.PICKUP_PLACE_MAX_WRONG_CODES = 8
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    _bank, token = device_pair(serial_number=bank.serial_number)
    statuses = _burst(token, [{"code": guess, "session": f"kp-{n}"} for n, guess in enumerate(WRONG[:24])])
    assert sorted(statuses) == [400] * 8 + [423] * 16
    assert _evaluated_wrong(device=bank) == 8
    assert EntryLock.objects.filter(device=bank, source="").count() == 1
