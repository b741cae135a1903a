"""Issuing and redeeming pickup codes.

A code is drawn from the operating system's CSPRNG, shown once (to the customer's notification),
and stored only as an HMAC keyed with `PICKUP_CODE_KEY`, so a database dump reveals no code. A
code is unique among live codes, expires, and is used at most once (a conditional update decides
between concurrent redemptions). Wrong codes are counted per machine or counter: too many within
the window lock entry there for a while and alert staff. Every refusal says only "invalid or
expired", whatever the reason.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pickup.models import EntryLock, PickupAttempt, PickupCode

logger = logging.getLogger(__name__)


class InvalidCode(ValidationError):
    pass


class EntryLocked(ValidationError):
    pass


def _key() -> bytes:
    configured = getattr(settings, "PICKUP_CODE_KEY", "")
    return (configured or f"pickup-code:{settings.SECRET_KEY}").encode()


def code_hmac(code: str) -> str:
    return hmac.new(_key(), code.encode(), hashlib.sha256).hexdigest()


def _new_code(length: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def code_issue(*, order, length: int | None = None, ttl: datetime.timedelta | None = None) -> tuple[PickupCode, str]:
    """A fresh code for the order; any live code of the order dies at once. Returns the row and
    the code in clear, which the caller passes to the notification and then forgets."""
    length = length or settings.PICKUP_CODE_LENGTH
    if not 6 <= length <= 12:
        raise ValidationError(_("Pickup codes have 6 to 12 digits."))
    ttl = ttl or datetime.timedelta(hours=settings.PICKUP_CODE_TTL_HOURS)
    with transaction.atomic():
        PickupCode.objects.filter(order=order, status=PickupCode.Status.LIVE).update(status=PickupCode.Status.REVOKED)
        for _attempt in range(20):
            code = _new_code(length)
            try:
                with transaction.atomic():
                    row = PickupCode.objects.create(
                        order=order, code_hmac=code_hmac(code), expires_at=timezone.now() + ttl
                    )
                return row, code
            except IntegrityError:
                continue  # the same digits are live for another order: draw again
    raise ValidationError(_("Could not draw a unique code; try again."))


def _where(device, site) -> dict:
    return {"device": device} if device is not None else {"site": site}


def entry_locked(*, device=None, site=None) -> EntryLock | None:
    return EntryLock.objects.filter(**_where(device, site), until__gt=timezone.now()).order_by("-until").first()


def code_redeem(*, code: str, device=None, site=None, order_filter=None) -> PickupCode:
    """Use a code at a machine (`device`) or a store counter (`site`). Exactly once."""
    if (device is None) == (site is None):
        raise ValueError("redeem at a device or at a site")
    place_site = site or device.site
    if entry_locked(device=device, site=site):
        PickupAttempt.objects.create(device=device, site=place_site, refused_locked=True)
        raise EntryLocked(_("Code entry is locked here for a while after too many wrong codes."), code="locked")
    code = (code or "").strip()
    now = timezone.now()
    candidate = None
    if code.isdigit() and 6 <= len(code) <= 12:
        query = PickupCode.objects.select_related("order").filter(
            code_hmac=code_hmac(code), status=PickupCode.Status.LIVE
        )
        if order_filter is not None:
            query = query.filter(**order_filter)
        candidate = query.first()
    if candidate is not None and candidate.expires_at > now:
        used = PickupCode.objects.filter(pk=candidate.pk, status=PickupCode.Status.LIVE).update(
            status=PickupCode.Status.USED, used_at=now, used_at_device=device, used_at_site=site
        )
        if used:
            PickupAttempt.objects.create(device=device, site=place_site, succeeded=True, code=candidate)
            candidate.refresh_from_db()
            return candidate
    PickupAttempt.objects.create(device=device, site=place_site)
    _maybe_lock(device=device, site=site, place_site=place_site)
    raise InvalidCode(_("Invalid or expired code."), code="invalid")


def _maybe_lock(*, device, site, place_site) -> None:
    window = timezone.now() - datetime.timedelta(minutes=settings.PICKUP_LOCK_WINDOW_MINUTES)
    where = {"device": device} if device is not None else {"site": site, "device__isnull": True}
    wrong = PickupAttempt.objects.filter(**where, succeeded=False, refused_locked=False, at__gte=window)
    since_lock = EntryLock.objects.filter(**_where(device, site)).order_by("-locked_at").first()
    if since_lock:
        wrong = wrong.filter(at__gt=since_lock.locked_at)
    count = wrong.count()
    if count < settings.PICKUP_MAX_WRONG_CODES:
        return
    lock = EntryLock.objects.create(
        **_where(device, site),
        until=timezone.now() + datetime.timedelta(minutes=settings.PICKUP_LOCK_MINUTES),
        wrong_codes=count,
    )
    logger.warning("Code entry locked at %s after %s wrong codes", device or site, count)
    _alert_staff(lock, place_site)


def _alert_staff(lock: EntryLock, place_site) -> None:
    from django.contrib.auth import get_user_model

    from core.scoping import user_can_reach
    from core.services import notification_send

    for user in (
        get_user_model()
        .objects.filter(
            is_active=True, groups__name__in=["platform_admin", "regional_admin", "store_manager", "service_staff"]
        )
        .distinct()
    ):
        if user_can_reach(user, place_site):
            notification_send(
                template="pickup_entry_locked",
                recipient=user,
                context={"lock": lock, "site": place_site},
                region=place_site.region,
            )


def codes_expire(*, now=None) -> list[PickupCode]:
    """Live codes past their time become expired (each once); returns those that changed."""
    now = now or timezone.now()
    changed = []
    for row in PickupCode.objects.filter(status=PickupCode.Status.LIVE, expires_at__lte=now).select_related("order"):
        if PickupCode.objects.filter(pk=row.pk, status=PickupCode.Status.LIVE).update(status=PickupCode.Status.EXPIRED):
            changed.append(row)
    return changed


# --- Pickup-code orders at a store counter ---------------------------------------------------
def qr_url(code: str) -> str:
    """A link to the code's QR image. It carries the code (signed), so it only ever appears in the
    message that is sent, never in a stored one."""
    from django.core import signing
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("pickup:qr", args=[signing.dumps(code, salt="pickup-qr")])


def customer_channels(customer) -> list[str]:
    """The customer's preferred channel if they can be reached on it, else the other one."""
    reachable = [c for c in ("sms", "email") if (customer.phone if c == "sms" else customer.email)]
    preferred = getattr(customer, "preferred_channel", "sms")
    return [preferred] if preferred in reachable else reachable[:1]


def notify_code(order, code: str, row: PickupCode, place: str) -> None:
    from core.services import notification_send

    if order.customer_id:
        notification_send(
            template="pickup_ready",
            recipient=order.customer,
            context={"order": order, "place": place, "expires_at": row.expires_at, "code": "", "qr_url": ""},
            channels=customer_channels(order.customer),
            region=order.region,
            secrets={"code": code, "qr_url": qr_url(code)},
        )


def codes_remind(*, now=None, hours_before: int = 12) -> int:
    """One reminder per code, some hours before it expires (without the code: the customer has it)."""
    from core.services import notification_send

    now = now or timezone.now()
    due = PickupCode.objects.filter(
        status=PickupCode.Status.LIVE,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + datetime.timedelta(hours=hours_before),
    ).select_related("order__customer")
    sent = 0
    for row in due:
        if not PickupCode.objects.filter(pk=row.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue
        if row.order.customer_id:
            notification_send(
                template="pickup_reminder",
                recipient=row.order.customer,
                context={"order": row.order, "expires_at": row.expires_at},
                channels=customer_channels(row.order.customer),
                region=row.order.region,
            )
        sent += 1
    return sent


def pickup_ready_at_counter(*, order, actor) -> PickupCode:
    """A paid pickup order is ready at its store: the customer gets a code."""
    from orders.models import OrderKind, OrderStatus
    from orders.services import order_transition

    with transaction.atomic():
        if order.kind != OrderKind.PICKUP or order.site_id is None:
            raise ValidationError(_("Only a pickup order with a store can be collected at a counter."))
        order_transition(order=order, to_status=OrderStatus.FULFILLING, actor=actor, action="pickup.ready")
        row, code = code_issue(order=order)
        notify_code(order, code, row, order.site.name)
        return row


def counter_redeem(*, site, code: str, actor):
    """A clerk takes the customer's code at the counter: the order is handed over, once."""
    from orders.models import OrderStatus
    from orders.services import order_transition

    used = code_redeem(code=code, site=site, order_filter={"order__site": site})
    order = used.order
    order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor, action="pickup.handed_over")
    return order


def code_regenerate(*, order, actor) -> PickupCode:
    """Staff send a new code (the old one dies at once), e.g. when the customer lost the message."""
    from core.services import audit_record
    from orders.models import OrderStatus

    if order.status != OrderStatus.FULFILLING or not order.pickup_codes.exists():
        raise ValidationError(_("Only an order waiting for pickup gets a new code."))
    with transaction.atomic():
        row, code = code_issue(order=order)
        place = order.locker.bank.name if hasattr(order, "locker") else (order.site.name if order.site else "")
        notify_code(order, code, row, place)
        audit_record(actor=actor, action="pickup.code_regenerated", obj=order, region=order.region)
        return row
