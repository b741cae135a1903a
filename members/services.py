"""Members: phone numbers, points and levels, RFM segments, feedback, and the customers' sign-in by
a one-time SMS code."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from decimal import ROUND_DOWN, Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import Customer, CustomerToken, Feedback, LoginCode, MemberLevel, PointsEntry
from orders.models import Order, OrderKind, OrderStatus

CODE_TTL = datetime.timedelta(minutes=5)
CODE_ATTEMPTS = 5


# --- Phone numbers ---------------------------------------------------------------------------
def phone_normalise(phone: str, region: str | None = None) -> str:
    """E.164, validated with libphonenumber; numbers without a country code are read as the
    deployment's (PHONE_REGION, default CN)."""
    try:
        parsed = phonenumbers.parse(phone or "", region or getattr(settings, "PHONE_REGION", "CN"))
    except phonenumbers.NumberParseException:
        raise ValidationError({"phone": _("Enter a valid phone number.")}) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError({"phone": _("Enter a valid phone number.")})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_variants(e164: str) -> list[str]:
    """The forms a stored number may have: E.164, and the national number older rows were kept in."""
    parsed = phonenumbers.parse(e164)
    return [e164, str(parsed.national_number)]


def customer_by_phone(e164: str) -> Customer | None:
    return Customer.objects.filter(phone__in=phone_variants(e164)).order_by("pk").first()


# --- Points and levels -----------------------------------------------------------------------
def points_per_unit(region=None) -> Decimal:
    """Points earned per 1.00 spent in `region` (operators set it per region; ADR 16)."""
    from core.region_settings import region_setting

    return Decimal(region_setting("points.earned_per_unit", region))


def points_value(region=None) -> Decimal:
    """Points that pay 1.00 in `region`."""
    from core.region_settings import region_setting

    return Decimal(region_setting("points.per_unit_redeemed", region))


def level_for(total_spent: Decimal) -> MemberLevel | None:
    return MemberLevel.objects.filter(min_spend__lte=total_spent).order_by("-min_spend").first()


def points_on_paid(change) -> None:
    """Orders listener: a paid order earns points (times the level's multiplier) once, adds to the
    customer's total spend and moves them up a level when they reach it."""
    if change.to_status != OrderStatus.PAID or change.kind == OrderKind.RECHARGE:
        return
    if change.customer_id is None and change.discounted is not None:
        return  # announced without a customer: nobody earns points
    order = Order.objects.select_related("customer").filter(pk=change.order_id).first()
    if order is None or order.customer_id is None:
        return
    spent = order.total - sum(
        (p.amount for p in order.payments.filter(provider="points", status="succeeded")), Decimal(0)
    )
    if spent <= 0:
        return
    customer = order.customer
    level = MemberLevel.objects.filter(level=customer.level).first()
    multiplier = level.points_multiplier if level else Decimal(1)
    earned = int((spent * points_per_unit(order.region_id) * multiplier).to_integral_value(rounding=ROUND_DOWN))
    try:
        with transaction.atomic():
            PointsEntry.objects.create(
                customer=customer, delta=earned, reason="earned", order=order, key=f"earn:{order.pk}"
            )
            Customer.objects.filter(pk=customer.pk).update(
                points=F("points") + earned, total_spent=F("total_spent") + spent
            )
    except IntegrityError:
        return  # this order already earned its points
    customer.refresh_from_db(fields=["total_spent", "level"])
    reached = level_for(customer.total_spent)
    if reached and reached.level > customer.level:
        Customer.objects.filter(pk=customer.pk, level__lt=reached.level).update(level=reached.level)


def points_spend(*, customer, points: int, key: str, order=None) -> PointsEntry:
    """Spend points (never below zero: a conditional update). The same key twice spends once."""
    existing = PointsEntry.objects.filter(key=key).first()
    if existing is not None:
        return existing
    if points <= 0:
        raise ValidationError(_("Spend at least one point."))
    with transaction.atomic():
        if not Customer.objects.filter(pk=customer.pk, points__gte=points).update(points=F("points") - points):
            raise ValidationError(_("Not enough points."))
        return PointsEntry.objects.create(customer=customer, delta=-points, reason="spent", order=order, key=key)


def points_give_back(*, customer, points: int, key: str, order=None) -> None:
    try:
        with transaction.atomic():
            PointsEntry.objects.create(customer=customer, delta=points, reason="refunded", order=order, key=key)
            Customer.objects.filter(pk=customer.pk).update(points=F("points") + points)
    except IntegrityError:
        pass


# --- RFM segments ----------------------------------------------------------------------------
SEGMENTS = ("champion", "loyal", "new", "at_risk", "lost", "regular")


def rfm_segment(*, recency_days: int, frequency: int, monetary: Decimal, first_days: int) -> str:
    if recency_days > 180:
        return "lost"
    if frequency == 1 and first_days <= 30:
        return "new"
    if recency_days <= 30 and frequency >= 5:
        return "champion"
    if recency_days > 90 and frequency >= 3:
        return "at_risk"
    if frequency >= 5:
        return "loyal"
    return "regular"


def rfm_recompute(*, now=None) -> int:
    """Recency, frequency and money of the last year's paid orders → each customer's segment,
    kept as a tag. Run nightly by beat; the same day twice gives the same result."""
    now = now or timezone.now()
    year_ago = now - datetime.timedelta(days=365)
    stats = (
        Order.objects.filter(customer__isnull=False, paid_at__isnull=False)
        .exclude(kind=OrderKind.RECHARGE)
        .values("customer")
        .annotate(
            last=Max("paid_at"),
            frequency=Count("pk", filter=Q(paid_at__gte=year_ago)),
            money=Sum("total", filter=Q(paid_at__gte=year_ago)),
        )
    )
    rows = {row["customer"]: row for row in stats}
    changed = 0
    for customer in Customer.objects.filter(pk__in=rows.keys()).only("pk", "created_at", "segment", "tags"):
        row = rows[customer.pk]
        segment = rfm_segment(
            recency_days=(now - row["last"]).days,
            frequency=row["frequency"],
            monetary=row["money"] or Decimal(0),
            first_days=(now - customer.created_at).days,
        )
        tags = [t for t in customer.tags if t not in SEGMENTS] + [segment]
        if customer.segment != segment or customer.tags != tags:
            Customer.objects.filter(pk=customer.pk).update(segment=segment, tags=tags)
            changed += 1
    return changed


# --- Feedback --------------------------------------------------------------------------------
def feedback_submit(*, customer, rating: int, comment: str = "", order=None, device=None, product=None, site=None):
    if not 1 <= int(rating) <= 5:
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    if order is not None and order.customer_id != customer.pk:
        raise ValidationError({"order": _("This is not your order.")})
    place = site or (order.site if order else None) or (device.site if device else None)
    region = (order.region if order else None) or (place.region if place else None) or customer.home_region
    if region is None:
        raise ValidationError(_("Say which order, machine or store this is about."))
    clerk = order.created_by if order is not None else None
    subject = "order" if order else "machine" if device else "product" if product else "store"
    return Feedback.objects.create(
        customer=customer,
        order=order,
        device=device,
        product=product,
        site=place,
        region=region,
        clerk=clerk,
        rating=int(rating),
        comment=comment[:4000],
        subject=subject,
    )


def feedback_reply(*, feedback: Feedback, actor, reply: str, close: bool = False) -> Feedback:
    if not reply.strip():
        raise ValidationError({"reply": _("Write a reply.")})
    Feedback.objects.filter(pk=feedback.pk).update(
        reply=reply.strip()[:4000],
        replied_by=actor,
        replied_at=timezone.now(),
        status="closed" if close else "replied",
    )
    feedback.refresh_from_db()
    from core.services import notification_send

    if feedback.customer_id:
        notification_send(
            template="feedback_reply",
            recipient=feedback.customer,
            context={"feedback": feedback},
            channels=[feedback.customer.preferred_channel or "sms"],
            region=feedback.region,
        )
    return feedback


# --- Sign-in by SMS code ---------------------------------------------------------------------
def _hash(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class SignInCodeLimited(Exception):
    """A send limit refused the code: `message` is for the person asking, `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _sign_in_sms_limits(*, phone: str, client_address: str) -> list[tuple[str, str, str]]:
    """Per number, per client address, then for the whole deployment; most specific first, the
    same order on every call (see `rate_take`)."""
    limits = settings.SIGN_IN_SMS_LIMITS
    rows = [("number", f"sign-in-sms:number:{rate}:{phone}", rate) for rate in limits.get("number", [])]
    if client_address:
        rows += [
            ("address", f"sign-in-sms:address:{rate}:{client_address}", rate) for rate in limits.get("address", [])
        ]
    rows += [("global", f"sign-in-sms:global:{rate}", rate) for rate in limits.get("global", [])]
    return rows


def _limited_message(name: str) -> str:
    if name == "number":
        return _("Too many codes asked for this number. Try again later.")
    if name == "address":
        return _("Too many codes were asked from your network. Try again later.")
    return _("We are sending too many sign-in codes right now. Try again in a few minutes.")


def login_code_request(*, phone: str, client_address: str = "") -> None:
    """Send a 6-digit code by SMS, valid 5 minutes, within the send limits per number, per client
    address and in all (settings.SIGN_IN_SMS_LIMITS). Creates no customer: the code waits under
    the number, and the customer is found or created only when the code is verified."""
    from core.services import RateLimited, notification_send_to_address, rate_take

    phone = phone_normalise(phone)
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    try:
        with transaction.atomic():
            rate_take(limits=_sign_in_sms_limits(phone=phone, client_address=client_address))
            LoginCode.objects.create(phone=phone, code_hash=_hash(f"{phone}:{code}"), expires_at=now + CODE_TTL)
            notification_send_to_address(
                template="customer_login_code", channel="sms", address=phone, secrets={"code": code}
            )
    except RateLimited as limited:
        raise SignInCodeLimited(_limited_message(limited.name), limited.retry_after) from None


def login_code_verify(*, phone: str, code: str) -> tuple[Customer, str]:
    """A valid, unexpired, unused code gives a token (shown once). Five wrong tries burn the code."""
    phone = phone_normalise(phone)
    now = timezone.now()
    login = (
        LoginCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).order_by("-created_at").first()
    )
    # Reserve the attempt before comparing, with a conditional UPDATE that commits on its own
    # (autocommit, outside any atomic block): the "wrong code" error below must not roll it back,
    # and parallel guesses cannot all read a count under the limit — at most CODE_ATTEMPTS are
    # ever compared.
    reserved = (
        login is not None
        and LoginCode.objects.filter(pk=login.pk, used_at__isnull=True, attempts__lt=CODE_ATTEMPTS).update(
            attempts=F("attempts") + 1
        )
        == 1
    )
    if not reserved:
        raise ValidationError({"code": _("The code has expired. Ask for a new one.")})
    if not hmac.compare_digest(login.code_hash, _hash(f"{phone}:{(code or '').strip()}")):
        raise ValidationError({"code": _("The code is not right.")})
    if not LoginCode.objects.filter(pk=login.pk, used_at__isnull=True).update(used_at=now):
        raise ValidationError({"code": _("The code has expired. Ask for a new one.")})
    customer = customer_by_phone(phone) or _customer_for_verified_phone(phone)
    if not customer.is_active:
        raise ValidationError(_("This account is closed."))
    key = secrets.token_urlsafe(32)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    return customer, key


def _customer_for_verified_phone(phone: str) -> Customer:
    """The first sign-in of a number creates its customer, once: a parallel first sign-in with
    another code of the same number finds the row the other one created."""
    try:
        with transaction.atomic():
            return Customer.objects.create(phone=phone)
    except IntegrityError:
        return customer_by_phone(phone)


def customer_for_token(key: str) -> Customer | None:
    token = (
        CustomerToken.objects.select_related("customer")
        .filter(key_hash=hashlib.sha256(key.encode()).hexdigest(), revoked=False)
        .first()
    )
    if token is None or not token.customer.is_active:
        return None
    CustomerToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.customer
