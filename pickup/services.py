"""Issuing and redeeming pickup codes.

A code is drawn from the operating system's CSPRNG, shown once (to the customer's notification),
and stored only as an HMAC keyed with `PICKUP_CODE_KEY`, so a database dump reveals no code. A
code is unique among live codes, expires, and is used at most once (a conditional update decides
between concurrent redemptions). Codes are counted per source (a keypad session, a clerk, an API
client) and per place (machine or counter) before they are looked at: a source that typed too
many wrong codes is locked on its own; the whole place locks only at a larger ceiling, and staff
are alerted. A customer with the right code and the one-time code sent to their phone opens even
then (ADR 0010). Every refusal of a code says only "invalid or expired", whatever the reason.
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
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from pickup.models import AttemptCounter, EntryLock, PhoneConfirmation, PickupAttempt, PickupCode

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


def code_issue(
    *,
    order,
    length: int | None = None,
    ttl: datetime.timedelta | None = None,
    purpose: str = PickupCode.Purpose.PICKUP,
) -> tuple[PickupCode, str]:
    """A fresh code for the order; any live code of the order for the same purpose dies at once.
    Returns the row and the code in clear, which the caller passes to the notification (or shows
    once to the depositor) and then forgets."""
    length = length or settings.PICKUP_CODE_LENGTH
    if not 6 <= length <= 12:
        raise ValidationError(_("Pickup codes have 6 to 12 digits."))
    ttl = ttl or datetime.timedelta(hours=settings.PICKUP_CODE_TTL_HOURS)
    from orders.models import Order

    with transaction.atomic():
        # Two codes issued for one order at once (an app's retry racing its first request) take
        # turns on the order's row: the later one revokes the earlier instead of colliding with it
        # on one_live_code_per_order_and_purpose until it gives up.
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        PickupCode.objects.filter(order=order, purpose=purpose, status=PickupCode.Status.LIVE).update(
            status=PickupCode.Status.REVOKED
        )
        for _attempt in range(20):
            code = _new_code(length)
            try:
                with transaction.atomic():
                    row = PickupCode.objects.create(
                        order=order, purpose=purpose, code_hmac=code_hmac(code), expires_at=timezone.now() + ttl
                    )
                return row, code
            except IntegrityError:
                continue  # the same digits are live for another order: draw again
    raise ValidationError(_("Could not draw a unique code; try again."))


def _where(device, site) -> dict:
    return {"device": device} if device is not None else {"site": site}


def _place(device, site) -> str:
    return f"device:{device.pk}" if device is not None else f"site:{site.pk}"


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.PICKUP_LOCK_WINDOW_MINUTES)


def _not_locked(now) -> Q:
    return Q(locked_until__isnull=True) | Q(locked_until__lte=now)


def _slot_take(place: str, source: str, limit: int, site) -> bool:
    """Take one evaluation slot for (place, source), or say no: a single conditional UPDATE that
    commits on its own before the code is looked at, so a parallel burst cannot read a count under
    the limit and all go ahead. A window older than PICKUP_LOCK_WINDOW_MINUTES starts again at 1."""

    def take() -> int:
        now = timezone.now()
        stale = Q(window_start__lte=now - _window())
        return (
            AttemptCounter.objects.filter(place=place, source=source)
            .filter(_not_locked(now))
            .filter(Q(count__lt=limit) | stale)
            .update(
                count=Case(When(stale, then=Value(1)), default=F("count") + 1),
                window_start=Case(When(stale, then=Value(now)), default=F("window_start")),
            )
        )

    if take():
        return True
    # Full, locked, or the first try from this source: make sure the row exists (a parallel first
    # try may be making it too) and ask once more; that answer is the one that counts.
    AttemptCounter.objects.bulk_create(
        [AttemptCounter(place=place, site=site, source=source, window_start=timezone.now())], ignore_conflicts=True
    )
    return bool(take())


def _slot_give_back(place: str, source: str) -> None:
    AttemptCounter.objects.filter(place=place, source=source, count__gt=0).update(count=F("count") - 1)


def _lock_when_full(*, place: str, source: str, limit: int, device, site) -> EntryLock | None:
    """After a wrong code: if the counter is full, lock it for PICKUP_LOCK_MINUTES. The conditional
    UPDATE lets exactly one caller create the lock (and raise the alert) per lock."""
    now = timezone.now()
    until = now + datetime.timedelta(minutes=settings.PICKUP_LOCK_MINUTES)
    took = (
        AttemptCounter.objects.filter(place=place, source=source, count__gte=limit)
        .filter(_not_locked(now))
        .update(locked_until=until)
    )
    if not took:
        return None
    return EntryLock.objects.create(**_where(device, site), source=source, until=until, wrong_codes=limit)


def _find_live(code: str, order_filter: dict | None) -> PickupCode | None:
    code = (code or "").strip()
    if not (code.isdigit() and 6 <= len(code) <= 12):
        return None
    query = PickupCode.objects.select_related("order").filter(
        code_hmac=code_hmac(code), status=PickupCode.Status.LIVE, expires_at__gt=timezone.now()
    )
    if order_filter:
        query = query.filter(**order_filter)
    return query.first()


def _use(candidate: PickupCode | None, *, device, site) -> bool:
    if candidate is None:
        return False
    return bool(
        PickupCode.objects.filter(pk=candidate.pk, status=PickupCode.Status.LIVE).update(
            status=PickupCode.Status.USED, used_at=timezone.now(), used_at_device=device, used_at_site=site
        )
    )


LOCKED_MESSAGE = _lazy("Code entry is locked here for a while after too many wrong codes.")


def code_redeem(*, code: str, device=None, site=None, order_filter=None, source: str = "") -> PickupCode:
    """Use a code at a machine (`device`) or a store counter (`site`). Exactly once.

    `source` says who is typing there: a keypad session of the machine, a clerk at the counter, an
    API client. Each source may try PICKUP_MAX_WRONG_CODES codes per window; the whole place
    PICKUP_PLACE_MAX_WRONG_CODES. A slot is taken (and committed) before the code is looked at;
    a right code gives it back. A full source, or a full place, is refused with EntryLocked
    without the code being looked at; the customer can still open with their phone
    (`phone_confirmation_send` / `code_redeem_confirmed`)."""
    if (device is None) == (site is None):
        raise ValueError("redeem at a device or at a site")
    place_site = site or device.site
    place = _place(device, site)
    source = (source or place)[:120]
    if not _slot_take(place, source, settings.PICKUP_MAX_WRONG_CODES, place_site):
        PickupAttempt.objects.create(device=device, site=place_site, source=source, refused_locked=True)
        raise EntryLocked(LOCKED_MESSAGE, code="locked")
    if not _slot_take(place, "", settings.PICKUP_PLACE_MAX_WRONG_CODES, place_site):
        _slot_give_back(place, source)  # the place is full, not this source
        PickupAttempt.objects.create(device=device, site=place_site, source=source, refused_locked=True)
        raise EntryLocked(LOCKED_MESSAGE, code="locked")
    candidate = _find_live(code, order_filter)
    if _use(candidate, device=device, site=site):
        _slot_give_back(place, source)
        _slot_give_back(place, "")
        PickupAttempt.objects.create(device=device, site=place_site, source=source, succeeded=True, code=candidate)
        candidate.refresh_from_db()
        return candidate
    PickupAttempt.objects.create(device=device, site=place_site, source=source)
    if _lock_when_full(place=place, source=source, limit=settings.PICKUP_MAX_WRONG_CODES, device=device, site=site):
        logger.warning("Code entry locked for %s at %s", source, device or site)
    place_lock = _lock_when_full(
        place=place, source="", limit=settings.PICKUP_PLACE_MAX_WRONG_CODES, device=device, site=site
    )
    if place_lock is not None:
        logger.warning("Code entry locked at %s after %s wrong codes", device or site, place_lock.wrong_codes)
        _alert_staff(place_lock, place_site)
    raise InvalidCode(_("Invalid or expired code."), code="invalid")


# --- Opening with the right code and the customer's phone, even while entry is locked ----------
PHONE_CODE_TTL = datetime.timedelta(minutes=5)
PHONE_CODE_EVERY = datetime.timedelta(seconds=60)
PHONE_CODES_PER_HOUR = 5
PHONE_CODE_ATTEMPTS = 5


def _phone_code_hmac(place: str, phone: str, otp: str) -> str:
    return hmac.new(_key(), f"phone:{place}:{phone}:{otp}".encode(), hashlib.sha256).hexdigest()


def _phone_filter(phone: str) -> dict:
    from members.services import phone_variants

    return {"order__customer__phone__in": phone_variants(phone)}


def phone_confirmation_send(*, phone: str, device=None, site=None, order_filter=None) -> None:
    """Send a one-time code by SMS to `phone` if a parcel for that number waits here. The answer
    (and the throttle: one a minute, five an hour per number and place) is the same whether or not
    a parcel waits, so the endpoint does not tell who has a parcel where."""
    from core.services import notification_send
    from members.services import phone_normalise

    if (device is None) == (site is None):
        raise ValueError("at a device or at a site")
    phone = phone_normalise(phone)
    place = _place(device, site)
    now = timezone.now()
    recent = PhoneConfirmation.objects.filter(
        place=place, phone=phone, created_at__gte=now - datetime.timedelta(hours=1)
    )
    if recent.filter(created_at__gte=now - PHONE_CODE_EVERY).exists():
        raise ValidationError(_("A code was just sent. Wait a minute before asking for another."), code="throttled")
    if recent.count() >= PHONE_CODES_PER_HOUR:
        raise ValidationError(_("Too many codes asked for this number. Try again later."), code="throttled")
    waiting = (
        PickupCode.objects.select_related("order__customer")
        .filter(
            **{
                "status": PickupCode.Status.LIVE,
                "expires_at__gt": now,
                **_phone_filter(phone),
                **(order_filter or {}),
                "purpose": PickupCode.Purpose.PICKUP,
            }
        )
        .first()
    )
    otp = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        PhoneConfirmation.objects.create(
            place=place,
            site=site or device.site,
            phone=phone,
            code_hmac=_phone_code_hmac(place, phone, otp),
            expires_at=now + PHONE_CODE_TTL,
        )
        if waiting is not None:
            notification_send(
                template="pickup_phone_code",
                recipient=waiting.order.customer,
                channels=["sms"],
                region=waiting.order.region,
                secrets={"code": otp},
            )


def code_redeem_confirmed(
    *, code: str, phone: str, otp: str, device=None, site=None, order_filter=None, source: str = ""
) -> PickupCode:
    """The pickup code together with the one-time code sent to the order's phone: opens even while
    entry is locked for the source or the whole place. Only codes of that phone's orders are looked
    at, and at most PHONE_CODE_ATTEMPTS times per SMS (a slot is taken before comparing)."""
    from members.services import phone_normalise

    if (device is None) == (site is None):
        raise ValueError("redeem at a device or at a site")
    place_site = site or device.site
    place = _place(device, site)
    source = (source or place)[:120]
    phone = phone_normalise(phone)
    now = timezone.now()
    sent = (
        PhoneConfirmation.objects.filter(place=place, phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    reserved = (
        sent is not None
        and PhoneConfirmation.objects.filter(pk=sent.pk, used_at__isnull=True, attempts__lt=PHONE_CODE_ATTEMPTS).update(
            attempts=F("attempts") + 1
        )
        == 1
    )
    if not reserved:
        raise InvalidCode(_("The confirmation code has expired. Ask for a new one."), code="expired")
    if not hmac.compare_digest(sent.code_hmac, _phone_code_hmac(place, phone, (otp or "").strip())):
        raise InvalidCode(_("The confirmation code is not right."), code="wrong_confirmation")
    candidate = _find_live(code, {**_phone_filter(phone), **(order_filter or {}), "purpose": PickupCode.Purpose.PICKUP})
    if _use(candidate, device=device, site=site):
        PhoneConfirmation.objects.filter(pk=sent.pk).update(used_at=now)
        PickupAttempt.objects.create(
            device=device, site=place_site, source=source, succeeded=True, code=candidate, confirmed_by_phone=True
        )
        candidate.refresh_from_db()
        return candidate
    PickupAttempt.objects.create(device=device, site=place_site, source=source, confirmed_by_phone=True)
    raise InvalidCode(_("Invalid or expired code."), code="invalid")


def _staff_of(site):
    """The active staff who look after a place: administrators, store managers and service staff
    whose grants reach it."""
    from django.contrib.auth import get_user_model

    from core.scoping import user_can_reach

    for user in (
        get_user_model()
        .objects.filter(
            is_active=True, groups__name__in=["platform_admin", "regional_admin", "store_manager", "service_staff"]
        )
        .distinct()
    ):
        if user_can_reach(user, site):
            yield user


def _alert_staff(lock: EntryLock, place_site) -> None:
    from core.services import notification_send

    for user in _staff_of(place_site):
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
        purpose=PickupCode.Purpose.PICKUP,
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


COUNTER_KINDS = ("pickup", "counter")


def pickup_ready_at_counter(*, order, actor) -> PickupCode:
    """A paid pickup order (an online order, or a sale paid at the counter and collected later) is
    ready at its store: the customer gets a code by SMS and its QR."""
    from orders.models import OrderStatus
    from orders.services import order_transition

    with transaction.atomic():
        order.refresh_from_db(fields=["status"])
        if order.kind not in COUNTER_KINDS or order.site_id is None:
            raise ValidationError(_("Only a pickup order or a counter sale of a store can be collected at a counter."))
        if order.status != OrderStatus.PAID:
            raise ValidationError(
                _("Order %(number)s is not waiting to be collected: only a paid order gets a pickup code.")
                % {"number": order.number}
            )
        if order.customer_id is None:
            raise ValidationError(_("Order %(number)s has no customer to send the code to.") % {"number": order.number})
        # Locks the row and checks the status again: of two clerks issuing at once, one wins.
        order_transition(order=order, to_status=OrderStatus.FULFILLING, actor=actor, action="pickup.ready")
        row, code = code_issue(order=order)
        notify_code(order, code, row, order.site.name)
        return row


def recipient_for_phone(phone: str):
    """The customer a parcel or pickup code is for, by their phone number: found, or created
    (a staff user or an API partner named the number, not an anonymous caller; docs/adr/0017)."""
    from members.models import Customer
    from members.services import customer_by_phone, phone_normalise

    try:
        phone = phone_normalise(phone)
    except ValidationError:
        raise ValidationError({"recipient_phone": _("Enter the recipient's mobile number.")}) from None
    existing = customer_by_phone(phone)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Customer.objects.create(phone=phone)
    except IntegrityError:
        return customer_by_phone(phone)


def pickup_order_create(
    *, site, recipient_phone: str, actor, reference: str = "", partner=None, channel: str = ""
) -> tuple:
    """An order bought elsewhere (an online shop, a partner's platform) to collect at a store's
    counter: paid already, so it is free here; the recipient gets the code at once. Returns the
    order and its code row. Nothing is written when anything is refused."""
    from core.models import Site
    from orders.models import Channel, OrderKind, OrderStatus
    from orders.services import order_create, order_transition

    if site.kind != Site.Kind.STORE:
        raise ValidationError({"site": _("Pickup codes are collected at a store's counter.")})
    with transaction.atomic():
        customer = recipient_for_phone(recipient_phone)
        order = order_create(
            kind=OrderKind.PICKUP,
            actor=actor,
            site=site,
            customer=customer,
            channel=channel or (Channel.PARTNER if partner is not None else Channel.CONSOLE),
            external_reference=(reference or "")[:64],
            partner=partner,
        )
        order_transition(order=order, to_status=OrderStatus.PAID, actor=actor, action="pickup.paid_elsewhere")
        row = pickup_ready_at_counter(order=order, actor=actor)
        return order, row


def _counter_filter(site) -> dict:
    """Codes a counter takes: pickup codes of the store's counter orders (never a locker's code: that
    parcel is in the locker, not behind the counter)."""
    return {"order__site": site, "order__kind__in": COUNTER_KINDS, "purpose": PickupCode.Purpose.PICKUP}


def _counter_source(site, actor) -> str:
    return f"site:{site.pk}:user:{actor.pk}" if getattr(actor, "pk", None) else f"site:{site.pk}:counter"


def counter_redeem(*, site, code: str, actor):
    """A clerk takes the customer's code at the counter: the order is handed over, once. Wrong codes
    are counted per clerk (one clerk's typos do not lock the store's other counters)."""
    used = code_redeem(code=code, site=site, order_filter=_counter_filter(site), source=_counter_source(site, actor))
    return _hand_over(used, actor)


def counter_phone_confirmation_send(*, site, phone: str) -> None:
    phone_confirmation_send(phone=phone, site=site, order_filter=_counter_filter(site))


def counter_redeem_confirmed(*, site, code: str, phone: str, otp: str, actor):
    """The code with the one-time code the customer got on their phone: hands over even while code
    entry is locked for this clerk or the whole store."""
    used = code_redeem_confirmed(
        code=code,
        phone=phone,
        otp=otp,
        site=site,
        order_filter=_counter_filter(site),
        source=_counter_source(site, actor),
    )
    return _hand_over(used, actor)


def _hand_over(used: PickupCode, actor):
    from orders.models import OrderStatus
    from orders.services import order_transition

    order = used.order
    order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor, action="pickup.handed_over")
    return order


def code_regenerate(*, order, actor) -> PickupCode:
    """Staff send a new code (the old one dies at once), e.g. when the customer lost the message."""
    from core.services import audit_record
    from orders.models import OrderStatus
    from orders.services import lock_order

    refused = ValidationError(_("Only an order waiting for pickup gets a new code."))
    if not order.pickup_codes.filter(purpose=PickupCode.Purpose.PICKUP).exists():
        raise refused
    with transaction.atomic():
        # Checked on the locked row: a code sent while the expiry job ends the order (or a clerk
        # hands it over) would be a code for an order nobody can collect any more.
        if lock_order(order).status != OrderStatus.FULFILLING:
            raise refused
        row, code = code_issue(order=order)
        place = order.locker.bank.name if hasattr(order, "locker") else (order.site.name if order.site else "")
        notify_code(order, code, row, place)
        audit_record(actor=actor, action="pickup.code_regenerated", obj=order, region=order.region)
        return row


# --- Counter pickups nobody came for -----------------------------------------------------------
NOT_COLLECTED = "pickup.not_collected"
NOT_COLLECTED_REASON = _lazy("not collected: the pickup code expired")
PUT_BACK = "pickup.put_back"


def _uncollected_candidates(now):
    """Counter pickup orders still waiting whose every code is dead and expired before `now`, with
    none used: the grace period (per region) is checked per order."""
    from django.db.models import Exists, Max, OuterRef

    from orders.models import Order, OrderStatus

    codes = PickupCode.objects.filter(order=OuterRef("pk"), purpose=PickupCode.Purpose.PICKUP)
    alive = codes.filter(Q(status=PickupCode.Status.USED) | Q(status=PickupCode.Status.LIVE, expires_at__gt=now))
    return (
        Order.objects.filter(kind__in=COUNTER_KINDS, status=OrderStatus.FULFILLING, site__isnull=False)
        .filter(locker__isnull=True)
        .filter(Exists(codes.filter(status__in=[PickupCode.Status.LIVE, PickupCode.Status.EXPIRED])))
        .exclude(Exists(alive))
        .annotate(
            code_expired_at=Max(
                "pickup_codes__expires_at",
                filter=Q(
                    pickup_codes__purpose=PickupCode.Purpose.PICKUP,
                    pickup_codes__status__in=[PickupCode.Status.LIVE, PickupCode.Status.EXPIRED],
                ),
            )
        )
        .select_related("site__region", "region", "customer")
        .order_by("pk")
    )


def uncollected_expire(*, now=None) -> int:
    """Counter pickup orders whose code expired more than the region's grace hours ago
    ("pickup.uncollected_grace_hours") and that staff did not send a new code for: the code is
    marked expired, the order ends as failed ("not collected", as a locker parcel returned to its
    sender does), the customer is told and the store's staff are told to put the goods back.

    Running it again changes nothing. It never waits on a lock: an order or code that a clerk or
    customer is working on at that moment (a hand-over, a new code) is left for the next run, and
    the conditional updates decide between a collect and the expiry, so never both win."""
    from core.region_settings import region_setting
    from orders.models import Order, OrderStatus
    from orders.services import Actor, lock_order, order_transition

    now = now or timezone.now()
    ended = 0
    for candidate in _uncollected_candidates(now):
        grace = datetime.timedelta(hours=region_setting("pickup.uncollected_grace_hours", candidate.region_id))
        if candidate.code_expired_at > now - grace:
            continue  # staff can still send a new code
        with transaction.atomic():
            waiting = Order.objects.select_for_update(skip_locked=True).filter(
                pk=candidate.pk, status=OrderStatus.FULFILLING
            )
            if not list(waiting.values_list("pk", flat=True)):
                continue  # handed over meanwhile, or a clerk holds it right now: the next run looks again
            all_codes = set(
                PickupCode.objects.filter(order_id=candidate.pk, purpose=PickupCode.Purpose.PICKUP).values_list(
                    "pk", flat=True
                )
            )
            codes = list(
                PickupCode.objects.select_for_update(skip_locked=True).filter(
                    order_id=candidate.pk, purpose=PickupCode.Purpose.PICKUP
                )
            )
            if {row.pk for row in codes} != all_codes:
                continue  # a collect or a new code is under way: the next run looks again
            if any(
                row.status == PickupCode.Status.USED
                or (row.status == PickupCode.Status.LIVE and row.expires_at > now - grace)
                for row in codes
            ):
                continue
            PickupCode.objects.filter(pk__in=all_codes, status=PickupCode.Status.LIVE).update(
                status=PickupCode.Status.EXPIRED
            )
            order = lock_order(candidate.pk)
            order_transition(
                order=order,
                to_status=OrderStatus.FAILED,
                actor=Actor.system("expiry"),
                action=NOT_COLLECTED,
                reason=str(NOT_COLLECTED_REASON),
                data={
                    "code_expired_at": candidate.code_expired_at.isoformat(),
                    "grace_hours": int(grace.total_seconds() // 3600),
                },
                locked=True,
            )
            _tell_not_collected(order, candidate.site)
            ended += 1
    return ended


def _tell_not_collected(order, site) -> None:
    from core.services import notification_send

    if order.customer_id:
        notification_send(
            template="pickup_expired",
            recipient=order.customer,
            context={"order": order},
            channels=customer_channels(order.customer),
            region=order.region,
        )
    for user in _staff_of(site):
        notification_send(
            template="pickup_not_collected",
            recipient=user,
            context={"order": order, "site": site},
            region=site.region,
        )


def uncollected_put_back(*, order, actor):
    """Staff took a not-collected order's goods off the pickup shelf: noted once in the order's
    log, and the order leaves the queue's "put back" list."""
    from core.services import audit_record
    from orders.models import OrderStatus
    from orders.services import lock_order, order_note

    with transaction.atomic():
        locked = lock_order(order)
        events = locked.events.filter(action__in=[NOT_COLLECTED, PUT_BACK]).values_list("action", flat=True)
        if locked.status != OrderStatus.FAILED or set(events) != {NOT_COLLECTED}:
            raise ValidationError(
                _("Order %(number)s has no goods waiting to be put back.") % {"number": locked.number}
            )
        order_note(order=locked, actor=actor, action=PUT_BACK)
        audit_record(actor=actor, action=PUT_BACK, obj=locked, region=locked.region)
        return locked
