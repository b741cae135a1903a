"""Accounting settings, each with its default (`settings.ACCOUNTING` overrides any of them)."""

from decimal import Decimal

from django.conf import settings

DEFAULTS = {
    # The refund window: an accrual stays pending this many days after the order was paid.
    "FREEZE_DAYS": 7,
    "WITHDRAWAL_MIN": Decimal("10.00"),
    "WITHDRAWAL_DAILY_MAX": Decimal("50000.00"),
    # The fee kept from each withdrawal: a rate of the amount (0.001 = 0.1 %) and a minimum.
    "WITHDRAWAL_FEE_RATE": Decimal("0"),
    "WITHDRAWAL_FEE_MIN": Decimal("0.00"),
    # Above this amount two different finance users must approve (ASVS 2.3.5).
    "TWO_PERSON_THRESHOLD": Decimal("5000.00"),
    # WeChat Pay's transfer scene the merchant registered for commission payouts.
    "WECHAT_TRANSFER_SCENE": "1005",
}


def setting(name: str):
    value = (getattr(settings, "ACCOUNTING", None) or {}).get(name, DEFAULTS[name])
    return Decimal(str(value)) if isinstance(DEFAULTS[name], Decimal) else value
