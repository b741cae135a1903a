"""Payment codes: how a member consents to pay at a till with wallet balance or points.

The app asks for a code (`POST /api/v1/customer/pay-code/`) and shows it; the clerk scans or types
it as the payment's reference. The code names the member, lives two minutes and pays one order
once (a conditional UPDATE marks it used, so two tills racing with the same code cannot both
spend it). A clerk who only knows a phone number cannot spend a member's money."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import PayCode

PAY_CODE_TTL = datetime.timedelta(minutes=2)
PAY_CODE_DIGITS = 18


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def pay_code_issue(*, customer) -> tuple[str, datetime.datetime]:
    """A fresh code for `customer`; the ones they asked for before stop working."""
    now = timezone.now()
    PayCode.objects.filter(customer=customer, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    code = "".join(secrets.choice("0123456789") for _ in range(PAY_CODE_DIGITS))
    row = PayCode.objects.create(customer=customer, code_hash=_hash(code), expires_at=now + PAY_CODE_TTL)
    return code, row.expires_at


def pay_code_use(*, code: str, order) -> PayCode:
    """Spend `code` on `order` (whose customer must be the code's member), once. Refused with a
    clear message and nothing changed when it is unknown, expired, used or someone else's."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    row = PayCode.objects.filter(code_hash=_hash(code)).first() if len(code) == PAY_CODE_DIGITS else None
    if row is None:
        raise ValidationError({"reference": _("Scan the payment code in the member's app.")})
    if row.used_for_id == order.pk:
        return row  # the same payment retried
    if order.customer_id != row.customer_id:
        raise ValidationError({"reference": _("This payment code belongs to another member than the order's.")})
    now = timezone.now()
    if not PayCode.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, used_for=order
    ):
        raise ValidationError({"reference": _("This payment code has expired or was used. Ask for a new one.")})
    return row


def pay_code_required(payment) -> bool:
    """Whether `payment` is taken at a till (staff.counter marks those), where the member's
    consent to spend their balance or points is their payment code. The app, machines and
    stations act for the member; a rental billed at its return was agreed to when it started."""
    return bool((payment.data or {}).get("till"))
