"""Writes for devices: registry, pairing and tokens, heartbeats and online/offline, faults, events
and the remote-command state machine.

Every state change of a device or a command writes its log row in the same transaction;
live pages and other apps' handlers hear about it after commit.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import sql
from core.services import audit_record
from devices import commands as registry
from devices import live
from devices.models import (
    Device,
    DeviceCommand,
    DeviceCommandEvent,
    DeviceCredential,
    DeviceEvent,
    Fault,
    Telemetry,
)

logger = logging.getLogger(__name__)
C = DeviceCommand.Status
DEFAULT_COMMAND_TTL = 300
# queued → sent → acknowledged → succeeded / failed; anything unfinished → expired / cancelled.
COMMAND_TRANSITIONS = {
    C.QUEUED: {C.SENT, C.ACKNOWLEDGED, C.SUCCEEDED, C.FAILED, C.EXPIRED, C.CANCELLED},
    C.SENT: {C.SENT, C.ACKNOWLEDGED, C.SUCCEEDED, C.FAILED, C.EXPIRED, C.CANCELLED},
    C.ACKNOWLEDGED: {C.SUCCEEDED, C.FAILED, C.EXPIRED},
}


class PairingRefused(ValidationError):
    pass


def _label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    if isinstance(actor, Device):
        return f"device:{actor.serial_number}"
    if hasattr(actor, "label") and hasattr(actor, "kind"):  # orders.services.Actor
        return str(actor.label)
    return getattr(actor, "get_username", lambda: str(actor))()


def _user(actor):
    if hasattr(actor, "label") and hasattr(actor, "kind"):  # orders.services.Actor
        actor = actor.user
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Registry -------------------------------------------------------------------------------
@transaction.atomic
def device_register(*, actor, **fields) -> Device:
    device = Device(**fields)
    device.full_clean()
    device.save()
    audit_record(actor=actor, action="device.register", obj=device, region=device.site.region)
    return device


# --- Tokens and pairing ---------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue_token(device: Device) -> str:
    token = "dv_" + secrets.token_urlsafe(32)
    DeviceCredential.objects.update_or_create(
        device=device, defaults={"token_hash": _hash(token), "token_prefix": token[:8], "last_used_at": None}
    )
    return token


def device_pair(*, serial_number: str, actor=None, firmware: str = "") -> tuple[Device, str]:
    """Pair a registered, not yet paired machine by its serial number; returns it and its token.

    Unknown serials and machines that are already paired are refused and logged (an already paired
    machine gets a new token only through `device_token_rotate`, by an administrator). The refusal
    is recorded even though nothing else changes."""
    serial_number = (serial_number or "").strip()[:64]
    with transaction.atomic():
        device = Device.objects.select_for_update().filter(serial_number=serial_number, is_active=True).first()
        if device is not None and device.paired_at is None:
            token = _issue_token(device)
            device.paired_at = timezone.now()
            device.firmware = firmware[:40] or device.firmware
            device.save(update_fields=["paired_at", "firmware"])
            _event(device, "paired", actor)
            audit_record(actor=actor, action="device.pair", obj=device, region=device.site.region)
            return device, token
    if device is None:
        logger.warning("Pairing refused: unknown serial number %r", serial_number)
        audit_record(actor=actor, action="device.pair_refused", changes={"serial_number": serial_number})
        raise PairingRefused(_("No active device has the serial number %(serial)s.") % {"serial": serial_number})
    logger.warning("Pairing refused: %s is already paired", serial_number)
    audit_record(actor=actor, action="device.pair_refused", obj=device, region=device.site.region)
    raise PairingRefused(
        _("Device %(serial)s is already paired; ask an administrator for a new token.") % {"serial": serial_number}
    )


@transaction.atomic
def device_token_rotate(*, device: Device, actor) -> str:
    """A new token for the device; the old one stops working at once."""
    token = _issue_token(device)
    if device.paired_at is None:
        device.paired_at = timezone.now()
        device.save(update_fields=["paired_at"])
    _event(device, "token_rotated", actor)
    audit_record(actor=actor, action="device.token_rotate", obj=device, region=device.site.region)
    return token


def device_for_token(token: str) -> Device | None:
    if not token or not token.startswith("dv_") or len(token) > 200:
        return None
    credential = DeviceCredential.objects.select_related("device__site__region").filter(token_hash=_hash(token)).first()
    if credential is None or not credential.device.is_active:
        return None
    return credential.device


# --- Events, heartbeats, online / offline ---------------------------------------------------
def _event(device: Device, kind: str, actor=None, data: dict | None = None) -> DeviceEvent:
    return DeviceEvent.objects.create(device=device, kind=kind, actor_label=_label(actor)[:150], data=data or {})


def _decimal_or_none(value, field: str):
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite() or abs(number) >= 10000:
        raise ValidationError({field: _("Out of range.")})
    return number.quantize(Decimal("0.1"))


def _int_or_none(value, field: str, low: int, high: int):
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError({field: _("Enter a whole number.")})
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if not low <= number <= high:
        raise ValidationError({field: _("Out of range.")})
    return number


# The latest sample is kept on the device (Device.telemetry_at and these fields). A heartbeat adds a
# sample to the history when one of them moves by at least its deadband (booleans and firmware: any
# change), when the last sample is DEVICE_TELEMETRY_SAMPLE_SECONDS old, or when there is none yet.
# One reading a second per device would be 86,400 rows a day each and tell nothing more.
TELEMETRY_DEADBANDS = {"temperature": Decimal("0.5"), "signal_dbm": 5}


def _telemetry_sample_due(device: Device, reported: dict, extra: dict, now: datetime.datetime) -> bool:
    if not reported and not extra:
        return False
    last = device.telemetry_at
    if last is None or not 0 <= (now - last).total_seconds() < settings.DEVICE_TELEMETRY_SAMPLE_SECONDS:
        return True
    for name, value in reported.items():
        current = getattr(device, name)
        band = TELEMETRY_DEADBANDS.get(name)
        if current is None or (value != current if band is None else abs(value - current) >= band):
            return True
    return False


def device_heartbeat(*, device: Device, telemetry: dict | None = None, at: datetime.datetime | None = None) -> Device:
    """Record that the device is alive, with optional telemetry. Coming back from offline writes
    exactly one "online" event, even when heartbeats race (a conditional update decides).

    Every heartbeat goes to the live pages (after commit), with its time and what it reported. The
    database hears less: an online device reporting nothing new writes `last_seen_at` only when the
    stored one is DEVICE_SEEN_WRITE_SECONDS old (one UPDATE, no transaction), so the stored time
    lags the live one by at most that, far inside the offline timeout. A telemetry sample (see
    TELEMETRY_DEADBANDS), slot faults or a change of state take one transaction.
    """
    telemetry = dict(telemetry or {})
    now = at or timezone.now()
    fields = {
        "powered": telemetry.pop("power", None),
        "signal_dbm": _int_or_none(telemetry.pop("signal_dbm", None), "signal_dbm", -150, 0),
        "temperature": _decimal_or_none(telemetry.pop("temperature", None), "temperature"),
        "door_open": telemetry.pop("door_open", None),
        "firmware": str(telemetry.pop("firmware", "") or "")[:40],
    }
    for flag in ("powered", "door_open"):
        if fields[flag] is not None and not isinstance(fields[flag], bool):
            raise ValidationError({flag: _("Use true or false.")})
    slot_faults = telemetry.pop("slot_faults", None) or []
    if not isinstance(slot_faults, list):
        raise ValidationError({"slot_faults": _("Give a list of faults.")})
    reported = {name: value for name, value in fields.items() if value is not None and value != ""}
    sample = _telemetry_sample_due(device, reported, telemetry, now)
    changes = {"last_seen_at": now}
    if sample:
        changes.update(reported, telemetry_at=now)
    # What the row holds, as far as this instance knows: as loaded, or as this function last wrote.
    stored = getattr(device, "_seen_stored_at", device.last_seen_at)
    simple = not sample and not slot_faults
    if (
        simple
        and device.state == Device.State.ONLINE
        and stored
        and 0 <= (now - stored).total_seconds() < _seen_write_seconds()
    ):
        changes = {}  # seen a moment ago: nothing to write
    elif simple and Device.objects.filter(pk=device.pk, state=Device.State.ONLINE).update(**changes):
        device.state = Device.State.ONLINE  # an online device stays online
    else:
        with transaction.atomic():
            came_online = False
            # Ask first what the instance says it was: a device coming back skips the online try.
            online = Device.objects.filter(pk=device.pk, state=Device.State.ONLINE)
            if (sample or slot_faults) and device.state == Device.State.ONLINE and online.update(**changes):
                device.state = Device.State.ONLINE
            elif Device.objects.filter(pk=device.pk, state__in=[Device.State.OFFLINE, Device.State.UNPAIRED]).update(
                state=Device.State.ONLINE, **changes
            ):
                device.state, came_online = Device.State.ONLINE, True
            else:
                # In maintenance (it stays so), or a racing heartbeat brought it online first.
                Device.objects.filter(pk=device.pk).update(**changes)
                device.state = Device.objects.values_list("state", flat=True).get(pk=device.pk)
            if sample:
                Telemetry.objects.create(device=device, at=now, data=telemetry, **fields)
            if came_online:
                _event(device, "online", device)
            for fault in slot_faults:
                if isinstance(fault, dict) and fault.get("code"):
                    fault_open(
                        device=device,
                        code=str(fault["code"]),
                        slot=str(fault.get("slot", "")),
                        message=str(fault.get("message", "")),
                        actor=device,
                    )
    for name, value in changes.items():
        setattr(device, name, value)
    device._seen_stored_at = changes.get("last_seen_at", stored)
    device.last_seen_at = now
    snapshot = {name: (str(value) if isinstance(value, Decimal) else value) for name, value in reported.items()}
    transaction.on_commit(lambda: live.publish(device, telemetry=snapshot), robust=True)
    return device


def _seen_write_seconds() -> float:
    """How stale the stored last_seen_at of an online device may get: the setting, kept well
    inside the offline timeout so a live device never looks silent to devices_mark_offline."""
    return min(settings.DEVICE_SEEN_WRITE_SECONDS, settings.DEVICE_OFFLINE_AFTER_SECONDS / 4)


def devices_mark_offline(*, now: datetime.datetime | None = None) -> list[int]:
    """Devices not heard from within DEVICE_OFFLINE_AFTER_SECONDS go offline, each once, with an alert."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.DEVICE_OFFLINE_AFTER_SECONDS)
    went_offline = []
    candidates = Device.objects.filter(state=Device.State.ONLINE, last_seen_at__lt=cutoff).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            changed = Device.objects.filter(pk=pk, state=Device.State.ONLINE, last_seen_at__lt=cutoff).update(
                state=Device.State.OFFLINE
            )
            if not changed:
                continue  # a heartbeat arrived meanwhile
            device = Device.objects.select_related("site__region").get(pk=pk)
            _event(device, "offline", None, {"last_seen_at": device.last_seen_at.isoformat()})
            _alert(device, "device_offline")
            transaction.on_commit(lambda d=device: live.publish(d), robust=True)
            went_offline.append(pk)
    return went_offline


def _alert(device: Device, template: str, context: dict | None = None) -> None:
    """In-app alert to the staff who look after this device: platform admins and the regional
    administrators and service staff whose grants reach it."""
    from django.contrib.auth import get_user_model

    from core.scoping import user_can_reach
    from core.services import notification_send

    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["platform_admin", "regional_admin", "service_staff"])
        .distinct()
    )
    for user in users:
        if user_can_reach(user, device):
            notification_send(
                template=template,
                recipient=user,
                context={"device": device, **(context or {})},
                region=device.site.region,
            )


def device_event_record(
    *, device: Device, kind: str, data: dict | None = None, actor=None, event_id=None
) -> DeviceEvent:
    """A device-originated event (door opened / closed, sale, asset returned…): logged, then
    handed to the apps that registered for its kind, after commit. With an `event_id`, a
    redelivered event returns the stored one and changes nothing."""
    kind = (kind or "").strip()
    if not kind or len(kind) > 40:
        raise ValidationError({"kind": _("Give an event kind of at most 40 characters.")})
    data = data or {}
    if not isinstance(data, dict):
        raise ValidationError({"data": _("Event data must be an object.")})
    if event_id is not None:
        existing = DeviceEvent.objects.filter(device=device, event_id=event_id).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            event = DeviceEvent.objects.create(
                device=device, kind=kind, actor_label=_label(actor or device)[:150], data=data, event_id=event_id
            )
            if kind in ("door_opened", "door_closed"):
                Telemetry.objects.create(device=device, at=timezone.now(), door_open=kind == "door_opened")
            transaction.on_commit(lambda: registry.dispatch_event(device, kind, data), robust=True)
    except IntegrityError:
        return DeviceEvent.objects.get(device=device, event_id=event_id)  # a concurrent redelivery won
    return event


# --- Faults ---------------------------------------------------------------------------------
def fault_open(*, device: Device, code: str, slot: str = "", message: str = "", actor=None) -> Fault:
    """Open a fault; reporting the same open fault again returns it unchanged."""
    existing = Fault.objects.filter(device=device, code=code, slot=slot, resolved_at__isnull=True).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            fault = Fault.objects.create(device=device, code=code[:40], slot=slot[:20], message=message[:255])
            _event(device, "fault_opened", actor, {"code": code, "slot": slot, "message": message})
    except IntegrityError:
        return Fault.objects.get(device=device, code=code, slot=slot, resolved_at__isnull=True)
    return fault


@transaction.atomic
def fault_resolve(*, fault: Fault, actor) -> Fault:
    changed = Fault.objects.filter(pk=fault.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=_label(actor)[:150]
    )
    fault.refresh_from_db()
    if changed:
        _event(fault.device, "fault_resolved", actor, {"code": fault.code, "slot": fault.slot})
    return fault


def open_fault_exists_sql(*, device_column: str, slot_column: str) -> str:
    """The same question as an SQL expression for a hand-written query (a vending sale's slot
    lookup, core.sql): the column arguments are the outer query's own, already quoted."""
    return (
        f"EXISTS (SELECT 1 FROM {Fault._meta.db_table} f WHERE f.device_id = {device_column} "
        f"AND f.slot = {slot_column} AND f.resolved_at IS NULL)"
    )


# --- Commands -------------------------------------------------------------------------------
def _command_move(command: DeviceCommand, to_status: str, actor, data: dict | None = None, **fields) -> bool:
    """Conditional update from the command's current status; False if someone else moved it first."""
    from_status = command.status
    if to_status not in COMMAND_TRANSITIONS.get(from_status, ()):
        return False
    changed = DeviceCommand.objects.filter(pk=command.pk, status=from_status).update(status=to_status, **fields)
    if not changed:
        return False
    DeviceCommandEvent.objects.create(
        command=command, from_status=from_status, to_status=to_status, actor_label=_label(actor)[:150], data=data or {}
    )
    command.refresh_from_db()
    if command.is_finished:
        transaction.on_commit(lambda: registry.dispatch_result(command), robust=True)
    return True


def command_send(
    *,
    device: Device,
    kind: str,
    payload: dict | None = None,
    actor=None,
    reference: str = "",
    ttl_seconds: int | None = None,
    idempotency_key: str | None = None,
    command_id: uuid.UUID | None = None,
) -> DeviceCommand:
    """Queue a command for a device. The same idempotency key returns the same command.
    `command_id` is the id the device echoes, when the caller reserved one beforehand."""
    kind = (kind or "").strip()
    if not kind or len(kind) > 40:
        raise ValidationError({"kind": _("Give a command kind of at most 40 characters.")})
    if payload is not None and not isinstance(payload, dict):
        raise ValidationError({"payload": _("The payload must be an object.")})
    ttl = DEFAULT_COMMAND_TTL if ttl_seconds is None else int(ttl_seconds)
    if not 1 <= ttl <= 7 * 24 * 3600:
        raise ValidationError({"ttl_seconds": _("The time to live must be between 1 second and 7 days.")})
    if idempotency_key:
        existing = DeviceCommand.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return existing
    try:
        # A savepoint only where a lost race is recovered from (an idempotency key).
        with transaction.atomic(savepoint=bool(idempotency_key)):
            command = DeviceCommand(
                device=device,
                command_id=command_id or uuid.uuid4(),
                kind=kind,
                payload=payload or {},
                reference=reference[:64],
                expires_at=timezone.now() + datetime.timedelta(seconds=ttl),
                created_by=_user(actor),
                actor_label=_label(actor)[:150],
                idempotency_key=idempotency_key or None,
            )
            sql.insert(command)  # queued on every paid sale: the command and its event without the ORM's compiler
            sql.insert(
                DeviceCommandEvent(
                    command=command,
                    to_status=C.QUEUED,
                    actor_label=command.actor_label,
                    data={"payload": command.payload},
                )
            )
            transaction.on_commit(lambda: _announce_command(command), robust=True)
    except IntegrityError:
        if idempotency_key:
            existing = DeviceCommand.objects.filter(idempotency_key=idempotency_key).first()
            if existing:
                return existing
        raise
    return command


def _announce_command(command: DeviceCommand) -> None:
    """Wake whoever delivers commands to this device (a gateway or a device socket)."""
    from core.live import group_send_many

    group_send_many(
        [f"commands.{command.device_id}"], {"type": "command.queued", "command_id": str(command.command_id)}
    )


def commands_pending(*, device: Device, now: datetime.datetime | None = None) -> list[DeviceCommand]:
    """What the device should run now: queued or sent (not yet acknowledged) commands that have not
    expired. Each fetch counts a delivery; expired ones are expired instead of delivered."""
    now = now or timezone.now()
    commands_expire(now=now, device=device)
    delivered = []
    for command in DeviceCommand.objects.filter(device=device, status__in=[C.QUEUED, C.SENT]).order_by("created_at"):
        with transaction.atomic():
            if _command_move(command, C.SENT, device, sent_at=now, attempts=command.attempts + 1):
                delivered.append(command)
    return delivered


def _get_command(command_id, device: Device | None) -> DeviceCommand:
    try:
        query = DeviceCommand.objects.select_related("device")
        if device is not None:
            query = query.filter(device=device)
        return query.get(command_id=command_id)
    except (DeviceCommand.DoesNotExist, ValidationError, ValueError):
        raise ValidationError({"command_id": _("No such command for this device.")}) from None


def command_acknowledge(*, command_id, device: Device | None = None) -> DeviceCommand:
    """The device has the command and will run it (once)."""
    with transaction.atomic():
        command = _get_command(command_id, device)
        if command.status in (C.QUEUED, C.SENT):
            if command.expires_at <= timezone.now():
                _command_move(command, C.EXPIRED, None, finished_at=timezone.now())
            else:
                _command_move(command, C.ACKNOWLEDGED, command.device, acknowledged_at=timezone.now())
        return command


def command_report(
    *, command_id, succeeded: bool, result: dict | None = None, actor=None, device: Device | None = None
) -> DeviceCommand:
    """The device's final answer. A repeated report of a finished command changes nothing; a
    result for a command that expired before it was acknowledged is recorded but not applied."""
    if result is not None and not isinstance(result, dict):
        raise ValidationError({"result": _("The result must be an object.")})
    with transaction.atomic():
        command = _get_command(command_id, device)
        if command.is_finished:
            return command
        to_status = C.SUCCEEDED if succeeded else C.FAILED
        if command.status != C.ACKNOWLEDGED and command.expires_at <= timezone.now():
            _command_move(command, C.EXPIRED, None, {"late_result": result or {}}, finished_at=timezone.now())
            return command
        _command_move(
            command, to_status, actor or command.device, result or {}, result=result or {}, finished_at=timezone.now()
        )
        if not succeeded and (result or {}).get("fault_code"):
            fault_open(
                device=command.device,
                code=str(result["fault_code"]),
                slot=str(command.payload.get("slot", "")),
                message=str(result.get("message", "")),
                actor=command.device,
            )
        return command


def command_cancel(*, command: DeviceCommand, actor) -> DeviceCommand:
    with transaction.atomic():
        if not _command_move(command, C.CANCELLED, actor, finished_at=timezone.now()):
            raise ValidationError(_("Only a command that has not been acknowledged can be cancelled."))
        return command


def commands_expire(*, now: datetime.datetime | None = None, device: Device | None = None) -> int:
    """Commands past their time to live never run late: they become expired."""
    now = now or timezone.now()
    query = DeviceCommand.objects.filter(status__in=[C.QUEUED, C.SENT, C.ACKNOWLEDGED], expires_at__lte=now)
    if device is not None:
        query = query.filter(device=device)
    expired = 0
    for command in query:
        with transaction.atomic():
            expired += _command_move(command, C.EXPIRED, None, finished_at=now)
    return expired


def console_command_allowed(*, user, device: Device, kind: str) -> bool:
    from core.scoping import user_can_reach

    permission = registry.CONSOLE_COMMANDS.get(kind)
    if not permission or kind not in registry.COMMANDS_BY_DEVICE_KIND.get(device.kind, ()):
        return False
    return user.has_perm(permission) and user_can_reach(user, device, "change")


# --- The code a machine shows for the customer app ---------------------------------------------
DEVICE_APP_CODE_SALT = "devices.app-code"


def device_app_code(device: Device) -> str:
    """What a station or locker bank shows as a QR code for the customer app: the device, signed
    so that nobody can make one up (it stays valid while the device is active)."""
    from django.core import signing

    return signing.dumps({"d": device.pk}, salt=DEVICE_APP_CODE_SALT, compress=True)


def device_for_app_code(code: str, *, kind: str | None = None) -> Device:
    """The active device a scanned code names (of `kind`); forged or unknown codes are refused."""
    from django.core import signing

    try:
        device_pk = int(signing.loads(code or "", salt=DEVICE_APP_CODE_SALT)["d"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError({"code": _("This is not a code of one of our machines.")}) from None
    device = Device.objects.select_related("site__region").filter(pk=device_pk, is_active=True).first()
    if device is None or (kind is not None and device.kind != kind):
        raise ValidationError({"code": _("This machine does not offer that here.")})
    return device
