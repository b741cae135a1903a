"""Self-pickup locker orders.

create (by an operator or an API partner: free to the recipient) → assign (smallest free
compartment that fits, never one compartment to two orders) → the depositor's drop-off code typed
at the bank opens the door (or it opens at once for a clerk at the bank) → door closed: ready, a
pickup code goes to the recipient → the code entered at the bank opens that door once → door
closed again: collected, the compartment is free. Goods not collected in time become a
return-to-sender task for service staff (docs/adr/0017).
"""

from __future__ import annotations

import datetime
import logging
import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import audit_record, notification_send
from devices.models import Device, DeviceCommand
from devices.services import command_send, fault_open
from lockers.models import SIZES, Compartment, LockerOrder, ReturnTask, StorageRule
from orders.models import OrderKind, OrderStatus
from orders.services import Actor, lock_order, order_note, order_transition
from pickup.models import PickupCode
from pickup.services import (
    code_issue,
    code_redeem,
    code_redeem_confirmed,
    codes_expire,
    customer_channels,
    notify_code,
    phone_confirmation_send,
    recipient_for_phone,
)

logger = logging.getLogger(__name__)
C = Compartment.State
ST = LockerOrder.Stage
# A courier has this long to bring the parcel after the order is placed; the compartment stays
# reserved meanwhile (staff can move or free it from the bank's page).
DROPOFF_CODE_TTL = datetime.timedelta(hours=72)
KEEP_DAYS_MAX = 30
ENDED = (ST.COLLECTED, ST.EXPIRED, ST.CANCELLED)
# A customer's booking holds its compartment this long while its payment is outstanding.
BOOKING_UNPAID_TIMEOUT = datetime.timedelta(minutes=15)


def publish_compartment(compartment_id: int) -> None:
    """After commit: the bank's live grid learns the compartment's state and door."""
    from core.live import group_send_many
    from devices.live import device_group

    def send():
        compartment = Compartment.objects.filter(pk=compartment_id).first()
        if compartment is None:
            return
        group_send_many(
            [device_group(compartment.bank_id)],
            {
                "type": "compartment.update",
                "compartment": {
                    "id": compartment.pk,
                    "door": compartment.door,
                    "state": compartment.state,  # the page labels it in its reader's language
                    "door_open": compartment.door_open,
                },
            },
        )

    transaction.on_commit(send, robust=True)


def storage_rule(bank: Device) -> StorageRule:
    """The bank's rules, or its region's storage window and fee (operators set them per region,
    ADR 16) for a bank without its own."""
    from core.region_settings import region_setting

    rule = StorageRule.objects.filter(bank=bank).first()
    if rule:
        return rule
    region = Device.objects.filter(pk=bank.pk).values_list("site__region", flat=True).first()
    return StorageRule(
        bank=bank,
        free_hours=region_setting("lockers.free_hours", region),
        overdue_fee_per_day=region_setting("lockers.overdue_fee_per_day", region),
        return_after_days=max(1, settings.PICKUP_CODE_TTL_HOURS // 24),
    )


def compartments_create(*, bank: Device, sizes: list[str], actor=None) -> list[Compartment]:
    if bank.kind != Device.Kind.LOCKER:
        raise ValidationError({"bank": _("Compartments belong to locker banks.")})
    if any(size not in SIZES for size in sizes):
        raise ValidationError({"sizes": _("Sizes are S, M, L or XL.")})
    start = (bank.compartments.order_by("-door").values_list("door", flat=True).first() or 0) + 1
    created = [
        Compartment(bank=bank, door=start + i, size=size, size_rank=SIZES.index(size)) for i, size in enumerate(sizes)
    ]
    return Compartment.objects.bulk_create(created)


def _reserve(bank: Device, size: str) -> Compartment:
    """Reserve the smallest free compartment of at least `size` (inside the caller's transaction);
    concurrent callers never get the same one."""
    compartment = (
        Compartment.objects.select_for_update(skip_locked=True)
        .filter(bank=bank, state=C.FREE, size_rank__gte=SIZES.index(size))
        .order_by("size_rank", "door")
        .first()
    )
    if compartment is None or not Compartment.objects.filter(pk=compartment.pk, state=C.FREE).update(state=C.RESERVED):
        raise ValidationError(
            {
                "size": _("No free compartment of size %(size)s or larger in %(bank)s.")
                % {"size": size, "bank": bank.name}
            },
            code="no_compartment",
        )
    publish_compartment(compartment.pk)
    return compartment


def locker_assign(*, order, bank: Device, size: str, actor, open_now: bool = True) -> LockerOrder:
    """Reserve the smallest free compartment of at least `size` for a paid order and, with
    `open_now`, open its door for the depositor at once (else the depositor's drop-off code opens
    it). Concurrent assignments never get the same compartment."""
    if size not in SIZES:
        raise ValidationError({"size": _("Sizes are S, M, L or XL.")})
    if bank.kind != Device.Kind.LOCKER:
        raise ValidationError({"bank": _("Choose a locker bank.")})
    with transaction.atomic():
        order = lock_order(order)
        if order.kind != OrderKind.LOCKER or order.status != OrderStatus.PAID:
            raise ValidationError(_("Only a paid self-pickup order can be placed in a locker."))
        if LockerOrder.objects.filter(order=order).exists():
            raise ValidationError(_("This order already has a compartment."))
        compartment = _reserve(bank, size)
        locker_order = LockerOrder.objects.create(
            order=order,
            bank=bank,
            compartment=compartment,
            size=size,
            overdue_fee_per_day=storage_rule(bank).overdue_fee_per_day,
        )
        order_transition(
            order=order,
            to_status=OrderStatus.FULFILLING,
            actor=actor,
            action="locker.assigned",
            data={"bank": bank.pk, "door": compartment.door},
        )
        if open_now:
            _open(locker_order, actor, purpose="deposit")
        return locker_order


def locker_order_create(
    *,
    bank: Device,
    size: str,
    recipient_phone: str,
    actor,
    parcel_reference: str = "",
    sender_phone: str = "",
    keep_days: int | None = None,
    overdue_fee: bool = True,
    open_now: bool = False,
    partner=None,
) -> tuple[LockerOrder, str]:
    """A parcel for a recipient, placed by a courier, a store clerk or an online shop (through the
    console or the partner API). Free to the recipient (the sender has settled with the operator),
    so the order is paid at once and a compartment is reserved. Returns the locker order and the
    depositor's drop-off code in clear, to show once. Nothing is written when anything is refused
    (no compartment fits, a bad phone number)."""
    from members.services import phone_normalise
    from orders.models import Channel
    from orders.services import order_create

    if size not in SIZES:
        raise ValidationError({"size": _("Sizes are S, M, L or XL.")})
    if bank.kind != Device.Kind.LOCKER:
        raise ValidationError({"bank": _("Choose a locker bank.")})
    if keep_days is not None and not 1 <= keep_days <= KEEP_DAYS_MAX:
        raise ValidationError({"keep_days": _("Keep goods for 1 to %(max)d days.") % {"max": KEEP_DAYS_MAX}})
    try:
        sender_phone = phone_normalise(sender_phone) if sender_phone else ""
    except ValidationError:
        raise ValidationError({"sender_phone": _("Enter the sender's mobile number, or leave it empty.")}) from None
    with transaction.atomic():
        order = order_create(
            kind=OrderKind.LOCKER,
            actor=actor,
            device=bank,
            customer=recipient_for_phone(recipient_phone),
            channel=Channel.PARTNER if partner is not None else Channel.CONSOLE,
            external_reference=(parcel_reference or "")[:64],
            partner=partner,
        )
        order_transition(order=order, to_status=OrderStatus.PAID, actor=actor, action="locker.free_to_recipient")
        locker_order = locker_assign(order=order, bank=bank, size=size, actor=actor, open_now=open_now)
        locker_order.keep_days = keep_days
        locker_order.sender_phone = sender_phone
        if not overdue_fee:
            locker_order.overdue_fee_per_day = Decimal("0")
        locker_order.save(update_fields=["keep_days", "sender_phone", "overdue_fee_per_day"])
        _row, code = code_issue(order=order, ttl=DROPOFF_CODE_TTL, purpose=PickupCode.Purpose.DROPOFF)
        return locker_order, code


def _open(locker_order: LockerOrder, actor, *, purpose: str) -> DeviceCommand:
    return command_send(
        device=locker_order.bank,
        kind="open_door",
        payload={"door": locker_order.compartment.door, "purpose": purpose},
        actor=actor,
        reference=locker_order.order.number,
        ttl_seconds=120,
    )


def on_door_event(device: Device, data: dict) -> None:
    """Device event handler for door_opened / door_closed (registered in AppConfig.ready)."""
    kind = data.get("_kind")
    try:
        door = int(data.get("door"))
    except (TypeError, ValueError):
        return
    with transaction.atomic():
        compartment = Compartment.objects.select_for_update().filter(bank=device, door=door).first()
        if compartment is None:
            logger.info("Door event for unknown door %s of %s", door, device)
            return
        compartment.door_open = kind == "door_opened"
        compartment.save(update_fields=["door_open"])
        publish_compartment(compartment.pk)
        if kind != "door_closed":
            return
        locker_order = (
            LockerOrder.objects.select_for_update(of=("self",))
            .select_related("order", "order__customer", "bank")
            .filter(compartment=compartment)
            .exclude(stage__in=ENDED)
            .first()
        )
        if locker_order is None:
            return
        if locker_order.stage == ST.ASSIGNED:
            if locker_order.order.status == OrderStatus.NEW:
                return  # an unpaid booking: its door opened for staff, no goods are expected yet
            _ready(locker_order, compartment)
        elif locker_order.stage == ST.OPENED:
            _collected(locker_order, compartment)


def _ready(locker_order: LockerOrder, compartment: Compartment) -> None:
    Compartment.objects.filter(pk=compartment.pk).update(state=C.OCCUPIED)
    publish_compartment(compartment.pk)
    locker_order.stage, locker_order.ready_at = ST.READY, timezone.now()
    locker_order.save(update_fields=["stage", "ready_at"])
    order = locker_order.order
    order_note(order=order, actor=Actor.of(locker_order.bank), action="locker.ready", data={"door": compartment.door})
    # The goods are in: a drop-off code not used (the door was opened at once) dies here.
    PickupCode.objects.filter(order=order, purpose=PickupCode.Purpose.DROPOFF, status=PickupCode.Status.LIVE).update(
        status=PickupCode.Status.REVOKED
    )
    days = locker_order.keep_days or storage_rule(locker_order.bank).return_after_days
    row, code = code_issue(order=order, ttl=datetime.timedelta(days=days))
    notify_code(order, code, row, locker_order.bank.name)


def _collected(locker_order: LockerOrder, compartment: Compartment) -> None:
    Compartment.objects.filter(pk=compartment.pk).update(state=C.FREE)
    publish_compartment(compartment.pk)
    locker_order.stage, locker_order.collected_at = ST.COLLECTED, timezone.now()
    locker_order.save(update_fields=["stage", "collected_at"])
    order_transition(
        order=locker_order.order,
        to_status=OrderStatus.COMPLETED,
        actor=Actor.of(locker_order.bank),
        action="locker.collected",
    )


def locker_pickup(*, bank: Device, code: str, source: str = "") -> LockerOrder:
    """A code entered at the bank: a drop-off code opens the reserved compartment for the
    depositor, a pickup code opens the recipient's, each once. Refusals say only "invalid or
    expired" (or that entry is locked after too many wrong codes from this source, or at the bank):
    both kinds count against the same lockout. `source` names the keypad session or API client
    (see pickup.services.code_redeem)."""
    # Outside the transaction below: a wrong code's attempt (and any lock it triggers) must stay
    # recorded even though the call fails.
    used = code_redeem(code=code, device=bank, order_filter={"order__locker__bank": bank}, source=source)
    if used.purpose == PickupCode.Purpose.DROPOFF:
        return _open_for_deposit(bank, used)
    return _open_for_pickup(bank, used)


def _open_for_deposit(bank: Device, used) -> LockerOrder:
    with transaction.atomic():
        locker_order = (
            LockerOrder.objects.select_for_update(of=("self",))
            .select_related("compartment", "order", "bank")
            .get(order=used.order)
        )
        if locker_order.stage != ST.ASSIGNED:
            # The goods are in already (the door was opened another way): the code is spent.
            raise ValidationError(_("Invalid or expired code."), code="invalid")
        order_note(order=locker_order.order, actor=Actor.of(bank), action="locker.dropoff_code_used")
        _open(locker_order, Actor.of(bank), purpose="deposit")
        return locker_order


def locker_phone_confirmation_send(*, bank: Device, phone: str) -> None:
    """The customer at a locked keypad asks for a one-time code on the phone their parcel is for."""
    phone_confirmation_send(phone=phone, device=bank, order_filter={"order__locker__bank": bank})


def locker_pickup_confirmed(*, bank: Device, code: str, phone: str, otp: str, source: str = "") -> LockerOrder:
    """The pickup code plus the one-time code sent to the order's phone: opens even while code
    entry is locked for this source or the whole bank."""
    used = code_redeem_confirmed(
        code=code, phone=phone, otp=otp, device=bank, order_filter={"order__locker__bank": bank}, source=source
    )
    return _open_for_pickup(bank, used)


def _open_for_pickup(bank: Device, used) -> LockerOrder:
    with transaction.atomic():
        locker_order = (
            LockerOrder.objects.select_for_update(of=("self",))
            .select_related("compartment", "order", "bank")
            .get(order=used.order)
        )
        locker_order.stage = ST.OPENED
        locker_order.save(update_fields=["stage"])
        _open(locker_order, Actor.of(bank), purpose="pickup")
        return locker_order


def on_open_door_result(command: DeviceCommand) -> None:
    """A pickup door that did not open: the order stays ready, its code works again, a fault opens.
    A deposit door that did not open: the drop-off code works again."""
    if command.status == DeviceCommand.Status.SUCCEEDED:
        return
    if command.payload.get("purpose") == "deposit":
        PickupCode.objects.filter(
            order__number=command.reference,
            order__locker__stage=ST.ASSIGNED,
            purpose=PickupCode.Purpose.DROPOFF,
            status=PickupCode.Status.USED,
            expires_at__gt=timezone.now(),
        ).update(status=PickupCode.Status.LIVE, used_at=None, used_at_device=None)
        return
    if command.payload.get("purpose") != "pickup":
        return
    with transaction.atomic():
        locker_order = (
            LockerOrder.objects.select_for_update(of=("self",))
            .select_related("order")
            .filter(order__number=command.reference)
            .first()
        )
        if locker_order is None or locker_order.stage != ST.OPENED:
            return
        locker_order.stage = ST.READY
        locker_order.save(update_fields=["stage"])
        PickupCode.objects.filter(
            order=locker_order.order, purpose=PickupCode.Purpose.PICKUP, status=PickupCode.Status.USED
        ).update(status=PickupCode.Status.LIVE, used_at=None, used_at_device=None)
        fault_open(
            device=command.device,
            code="DOOR_DID_NOT_OPEN",
            slot=str(command.payload.get("door", "")),
            message=_("door did not open for a valid pickup code"),
            actor=command.device,
        )
        order_note(
            order=locker_order.order,
            actor=Actor.system(),
            action="locker.open_failed",
            reason=_("the door did not open; the code works again"),
        )


def compartment_out_of_service(*, compartment: Compartment, actor, reason: str) -> Compartment:
    reason = _reason(reason)
    if not Compartment.objects.filter(pk=compartment.pk, state=C.FREE).update(state=C.OUT_OF_SERVICE):
        raise ValidationError(_("Only a free compartment can be taken out of service."))
    audit_record(
        actor=actor,
        action="lockers.out_of_service",
        obj=compartment,
        region=compartment.bank.site.region,
        changes={"reason": reason},
    )
    publish_compartment(compartment.pk)
    compartment.refresh_from_db()
    return compartment


def lockers_expire(*, now=None) -> int:
    """Expired pickup codes: the customer is told, the goods go back to the sender through a task
    for staff. Running it again changes nothing."""
    changed = 0
    for row in codes_expire(now=now):
        with transaction.atomic():
            locker_order = (
                LockerOrder.objects.select_for_update(of=("self",))
                .select_related("order", "order__customer")
                .filter(order=row.order, stage=ST.READY)
                .first()
            )
            if locker_order is None:
                continue
            locker_order.stage = ST.EXPIRED
            locker_order.save(update_fields=["stage"])
            ReturnTask.objects.get_or_create(locker_order=locker_order)
            order_note(order=locker_order.order, actor=Actor.system("expiry"), action="locker.expired")
            if locker_order.order.customer_id:
                notification_send(
                    template="pickup_expired",
                    recipient=locker_order.order.customer,
                    context={"order": locker_order.order},
                    channels=customer_channels(locker_order.order.customer),
                    region=locker_order.order.region,
                )
            changed += 1
    return changed


def on_door_opened(device: Device, data: dict) -> None:
    on_door_event(device, {**data, "_kind": "door_opened"})


def on_door_closed(device: Device, data: dict) -> None:
    on_door_event(device, {**data, "_kind": "door_closed"})


def lockers_charge_overdue(*, now=None) -> int:
    """Goods left past the free hours pay a fee per started day from the customer's wallet.
    Each day is charged once (its idempotency key), however often the job runs."""
    from wallet.models import LedgerTransaction
    from wallet.services import InsufficientFunds, wallet_pay

    now = now or timezone.now()
    charged = 0
    ready = LockerOrder.objects.filter(stage=ST.READY, ready_at__isnull=False, overdue_fee_per_day__gt=0)
    for locker_order in ready.select_related("order", "order__customer", "bank"):
        customer = locker_order.order.customer
        free = datetime.timedelta(hours=storage_rule(locker_order.bank).free_hours)
        if customer is None or locker_order.ready_at >= now - free:
            continue
        days = math.ceil((now - locker_order.ready_at - free) / datetime.timedelta(days=1))
        for day in range(1, days + 1):
            key = f"locker-overdue:{locker_order.order_id}:{day}"
            if LedgerTransaction.objects.filter(idempotency_key=key).exists():
                continue  # this day is paid already
            try:
                wallet_pay(
                    customer=customer,
                    amount=locker_order.overdue_fee_per_day,
                    key=key,
                    order=locker_order.order,
                    reference=locker_order.order.number,
                )
            except InsufficientFunds:
                order_note(
                    order=locker_order.order,
                    actor=Actor.system("overdue"),
                    action="locker.overdue_unpaid",
                    data={"day": day},
                )
                break
            order_note(
                order=locker_order.order,
                actor=Actor.system("overdue"),
                action="locker.overdue_fee",
                data={"day": day, "amount": str(locker_order.overdue_fee_per_day)},
            )
            charged += 1
    return charged


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why.")})
    return reason[:255]


def compartment_reopen(*, compartment: Compartment, actor, reason: str) -> DeviceCommand:
    """Staff open a door (a stuck parcel, a customer at the counter), with the reason in the logs."""
    reason = _reason(reason)
    with transaction.atomic():
        command = command_send(
            device=compartment.bank,
            kind="open_door",
            payload={"door": compartment.door, "purpose": "staff"},
            actor=actor,
        )
        audit_record(
            actor=actor,
            action="lockers.reopen",
            obj=compartment,
            region=compartment.bank.site.region,
            changes={"reason": reason},
        )
        live = LockerOrder.objects.filter(compartment=compartment).exclude(stage__in=ENDED).first()
        if live:
            order_note(order=live.order, actor=actor, action="locker.reopened", reason=reason)
        return command


def locker_reassign(*, compartment: Compartment, actor, reason: str) -> LockerOrder:
    """Move the order waiting for goods in this compartment to another free one of the bank."""
    reason = _reason(reason)
    with transaction.atomic():
        locker_order = (
            LockerOrder.objects.select_for_update(of=("self",))
            .select_related("order", "bank")
            .filter(compartment=compartment, stage=ST.ASSIGNED)
            .first()
        )
        if locker_order is None:
            raise ValidationError(_("Only an order still waiting for its goods can move to another compartment."))
        target = (
            Compartment.objects.select_for_update(skip_locked=True)
            .filter(bank=compartment.bank, state=C.FREE, size_rank__gte=SIZES.index(locker_order.size))
            .exclude(pk=compartment.pk)
            .order_by("size_rank", "door")
            .first()
        )
        if target is None or not Compartment.objects.filter(pk=target.pk, state=C.FREE).update(state=C.RESERVED):
            raise ValidationError(_("No other free compartment fits this order."))
        Compartment.objects.filter(pk=compartment.pk).update(state=C.FREE)
        locker_order.compartment = target
        locker_order.save(update_fields=["compartment"])
        order_note(
            order=locker_order.order,
            actor=actor,
            action="locker.reassigned",
            reason=reason,
            data={"from": compartment.door, "to": target.door},
        )
        publish_compartment(compartment.pk)
        publish_compartment(target.pk)
        _open(locker_order, actor, purpose="deposit")
        return locker_order


def on_occupancy(device: Device, data: dict) -> None:
    """The board's infrared sensor: something is (or is no longer) inside a compartment."""
    try:
        door = int(data.get("door"))
    except (TypeError, ValueError):
        return
    occupied = data.get("_kind") == "occupied"
    if (
        Compartment.objects.filter(bank=device, door=door)
        .exclude(occupied_sensor=occupied)
        .update(occupied_sensor=occupied)
    ):
        compartment = Compartment.objects.get(bank=device, door=door)
        publish_compartment(compartment.pk)


def on_occupied(device: Device, data: dict) -> None:
    on_occupancy(device, {**data, "_kind": "occupied"})


def on_emptied(device: Device, data: dict) -> None:
    on_occupancy(device, {**data, "_kind": "emptied"})


# --- Return to sender ------------------------------------------------------------------------
def return_task_open(*, task: ReturnTask, actor) -> DeviceCommand:
    """Service staff at the bank: the expired parcel's compartment opens by command."""
    with transaction.atomic():
        task = (
            ReturnTask.objects.select_for_update()
            .select_related("locker_order__compartment", "locker_order__bank__site__region", "locker_order__order")
            .get(pk=task.pk)
        )
        if task.done_at is not None:
            raise ValidationError(_("This return is done already."))
        locker_order = task.locker_order
        command = _open(locker_order, actor, purpose="return")
        ReturnTask.objects.filter(pk=task.pk).update(opened_at=timezone.now())
        order_note(order=locker_order.order, actor=actor, action="locker.return_opened")
        audit_record(
            actor=actor,
            action="lockers.return_opened",
            obj=locker_order.compartment,
            region=locker_order.bank.site.region,
        )
        return command


def return_task_done(*, task: ReturnTask, actor) -> ReturnTask:
    """The parcel is taken out for its sender: the task closes (once), the compartment is free, the
    order ends as failed ("returned to sender": the partner's webhook says so) and the sender is
    told by SMS when a phone was given."""
    from core.models import Notification
    from core.services import notification_send_to_address

    with transaction.atomic():
        task = ReturnTask.objects.select_for_update().get(pk=task.pk)
        if task.done_at is not None:
            raise ValidationError(_("This return is done already."))
        if task.opened_at is None:
            raise ValidationError(_("Open the compartment first, then take the parcel out."))
        locker_order = LockerOrder.objects.select_related("order", "compartment", "bank__site__region").get(
            pk=task.locker_order_id
        )
        task.done_at, task.done_by = timezone.now(), actor
        task.save(update_fields=["done_at", "done_by"])
        Compartment.objects.filter(pk=locker_order.compartment_id, state=C.OCCUPIED).update(state=C.FREE)
        publish_compartment(locker_order.compartment_id)
        order_transition(
            order=locker_order.order,
            to_status=OrderStatus.FAILED,
            actor=actor,
            action="locker.returned_to_sender",
            data={"door": locker_order.compartment.door},
        )
        if locker_order.sender_phone:
            notification_send_to_address(
                template="locker_returned",
                channel=Notification.Channel.SMS,
                address=locker_order.sender_phone,
                context={"order": locker_order.order, "bank": locker_order.bank.name},
                region=locker_order.order.region,
            )
        return task
