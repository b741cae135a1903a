"""The lease flow on the order spine.

rent: the asset is taken under a conditional update and the deposit is held in the wallet, in one
transaction (either both or neither) → eject command to the station → in use → the station's
"asset_returned" event (any station of the region) → the bill from actual usage time → charged from
the deposit, the rest released → completed. An eject failure releases the hold and leaves the asset
available. A repeated return event bills once.
"""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from devices.models import Device, DeviceCommand
from devices.services import command_send
from leasing.models import Asset, BulkItem, Lease, RatePlan
from leasing.pricing import Bill, minutes_between, price
from orders.models import OrderKind, OrderStatus
from orders.payments import PaymentProvider, ProviderResult
from orders.services import (
    Actor,
    LineSpec,
    lock_order,
    order_add_line,
    order_create,
    order_note,
    order_transition,
    payment_collect,
)
from wallet.models import Hold
from wallet.services import hold_capture, hold_place, hold_release

logger = logging.getLogger(__name__)
A = Asset.State
ST = Lease.Stage


def plan_for(asset: Asset) -> RatePlan:
    return plan_for_kind(asset.site, asset.kind)


def plan_for_kind(site, kind: str) -> RatePlan:
    """The active plan for `kind` nearest to the site's region (a city's plan overrides the country's)."""
    ancestors = site.region.ancestor_ids()
    plan = (
        RatePlan.objects.filter(asset_kind=kind, region_id__in=ancestors, is_active=True)
        .order_by("-region__path")
        .first()
    )
    if plan is None:
        raise ValidationError(_("No rate plan for %(kind)s in this region.") % {"kind": kind})
    return plan


def pays_later(customer, plan: RatePlan) -> bool:
    """Members at or above the plan's pay-later level rent without a deposit."""
    return plan.pay_later_level is not None and getattr(customer, "level", 0) >= plan.pay_later_level


def due_at_for(plan: RatePlan, start, periods: int = 1):
    if plan.billing_period:
        return start + PERIODS[plan.billing_period] * periods
    if plan.due_minutes:
        return start + datetime.timedelta(minutes=plan.due_minutes)
    return None


def lease_start(*, customer, asset: Asset, actor=None) -> Lease:
    """Rent an asset: refused with nothing changed if it is not available or the deposit cannot be
    held. Members at the plan's pay-later level rent without a deposit and pay at return."""
    plan = plan_for(asset)
    later = pays_later(customer, plan)
    with transaction.atomic():
        if not Asset.objects.filter(pk=asset.pk, state=A.AVAILABLE).update(state=A.RENTED):
            raise ValidationError(_("%(asset)s is not available.") % {"asset": asset}, code="unavailable")
        order = order_create(
            kind=OrderKind.LEASE, actor=actor or customer, customer=customer, site=asset.site, device=asset.station
        )
        hold = None
        if plan.deposit > 0 and not later:
            hold = hold_place(
                customer=customer, amount=plan.deposit, reference=order.number, idempotency_key=f"lease:{order.pk}"
            )
        lease = Lease.objects.create(
            order=order,
            asset=asset,
            customer=customer,
            plan=plan,
            hold=hold,
            pay_later=later,
            due_at=due_at_for(plan, timezone.now()),
            stage=ST.EJECTING if asset.station_id else ST.IN_USE,
        )
        if later:
            order_note(
                order=order,
                actor=actor or customer,
                action="lease.pay_later",
                data={"level": customer.level, "plan_level": plan.pay_later_level},
            )
        if asset.station_id:
            command_send(
                device=asset.station,
                kind="eject",
                payload={"slot": asset.slot, "asset": asset.serial},
                actor=actor or customer,
                reference=order.number,
                ttl_seconds=60,
                idempotency_key=f"eject:{order.pk}",
            )
        return lease


def on_eject_result(command: DeviceCommand) -> None:
    lease = Lease.objects.select_related("asset", "order", "hold").filter(order__number=command.reference).first()
    if lease is None:
        return
    with transaction.atomic():
        lease = Lease.objects.select_for_update().get(pk=lease.pk)
        if lease.stage != ST.EJECTING:
            return
        if command.status == DeviceCommand.Status.SUCCEEDED:
            lease.stage, lease.rented_at = ST.IN_USE, timezone.now()
            lease.due_at = due_at_for(lease.plan, lease.rented_at)
            lease.save(update_fields=["stage", "rented_at", "due_at"])
            Asset.objects.filter(pk=lease.asset_id).update(station=None, slot="")
            return
        lease.stage = ST.CANCELLED
        lease.save(update_fields=["stage"])
        if lease.hold_id:
            hold_release(hold=lease.hold)
        Asset.objects.filter(pk=lease.asset_id).update(state=A.AVAILABLE)
        order_transition(
            order=lease.order,
            to_status=OrderStatus.CANCELLED,
            actor=Actor.of(command.device),
            reason=_("the station could not eject the item"),
        )


def lease_return(
    *, asset_serial: str, station: Device | None = None, site=None, slot: str = "", actor=None
) -> Lease | None:
    """The asset is back (a station's event or a clerk's scan). Bills once; a second report of the
    same return finds no lease in use and changes nothing."""
    asset = Asset.objects.select_related("site__region").filter(serial=asset_serial).first()
    if asset is None:
        raise ValidationError(_("No asset %(serial)s.") % {"serial": asset_serial})
    place_site = station.site if station else site
    with transaction.atomic():
        lease = (
            Lease.objects.select_for_update(of=("self",))
            .select_related("order__region", "plan", "hold", "asset")
            .filter(asset=asset, stage=ST.IN_USE)
            .first()
        )
        if lease is None:
            logger.warning("Return of %s reported, but it is not rented", asset_serial)
            return None
        if not place_site.region.path.startswith(lease.order.region.path):
            raise ValidationError(_("%(asset)s was returned outside the region it was rented in.") % {"asset": asset})
        now = timezone.now()
        minutes = minutes_between(lease.rented_at, now)
        if lease.plan.billing_period:  # long-term: its periods were billed as they started
            bill = Bill(minutes=minutes, usage=Decimal("0.00"), late_fee=Decimal("0.00"), bought=False)
        else:
            bill = price(lease.plan.pricing(), minutes)
        lease.stage, lease.returned_at, lease.return_station = ST.RETURNED, now, station
        lease.minutes, lease.amount = bill.minutes, bill.total
        lease.save(update_fields=["stage", "returned_at", "return_station", "minutes", "amount"])
        Asset.objects.filter(pk=asset.pk).update(
            state=A.SOLD if bill.bought else A.AVAILABLE, station=station, slot=slot[:10], site=place_site
        )
        _settle(lease, bill, actor or (station and Actor.of(station)))
        return lease


def _settle(lease: Lease, bill, actor) -> None:
    order = lease.order
    if bill.total > 0:
        order_add_line(
            order=order,
            line=LineSpec(
                description=_("Rental, %(minutes)s minutes") % {"minutes": bill.minutes}, unit_price=bill.total
            ),
            actor=actor,
            action="lease.billed",
        )
        from_deposit = min(bill.total, lease.hold.amount) if lease.hold_id else 0
        if from_deposit:
            payment_collect(
                order=order,
                provider="deposit",
                amount=from_deposit,
                actor=actor,
                data={"hold": lease.hold_id},
                idempotency_key=f"lease-deposit:{order.pk}",
            )
        elif lease.hold_id:
            hold_release(hold=lease.hold)
        rest = bill.total - from_deposit
        if rest > 0:
            payment_collect(
                order=order, provider="wallet", amount=rest, actor=actor, idempotency_key=f"lease-rest:{order.pk}"
            )
    else:
        if lease.hold_id:
            hold_release(hold=lease.hold)
        order_transition(order=order, to_status=OrderStatus.PAID, actor=actor, action="lease.free")
    order = lock_order(order)
    if order.status == OrderStatus.PAID:
        order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor, action="lease.returned")


def on_asset_returned(device: Device, data: dict) -> None:
    try:
        lease_return(asset_serial=str(data.get("asset", "")), station=device, slot=str(data.get("slot", "")))
    except ValidationError as error:
        logger.warning("Return at %s flagged: %s", device, " ".join(error.messages))


class DepositProvider(PaymentProvider):
    """Charges a lease's bill from the deposit held in the wallet (and releases the rest)."""

    code = "deposit"
    label = gettext_lazy("Deposit")  # a class attribute: translated when shown, not at import

    def collect(self, *, payment, reference="", data=None):
        hold = Hold.objects.filter(pk=(data or {}).get("hold"), customer=payment.order.customer).first()
        if hold is None:
            return ProviderResult(succeeded=False, message=str(_("No deposit is held for this order.")))
        hold_capture(hold=hold, amount=payment.amount, reference=payment.order.number)
        return ProviderResult(succeeded=True, reference=f"hold-{hold.pk}")

    def refund(self, *, refund):
        raise ValidationError(_("A captured deposit is refunded to the wallet by support."))


PERIODS = {"week": datetime.timedelta(days=7), "month": datetime.timedelta(days=30)}


def leases_bill_periods(*, now=None) -> int:
    """Charge every started period of the long-term leases in use, each exactly once."""
    from leasing.models import LeaseCharge
    from wallet.services import InsufficientFunds, wallet_pay

    now = now or timezone.now()
    charged = 0
    live = Lease.objects.filter(stage=ST.IN_USE, plan__billing_period__in=list(PERIODS), plan__period_price__gt=0)
    for lease in live.select_related("plan", "order", "customer"):
        length = PERIODS[lease.plan.billing_period]
        started = int((now - lease.rented_at) / length) + 1
        for period in range(started):
            charge, _created = LeaseCharge.objects.get_or_create(
                lease=lease, period=period, defaults={"amount": lease.plan.period_price}
            )
            if charge.paid:
                continue
            try:
                wallet_pay(
                    customer=lease.customer,
                    amount=charge.amount,
                    key=f"lease-period:{lease.pk}:{period}",
                    order=lease.order,
                    reference=lease.order.number,
                )
            except InsufficientFunds:
                order_note(
                    order=lease.order,
                    actor=Actor.system("billing"),
                    action="lease.period_unpaid",
                    data={"period": period},
                )
                break
            LeaseCharge.objects.filter(pk=charge.pk).update(paid=True)
            order_note(
                order=lease.order,
                actor=Actor.system("billing"),
                action="lease.period_billed",
                data={"period": period, "amount": str(charge.amount)},
            )
            charged += 1
    return charged


def leases_close_at_maximum(*, now=None) -> int:
    """A lease whose running price reached the plan's maximum is closed: the customer has bought
    the item, the deposit is captured (and any rest charged to the wallet)."""
    now = now or timezone.now()
    closed = 0
    live = Lease.objects.filter(stage=ST.IN_USE, plan__max_total__isnull=False, plan__billing_period="")
    for lease in live.select_related("plan", "order__region", "hold", "asset"):
        bill = _times(price(lease.plan.pricing(), minutes_between(lease.rented_at, now)), lease.quantity)
        if not bill.bought:
            continue
        with transaction.atomic():
            if not Lease.objects.filter(pk=lease.pk, stage=ST.IN_USE).update(
                stage=ST.BOUGHT, returned_at=now, minutes=bill.minutes, amount=bill.total
            ):
                continue
            _item_gone(lease, A.SOLD)
            _settle(lease, bill, Actor.system("maximum reached"))
            closed += 1
    return closed


# --- Extension, reminders, lost --------------------------------------------------------------
def lease_extend(*, lease: Lease, periods: int = 1, actor=None) -> Lease:
    """Extend (or, once due, renew) a long-term lease by whole periods; its billing continues."""
    if periods < 1 or periods > 24:
        raise ValidationError(_("Extend by 1 to 24 periods."))
    with transaction.atomic():
        locked = Lease.objects.select_for_update(of=("self",)).select_related("plan", "order").get(pk=lease.pk)
        if locked.stage != ST.IN_USE:
            raise ValidationError(_("Only a lease in use can be extended."))
        if not locked.plan.billing_period:
            raise ValidationError(_("Only long-term leases are extended; short rentals are billed by the minute."))
        # Extending before the due date, or renewing after it, both continue from the due date.
        base = locked.due_at or timezone.now()
        locked.due_at = base + PERIODS[locked.plan.billing_period] * periods
        locked.save(update_fields=["due_at"])
        order_note(
            order=locked.order,
            actor=actor or Actor.system(),
            action="lease.extended",
            data={"periods": periods, "due_at": locked.due_at.isoformat()},
        )
    return locked


REMIND_EVERY = datetime.timedelta(hours=24)


def leases_overdue_scan(*, now=None) -> dict:
    """Overdue leases: a reminder at most once a day through the notification service; past the
    plan's `lost_after_minutes`, the lease closes as lost: the asset is marked lost and the bill
    (usage and late fees up to their cap, at least the deposit) is taken from the hold. Idempotent."""
    from core.services import notification_send

    now = now or timezone.now()
    reminded = lost = 0
    overdue = Lease.objects.filter(stage=ST.IN_USE, due_at__lt=now).select_related(
        "plan", "order__region", "customer", "asset", "hold"
    )
    for lease in overdue:
        plan = lease.plan
        if plan.lost_after_minutes is not None and now >= lease.due_at + datetime.timedelta(
            minutes=plan.lost_after_minutes
        ):
            if _close_as_lost(lease, now):
                lost += 1
            continue
        if lease.last_reminded_at and now - lease.last_reminded_at < REMIND_EVERY:
            continue
        with transaction.atomic():
            claimed = Lease.objects.filter(
                pk=lease.pk, stage=ST.IN_USE, last_reminded_at=lease.last_reminded_at
            ).update(last_reminded_at=now, reminders_sent=lease.reminders_sent + 1)
            if not claimed:
                continue  # another run reminded it just now
            bill = price(plan.pricing(), minutes_between(lease.rented_at, now))
            notification_send(
                template="lease_overdue",
                recipient=lease.customer,
                context={"lease": lease, "asset": lease.item_label, "due_at": lease.due_at, "running": bill.total},
                channels=[lease.customer.preferred_channel or "sms"],
                region=lease.order.region,
            )
            order_note(
                order=lease.order,
                actor=Actor.system("overdue"),
                action="lease.overdue_reminder",
                data={"reminder": lease.reminders_sent + 1, "running": str(bill.total)},
            )
            reminded += 1
    return {"reminded": reminded, "lost": lost}


def _close_as_lost(lease: Lease, now) -> bool:
    plan = lease.plan
    bill = _times(price(plan.pricing(), minutes_between(lease.rented_at, now)), lease.quantity)
    deposit = lease.hold.amount if lease.hold_id else Decimal("0.00")
    total = max(bill.total, deposit)
    charged = Bill(minutes=bill.minutes, usage=total - bill.late_fee, late_fee=bill.late_fee, bought=False)
    with transaction.atomic():
        if not Lease.objects.filter(pk=lease.pk, stage=ST.IN_USE).update(
            stage=ST.LOST, returned_at=now, minutes=bill.minutes, amount=charged.total
        ):
            return False
        _item_gone(lease, A.LOST)
        order_note(
            order=lease.order,
            actor=Actor.system("overdue"),
            action="lease.lost",
            reason=_("not returned in time: the asset is marked lost"),
            data={"usage": str(bill.usage), "late_fee": str(bill.late_fee), "charged": str(charged.total)},
        )
        _settle(lease, charged, Actor.system("overdue"))
    return True


# --- Bulk items (counted, not tracked one by one) ----------------------------------------------
def _times(bill: Bill, quantity: int) -> Bill:
    """The bill for `quantity` items rented together: each costs the same."""
    if quantity == 1:
        return bill
    return Bill(
        minutes=bill.minutes, usage=bill.usage * quantity, late_fee=bill.late_fee * quantity, bought=bill.bought
    )


def _item_gone(lease: Lease, state: str) -> None:
    """The rented item will not come back (bought or lost)."""
    from django.db.models import F

    if lease.asset_id:
        Asset.objects.filter(pk=lease.asset_id).update(state=state, station=None, slot="")
    elif lease.bulk_item_id:
        BulkItem.objects.filter(pk=lease.bulk_item_id).update(total=F("total") - lease.quantity)


def bulk_lease_start(*, customer, item: BulkItem, quantity: int = 1, actor=None) -> Lease:
    """A clerk hands over `quantity` counted items: taken by a conditional update (never below
    zero), the deposit per item held in the wallet, or pay-later for members at the plan's level."""
    from django.db.models import F

    if quantity < 1 or quantity > 50:
        raise ValidationError({"quantity": _("Rent 1 to 50 at a time.")})
    plan = plan_for_kind(item.site, item.kind)
    later = pays_later(customer, plan)
    with transaction.atomic():
        if not BulkItem.objects.filter(pk=item.pk, available__gte=quantity).update(available=F("available") - quantity):
            left = BulkItem.objects.filter(pk=item.pk).values_list("available", flat=True).first() or 0
            raise ValidationError(
                _("Only %(left)s %(kind)s left at %(site)s.") % {"left": left, "kind": item.kind, "site": item.site},
                code="unavailable",
            )
        order = order_create(kind=OrderKind.LEASE, actor=actor or customer, customer=customer, site=item.site)
        hold = None
        if plan.deposit > 0 and not later:
            hold = hold_place(
                customer=customer,
                amount=plan.deposit * quantity,
                reference=order.number,
                idempotency_key=f"lease:{order.pk}",
            )
        return Lease.objects.create(
            order=order,
            bulk_item=item,
            quantity=quantity,
            customer=customer,
            plan=plan,
            hold=hold,
            pay_later=later,
            due_at=due_at_for(plan, timezone.now()),
            stage=ST.IN_USE,
        )


def bulk_lease_return(*, lease: Lease, site, actor=None) -> Lease:
    """The counted items are back at `site` (any store of the region): billed once from the actual
    usage time; returned elsewhere, the stock moves to that store."""
    from django.db.models import F

    with transaction.atomic():
        lease = (
            Lease.objects.select_for_update(of=("self",))
            .select_related("order__region", "plan", "hold", "bulk_item")
            .get(pk=lease.pk)
        )
        if lease.bulk_item_id is None:
            raise ValidationError(_("This lease is for a tracked asset: scan its tag instead."))
        if lease.stage != ST.IN_USE:
            raise ValidationError(_("This lease is not in use; nothing was changed."))
        if not site.region.path.startswith(lease.order.region.path):
            raise ValidationError(_("These items were returned outside the region they were rented in."))
        now = timezone.now()
        minutes = minutes_between(lease.rented_at, now)
        if lease.plan.billing_period:
            bill = Bill(minutes=minutes, usage=Decimal("0.00"), late_fee=Decimal("0.00"), bought=False)
        else:
            bill = _times(price(lease.plan.pricing(), minutes), lease.quantity)
        lease.stage, lease.returned_at, lease.minutes, lease.amount = ST.RETURNED, now, bill.minutes, bill.total
        lease.save(update_fields=["stage", "returned_at", "minutes", "amount"])
        origin = lease.bulk_item
        if origin.site_id == site.pk:
            BulkItem.objects.filter(pk=origin.pk).update(available=F("available") + lease.quantity)
        else:
            BulkItem.objects.filter(pk=origin.pk).update(total=F("total") - lease.quantity)
            target, _created = BulkItem.objects.get_or_create(site=site, kind=origin.kind)
            BulkItem.objects.filter(pk=target.pk).update(
                total=F("total") + lease.quantity, available=F("available") + lease.quantity
            )
        _settle(lease, bill, actor)
        return lease


def availability(user) -> list[dict]:
    """Per site (and station): how many of each kind can be rented now, within the user's scope."""
    from django.db.models import Count

    rows: dict[tuple, dict] = {}
    assets = (
        Asset.objects.restrict(user)
        .filter(state=A.AVAILABLE)
        .values("site", "site__name", "station", "station__name", "kind")
        .annotate(n=Count("pk"))
    )
    for row in assets:
        key = (row["site__name"], row["station__name"] or "", row["kind"])
        rows[key] = {
            "site": row["site__name"],
            "station": row["station__name"] or "",
            "kind": row["kind"],
            "available": row["n"],
            "total": None,
        }
    for item in BulkItem.objects.restrict(user).select_related("site"):
        rows[(item.site.name, "", item.kind)] = {
            "site": item.site.name,
            "station": "",
            "kind": item.kind,
            "available": item.available,
            "total": item.total,
        }
    return [rows[key] for key in sorted(rows)]


def lease_start_at_station(*, customer, station: Device, kind: str, actor=None) -> Lease:
    """A customer rents one `kind` from `station` (scanned in the app): the first available asset
    in the station is taken; one that another renter takes at the same moment is skipped."""
    if station.kind != Device.Kind.RENTAL:
        raise ValidationError({"code": _("This is not a rental station.")})
    if Lease.objects.filter(customer=customer, stage__in=[ST.EJECTING, ST.IN_USE], asset__kind=kind).count() >= 3:
        raise ValidationError(_("Return what you rented before renting more than three."))
    candidates = Asset.objects.filter(station=station, kind=kind, state=A.AVAILABLE).order_by("slot", "pk")
    for asset in candidates[:5]:
        try:
            return lease_start(customer=customer, asset=asset, actor=actor or customer)
        except ValidationError as error:
            if getattr(error, "code", None) != "unavailable":
                raise
    raise ValidationError({"kind": _("No %(kind)s is available at this station now.") % {"kind": kind}})
