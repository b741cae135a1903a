"""Recharge orders: bonus tiers, crediting once when paid, refunds that claw back the bonus."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from orders.models import OrderStatus
from orders.services import payment_collect
from tests.factories import CustomerFactory, SiteFactory
from wallet import services
from wallet.models import BonusTier, LedgerTransaction
from wallet.recharges import recharge_refund, recharge_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    site = SiteFactory()
    BonusTier.objects.create(region=site.region, min_amount=Decimal("50"), bonus=Decimal("5"))
    BonusTier.objects.create(region=site.region, min_amount=Decimal("100"), bonus=Decimal("10"))
    return site


def _paid_recharge(site, customer, amount, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        recharge = recharge_start(customer=customer, amount=amount, actor=None, site=site)
        payment_collect(order=recharge.order, provider="cash", amount=recharge.amount, actor=None)
    recharge.refresh_from_db()
    recharge.order.refresh_from_db()
    return recharge


def test_recharge_of_100_earns_the_best_tier_and_credits_once(site, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    recharge = _paid_recharge(site, customer, "100", django_capture_on_commit_callbacks)
    assert recharge.bonus == Decimal("10.00") and recharge.order.status == OrderStatus.COMPLETED
    assert services.balances(customer=customer) == services.Balances(
        Decimal("100.00"), Decimal("10.00"), Decimal("0.00")
    )
    # The order listener running again (a retried event) changes nothing.
    from orders.events import OrderChanged
    from wallet.recharges import recharge_on_paid

    order = recharge.order
    recharge_on_paid(
        OrderChanged(order.pk, order.number, "recharge", order.region_id, order.site_id, None, "new", "paid", "x")
    )
    assert LedgerTransaction.objects.filter(customer=customer, kind="recharge").count() == 1


def test_refunding_a_recharge_of_100_plus_10_leaves_paid_and_bonus_at_zero(site, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    recharge = _paid_recharge(site, customer, "100", django_capture_on_commit_callbacks)
    recharge_refund(recharge=recharge, actor=None, reason="customer asked")
    assert services.balances(customer=customer) == services.Balances(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    recharge.order.refresh_from_db()
    assert recharge.order.status == OrderStatus.REFUNDED
    assert recharge.order.refunded_amount == Decimal("100.00")


def test_a_spent_recharge_cannot_be_refunded_and_nothing_changes(site, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    recharge = _paid_recharge(site, customer, "100", django_capture_on_commit_callbacks)
    services.wallet_pay(customer=customer, amount="30", key="spend")
    with pytest.raises(services.InsufficientFunds, match="spent"):
        recharge_refund(recharge=recharge, actor=None, reason="customer asked")
    assert services.balances(customer=customer).paid == Decimal("70.00")
    recharge.refresh_from_db()
    assert recharge.refunded is None


def test_paying_an_order_with_the_wallet_and_refunding_it(site, django_capture_on_commit_callbacks):
    from orders.services import refund_create
    from tests.factories import make_order

    customer = CustomerFactory()
    _paid_recharge(site, customer, "50", django_capture_on_commit_callbacks)  # 50 paid + 5 bonus
    order = make_order(site=site, total=Decimal("53.00"), customer=customer)
    payment = payment_collect(order=order, provider="wallet", amount=Decimal("53.00"), actor=None)
    assert payment.status == "succeeded"
    assert services.balances(customer=customer).spendable == Decimal("2.00")
    refund_create(order=order, amount=Decimal("53.00"), actor=None, reason="out of stock")
    assert services.balances(customer=customer) == services.Balances(Decimal("50.00"), Decimal("5.00"), Decimal("0.00"))
    broke = make_order(site=site, total=Decimal("99.00"), customer=customer)
    failed = payment_collect(order=broke, provider="wallet", amount=Decimal("99.00"), actor=None)
    assert failed.status == "failed"
    assert services.balances(customer=customer).spendable == Decimal("55.00")


@pytest.mark.parametrize("amount", ["0", "0.5", "5000.01", "x"])
def test_out_of_range_recharges_are_refused(site, amount):
    with pytest.raises(ValidationError):
        recharge_start(customer=CustomerFactory(), amount=amount, actor=None, site=site)
