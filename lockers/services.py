"""Self-pickup locker orders.

assign (smallest free compartment that fits, never one compartment to two orders) → the door opens
for the depositor → door closed: ready, a pickup code goes to the customer → the code entered at
the bank opens that door once → door closed again: collected, the compartment is free.
"""

from __future__ import annotations

import datetime
import logging
import math

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
from pickup.services import code_issue, code_redeem, codes_expire, customer_channels, notify_code

logger = logging.getLogger(__name__)
C = Compartment.State
ST = LockerOrder.Stage


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


def locker_assign(*, order, bank: Device, size: str, actor) -> LockerOrder:
    """Reserve the smallest free compartment of at least `size` for a paid order and open its door
    for the depositor. Concurrent assignments never get the same compartment."""
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
        compartment = (
            Compartment.objects.select_for_update(skip_locked=True)
            .filter(bank=bank, state=C.FREE, size_rank__gte=SIZES.index(size))
            .order_by("size_rank", "door")
            .first()
        )
        if compartment is None or not Compartment.objects.filter(pk=compartment.pk, state=C.FREE).update(
            state=C.RESERVED
        ):
            raise ValidationError(
                {
                    "size": _("No free compartment of size %(size)s or larger in %(bank)s.")
                    % {"size": size, "bank": bank.name}
                },
                code="no_compartment",
            )
        publish_compartment(compartment.pk)
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
        _open(locker_order, actor, purpose="deposit")
        return locker_order


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
            .exclude(stage__in=[ST.COLLECTED, ST.EXPIRED])
            .first()
        )
        if locker_order is None:
            return
        if locker_order.stage == ST.ASSIGNED:
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
    rule = storage_rule(locker_order.bank)
    row, code = code_issue(order=order, ttl=datetime.timedelta(days=rule.return_after_days))
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


def locker_pickup(*, bank: Device, code: str) -> LockerOrder:
    """A code entered at the bank: opens its compartment, once. Refusals say only "invalid or
    expired" (or that entry is locked after too many wrong codes)."""
    # Outside the transaction below: a wrong code's attempt (and any lock it triggers) must stay
    # recorded even though the call fails.
    used = code_redeem(code=code, device=bank, order_filter={"order__locker__bank": bank})
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
    """A pickup door that did not open: the order stays ready, its code works again, a fault opens."""
    if command.status == DeviceCommand.Status.SUCCEEDED or command.payload.get("purpose") != "pickup":
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
        PickupCode.objects.filter(order=locker_order.order, status=PickupCode.Status.USED).update(
            status=PickupCode.Status.LIVE, used_at=None, used_at_device=None
        )
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
        live = LockerOrder.objects.filter(compartment=compartment).exclude(stage__in=[ST.COLLECTED, ST.EXPIRED]).first()
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
