"""Our side of the statement fixtures in tests/accounting/statements/: payments and refunds with
the references the providers' files name, settled on the fixture day (2026-11-30, Beijing)."""

import datetime
import pathlib
from decimal import Decimal

from django.utils import timezone

from orders.models import Payment, Refund
from orders.services import Actor, payment_confirm
from tests.factories import make_order

STATEMENTS = pathlib.Path(__file__).parent / "statements"
DAY = datetime.date(2026, 11, 30)
FILES = {
    "wechat": "wechat_tradebill_20261130.csv",
    "alipay": "alipay_account_20261130.csv",
    "stripe": "stripe_balance_transactions_20261130.csv",
}


def statement_bytes(name: str) -> bytes:
    return (STATEMENTS / name).read_bytes()


def at(hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(DAY, datetime.time(hour, minute)))


def paid(site, provider: str, amount: str, reference: str, *, hour: int = 10, transaction_id: str = "") -> Payment:
    """An order paid online as the provider's notice would confirm it (payment_confirm)."""
    order = make_order(site=site, total=Decimal(amount))
    payment = Payment.objects.create(
        order=order,
        provider=provider,
        amount=Decimal(amount),
        reference=reference,
        data={"transaction_id": transaction_id} if transaction_id else {},
    )
    payment = payment_confirm(payment=payment, actor=Actor.system("test notify"))
    Payment.objects.filter(pk=payment.pk).update(succeeded_at=at(hour))
    payment.refresh_from_db()
    return payment


def refunded(payment: Payment, amount: str, *, reference: str = "", hour: int = 16) -> Refund:
    """A refund the provider accepted (its own refund id in `reference`)."""
    return Refund.objects.create(
        order=payment.order,
        payment=payment,
        amount=Decimal(amount),
        status=Refund.Status.SUCCEEDED,
        reason="test",
        reference=reference,
        succeeded_at=at(hour),
    )


def wechat_side(site):
    match = paid(site, "wechat", "10.00", "WX-MATCH")
    paid(site, "wechat", "12.50", "WX-AMOUNT")
    paid(site, "wechat", "20.00", "WX-FEE")
    paid(site, "wechat", "8.00", "WX-OURS", hour=12)
    refunded(match, "3.00", reference="50300000012026113000001")
    return match


def alipay_side(site):
    match = paid(site, "alipay", "10.00", "ALI-MATCH")
    paid(site, "alipay", "20.00", "ALI-FEE")
    paid(site, "alipay", "9.00", "ALI-OURS")
    refunded(match, "4.00", reference="2026113022001401000000000001")
    return match


def stripe_side(site):
    match = paid(site, "stripe", "10.00", "ST-MATCH")
    paid(site, "stripe", "16.00", "ST-AMOUNT")
    refunded(match, "2.00", reference="re_3QrefundAAA")
    return match
