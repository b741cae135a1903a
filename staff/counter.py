"""The store counter: shifts, walk-in sales, collecting payments and requesting refunds.

A refund within the clerk's limits (per refund and per day) is done at once. Above them it becomes
a RefundApproval for the store manager, or — above the managers' own limit — the regional
administrator; no money moves until someone allowed to approve it does. The daily limit is checked
under a lock on the clerk's profile row, so two tills cannot both spend the last of it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import notification_send
from orders.models import ZERO, Channel, Order, OrderKind, Payment, Refund
from orders.payments import provider_get
from orders.services import LineSpec, money, order_create, order_note, payment_collect, refund_create
from staff import policies
from staff.models import RefundApproval, Shift, StaffProfile, User
from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER

OFFLINE_MAX_AGE = datetime.timedelta(days=7)
IN_PERSON_REFERENCE_REQUIRED = {"card"}


# --- Shifts ----------------------------------------------------------------------------------
def shift_open(*, actor, site, opening_float) -> Shift:
    policies.require(actor, policies.COLLECT, site)
    opening_float = money(opening_float)
    if opening_float < 0:
        raise ValidationError({"opening_float": _("The cash float cannot be negative.")})
    with transaction.atomic():
        if Shift.objects.filter(clerk=actor, closed_at__isnull=True).exists():
            raise ValidationError(_("You already have an open shift; close it first."))
        shift = Shift.objects.create(site=site, clerk=actor, opening_float=opening_float)
        from core.services import audit_record

        audit_record(
            actor=actor, action="shift.open", obj=shift, changes={"float": str(opening_float)}, region=site.region
        )
    return shift


def shift_current(user, site=None) -> Shift | None:
    queryset = Shift.objects.filter(clerk=user, closed_at__isnull=True).select_related("site")
    if site is not None:
        queryset = queryset.filter(site=site)
    return queryset.first()


def shift_expected(shift: Shift) -> Decimal:
    """Float + cash collected in the shift − cash refunded out of the drawer in the shift."""
    cash_in = Payment.objects.filter(shift=shift, provider="cash", status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    cash_out = Refund.objects.filter(shift=shift, payment__provider="cash", status=Refund.Status.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]
    return money(shift.opening_float + (cash_in or ZERO) - (cash_out or ZERO))


def shift_close(*, actor, shift: Shift, counted_amount, note: str = "") -> Shift:
    """Record the counted cash, the expected amount, the variance and who closed the shift."""
    if shift.clerk_id != actor.pk and not _manages(actor, shift.site):
        policies.deny(
            user=actor, action="shift.close", message=_("Only the clerk or a manager may close this shift."), obj=shift
        )
    counted = money(counted_amount)
    if counted < 0:
        raise ValidationError({"counted_amount": _("The counted amount cannot be negative.")})
    with transaction.atomic():
        locked = Shift.objects.select_for_update().get(pk=shift.pk)
        if locked.closed_at is not None:
            raise ValidationError(_("This shift is already closed."))
        expected = shift_expected(locked)
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.expected_amount = expected
        locked.counted_amount = counted
        locked.variance = counted - expected
        locked.note = note[:255]
        locked.save()
        from core.services import audit_record

        audit_record(
            actor=actor,
            action="shift.close",
            obj=locked,
            changes={"expected": str(expected), "counted": str(counted), "variance": str(locked.variance)},
            region=locked.site.region,
        )
        from staff.anomalies import anomaly_check_later

        anomaly_check_later("shift", locked.pk)
    return locked


def _manages(user, site) -> bool:
    if policies.has_role(user, PLATFORM_ADMIN):
        return True
    if policies.has_role(user, REGIONAL_ADMIN, STORE_MANAGER):
        return policies.works_at(user, site)
    return False


# --- Sales and collections -------------------------------------------------------------------
@dataclass
class SaleLine:
    product: object | None
    quantity: int = 1
    description: str = ""
    unit_price: Decimal | None = None


def counter_sale_create(*, actor, site, lines: list[SaleLine], customer=None, note: str = "") -> Order:
    """A walk-in sale at the counter: a COUNTER order for the listed products or amounts."""
    policies.require(actor, policies.COLLECT, site)
    specs = []
    for index, line in enumerate(lines, start=1):
        if line.quantity < 1:
            raise ValidationError({"lines": _("Line %(n)d: the quantity must be at least 1.") % {"n": index}})
        price = line.unit_price if line.unit_price is not None else getattr(line.product, "sale_price", None)
        if price is None or money(price) <= 0:
            raise ValidationError({"lines": _("Line %(n)d: enter a price above zero.") % {"n": index}})
        description = line.description or (str(line.product) if line.product else "")
        if not description.strip():
            raise ValidationError({"lines": _("Line %(n)d: describe what is sold.") % {"n": index}})
        specs.append(
            LineSpec(
                description=description[:200],
                unit_price=money(price),
                quantity=line.quantity,
                product=line.product,
                cost_price=getattr(line.product, "cost_price", ZERO) or ZERO,
            )
        )
    if not specs:
        raise ValidationError({"lines": _("Add at least one item.")})
    order = order_create(
        kind=OrderKind.COUNTER,
        actor=actor,
        site=site,
        customer=customer,
        channel=Channel.COUNTER,
        lines=specs,
    )
    if note:
        Order.objects.filter(pk=order.pk).update(note=note)
    from members.promotions import promotions_apply

    if promotions_apply(order=order, actor=actor):
        order.refresh_from_db()
    return order


def counter_methods() -> list[tuple[str, str]]:
    """What a till can take: in-person methods (cash, the card terminal) and providers that show
    the customer a QR code to pay with their phone."""
    methods = []
    from orders.payments import provider_choices

    for code, label in provider_choices():
        provider = provider_get(code)
        if (
            provider.collected_in_person
            or getattr(provider, "shows_qr", False)
            or getattr(provider, "at_counter", False)
        ):
            methods.append((code, label))
    return methods


@dataclass
class Collection:
    payment: Payment
    change: Decimal


def counter_collect(
    *,
    actor,
    order: Order,
    method: str,
    amount=None,
    tendered=None,
    reference: str = "",
    offline_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
) -> Collection:
    """Collect at the counter. Cash needs an open shift at the store and the amount tendered
    (the change is worked out and recorded); card needs the terminal's reference; QR goes through
    the online providers and stays pending until their callback. `offline_at` enters a collection
    made while the system was unreachable, at its original time, flagged as offline."""
    order = Order.objects.select_related("site", "region").get(pk=order.pk)  # never judge a stale copy
    site = order.site
    if site is None:
        raise ValidationError(_("This order does not belong to a store."))
    policies.require(actor, policies.COLLECT, site, obj=order)
    if method not in {code for code, _label in counter_methods()}:
        raise ValidationError({"method": _("Unknown payment method.")})
    provider = provider_get(method)
    amount = money(amount) if amount not in (None, "") else order.balance_due
    shift = shift_current(actor, site)
    change = ZERO
    data: dict = {}
    if method == "cash":
        if shift is None:
            raise ValidationError(_("Open a shift with your cash float before taking cash."))
        tendered = money(tendered) if tendered not in (None, "") else amount
        if tendered < amount:
            raise ValidationError(
                {
                    "tendered": _("The cash tendered (%(t)s) is less than the amount (%(a)s).")
                    % {"t": tendered, "a": amount}
                }
            )
        change = tendered - amount
        data = {"tendered": str(tendered), "change": str(change)}
    elif method in IN_PERSON_REFERENCE_REQUIRED and not reference.strip():
        raise ValidationError({"reference": _("Enter the card terminal's reference.")})
    if offline_at is not None:
        if not provider.collected_in_person:
            raise ValidationError({"method": _("Only cash and card collections can be entered afterwards.")})
        now = timezone.now()
        if offline_at > now:
            raise ValidationError({"offline_at": _("The original time cannot be in the future.")})
        if offline_at < now - OFFLINE_MAX_AGE:
            raise ValidationError({"offline_at": _("Collections older than 7 days cannot be entered here.")})
        data["offline"] = True
    payment = payment_collect(
        order=order,
        provider=method,
        amount=amount,
        actor=actor,
        reference=reference.strip(),
        idempotency_key=idempotency_key,
        data=data,
        shift=shift,
        collected_at=offline_at,
        offline=offline_at is not None,
    )
    if payment.status == Payment.Status.SUCCEEDED:
        from staff.anomalies import anomaly_check_later

        anomaly_check_later("payment", payment.pk)
    return Collection(payment=payment, change=change)


# --- Refunds ---------------------------------------------------------------------------------
@dataclass
class RefundOutcome:
    refund: Refund | None = None
    approval: RefundApproval | None = None

    @property
    def needs_approval(self) -> bool:
        return self.approval is not None


def _day_start(now=None):
    now = timezone.localtime(now or timezone.now())
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def refunded_today_by(user) -> Decimal:
    """What `user` refunded today on their own authority (approved refunds do not count)."""
    total = Refund.objects.filter(
        requested_by=user,
        status__in=[Refund.Status.SUCCEEDED, Refund.Status.PENDING],
        created_at__gte=_day_start(),
        approval__isnull=True,
    ).aggregate(total=Sum("amount"))["total"]
    return total or ZERO


def _validate_refund(order: Order, amount: Decimal, reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the money is refunded.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    pending = (
        RefundApproval.objects.filter(order=order, status=RefundApproval.Status.PENDING).aggregate(total=Sum("amount"))[
            "total"
        ]
        or ZERO
    )
    if amount + pending > order.refundable_amount:
        raise ValidationError(
            {
                "amount": _("At most %(max)s can be refunded (%(pending)s already waits for approval).")
                % {"max": order.refundable_amount - pending, "pending": pending}
            }
        )


def _approval_level(site, amount: Decimal, requester) -> str:
    """A store manager of the site whose own limit covers the amount, else the region."""
    if site is None:
        return RefundApproval.Level.REGIONAL
    managers = StaffProfile.objects.filter(
        sites=site, user__is_active=True, user__groups__name=STORE_MANAGER, can_refund=True
    ).exclude(user=requester)
    if managers.filter(Q(refund_limit__isnull=True) | Q(refund_limit__gte=amount)).exists():
        return RefundApproval.Level.MANAGER
    return RefundApproval.Level.REGIONAL


def approvers_for(approval: RefundApproval) -> list[User]:
    from core.scoping import user_can_reach

    candidates = User.objects.filter(is_active=True).exclude(pk=approval.requested_by_id)
    if approval.level == RefundApproval.Level.MANAGER and approval.site_id:
        managers = candidates.filter(
            groups__name=STORE_MANAGER, profile__sites=approval.site_id, profile__can_refund=True
        )
        return [u for u in managers.distinct() if may_approve(u, approval)]
    regionals = candidates.filter(groups__name=REGIONAL_ADMIN).distinct()
    return [u for u in regionals if user_can_reach(u, approval.region, "view") and may_approve(u, approval)]


def may_approve(user, approval: RefundApproval) -> bool:
    if not (user.is_active and user.pk != approval.requested_by_id):
        return False
    if policies.has_role(user, PLATFORM_ADMIN):
        return True
    from core.scoping import user_can_reach

    if policies.has_role(user, REGIONAL_ADMIN):
        return user_can_reach(user, approval.order, "view")
    if approval.level == RefundApproval.Level.MANAGER and policies.has_role(user, STORE_MANAGER):
        if approval.site is None or not policies.works_at(user, approval.site):
            return False
        if not policies.allowed(user, policies.REFUND, approval.site):
            return False
        limit, _daily = policies.refund_limits(user)
        return limit is None or approval.amount <= limit
    return False


def refund_request(*, actor, order: Order, amount, reason: str, payment: Payment | None = None) -> RefundOutcome:
    """Refund at once within the requester's limits; otherwise ask for approval (no money moves)."""
    amount = money(amount)
    order = Order.objects.select_related("site", "region").get(pk=order.pk)  # never judge a stale copy
    policies.require(actor, policies.REFUND, order.site, obj=order)
    if order.site is None and not _reaches(actor, order):
        policies.deny(user=actor, action=policies.REFUND, message=_("This order is outside your scope."), obj=order)
    _validate_refund(order, amount, reason)
    per_refund, per_day = policies.refund_limits(actor)
    with transaction.atomic():
        profile = policies.profile_of(actor)
        if profile is not None and (per_refund is not None or per_day is not None):
            StaffProfile.objects.select_for_update().filter(pk=profile.pk).first()  # serialise the day's total
        within = per_refund is None or amount <= per_refund
        if within and per_day is not None:
            within = refunded_today_by(actor) + amount <= per_day
        shift = shift_current(actor, order.site) if order.site else None
        if within:
            refund = refund_create(order=order, amount=amount, actor=actor, reason=reason, payment=payment, shift=shift)
            if refund.status == Refund.Status.SUCCEEDED:
                from staff.anomalies import anomaly_check_later

                anomaly_check_later("refund", refund.pk)
            return RefundOutcome(refund=refund)
        locked = Order.objects.select_for_update().get(pk=order.pk)
        _validate_refund(locked, amount, reason)
        approval = RefundApproval.objects.create(
            order=locked,
            payment=payment,
            region_id=locked.region_id,
            site_id=locked.site_id,
            amount=amount,
            reason=reason.strip()[:255],
            level=_approval_level(locked.site, amount, actor),
            requested_by=actor,
        )
        limit_text = {
            "per_refund": str(per_refund) if per_refund is not None else None,
            "per_day": str(per_day) if per_day is not None else None,
        }
        order_note(
            order=locked,
            actor=actor,
            action="refund.requested",
            reason=approval.reason,
            data={"approval": approval.pk, "amount": str(amount), "level": approval.level, "limits": limit_text},
        )
        for approver in approvers_for(approval):
            notification_send(
                template="refund_approval_requested",
                recipient=approver,
                context={"approval": approval},
                region=locked.region,
            )
    return RefundOutcome(approval=approval)


def _reaches(user, obj) -> bool:
    from core.scoping import user_can_reach

    return user_can_reach(user, obj, "view")


def refund_approval_decide(*, actor, approval: RefundApproval, approve: bool, reason: str = "") -> RefundApproval:
    """Approve (the money moves now, attributed to the approver) or reject (it never moves).
    A decided request, or one's own, is refused."""
    if approval.requested_by_id == actor.pk:
        policies.deny(
            user=actor,
            action="refund.approve",
            message=_("You cannot decide on your own refund request."),
            obj=approval,
        )
    if approval.status != RefundApproval.Status.PENDING:
        raise ValidationError(
            _("This request was already %(status)s.") % {"status": approval.get_status_display().lower()}
        )
    if not may_approve(actor, approval):
        policies.deny(
            user=actor,
            action="refund.approve",
            message=_("You may not decide on this refund (it needs a %(level)s).")
            % {"level": approval.get_level_display().lower()},
            obj=approval,
        )
    if not approve and not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the refund is rejected.")})
    with transaction.atomic():
        locked = RefundApproval.objects.select_for_update().get(pk=approval.pk)
        if locked.status != RefundApproval.Status.PENDING:
            raise ValidationError(
                _("This request was already %(status)s.") % {"status": locked.get_status_display().lower()}
            )
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = (reason or "").strip()[:255]
        if approve:
            locked.status = RefundApproval.Status.APPROVED
            refund = refund_create(
                order=locked.order,
                amount=locked.amount,
                actor=actor,
                reason=locked.reason,
                payment=locked.payment,
                shift=shift_current(locked.requested_by, locked.site) if locked.site else None,
            )
            locked.refund = refund
        else:
            locked.status = RefundApproval.Status.REJECTED
        locked.save()
        order_note(
            order=locked.order,
            actor=actor,
            action="refund.approved" if approve else "refund.rejected",
            reason=locked.decision_reason or locked.reason,
            data={
                "approval": locked.pk,
                "amount": str(locked.amount),
                "requested_by": locked.requested_by.get_username(),
                "refund": locked.refund_id,
            },
        )
        notification_send(
            template="refund_approval_decided", recipient=locked.requested_by, context={"approval": locked}
        )
        if approve and locked.refund and locked.refund.status == Refund.Status.SUCCEEDED:
            from staff.anomalies import anomaly_check_later

            anomaly_check_later("refund", locked.refund.pk)
    return locked
