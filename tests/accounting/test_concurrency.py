"""Commission money under concurrency, on PostgreSQL, through the doors users and workers use:
the partner portal, the withdrawal review page, and the accrual task delivered more than once."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounting import accruals, ledger
from accounting.models import Accrual, CommissionTransaction, Partner, Withdrawal
from accounting.rules import rule_create
from accounting.tasks import order_accrue
from accounting.withdrawals import withdrawal_request
from core.services import scope_grant
from tests.accounting.builders import accrual_for
from tests.factories import SiteFactory, UserFactory, make_order
from tests.wallet.test_online_providers import Keys

D = Decimal
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(count, work):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _partner_with_available(world, amount_paid, method="bank", account="6222000011112222"):
    partner = Partner.objects.create(name="Racing partner", kind="agent", region=world.east, payout_method=method)
    partner.payout_account = account
    partner.save()
    user = UserFactory(role="partner")
    partner.users.add(user)
    accrual_for(partner, total=D(amount_paid))  # a 10 % gross rule
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=30))
    return partner, user


def test_twenty_withdrawals_of_ten_from_seventy_available_give_seven(world, settings):
    settings.ACCOUNTING = {"WITHDRAWAL_MIN": "10.00", "WITHDRAWAL_FEE_RATE": "0"}
    partner, user = _partner_with_available(world, "700.00")
    assert ledger.balances(partner=partner).available == D("70.00")

    def ask(_index):
        client = Client()
        client.force_login(user)
        return client.post(reverse("accounting:portal-withdrawals"), {"amount": "10.00"})

    responses = _race(20, ask)
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert sorted(r.status_code for r in responses) == [200] * 13 + [302] * 7
    refused = [r.content.decode() for r in responses if r.status_code == 200]
    assert all("is available; 10.00 was asked for" in text for text in refused)
    assert Withdrawal.objects.filter(partner=partner).count() == 7
    balances = ledger.balances(partner=partner)
    assert (balances.available, balances.in_payout) == (D("0.00"), D("70.00"))
    assert ledger.ledger_total() == 0


@pytest.mark.parametrize("amount,approvals", [("60.00", 1), ("6000.00", 2)])
def test_two_finance_users_approving_at_once_pay_once(world, settings, monkeypatch, amount, approvals):
    settings.ACCOUNTING = {"WITHDRAWAL_MIN": "10.00", "TWO_PERSON_THRESHOLD": "5000.00"}
    settings.PAYMENT_PROVIDERS = Keys().settings()
    sent = []

    def transfer(self, out_biz_no, payee_type, payee_account, amount, **kwargs):
        sent.append(out_biz_no)
        return {"code": "10000", "order_id": f"ALI{len(sent)}", "out_biz_no": out_biz_no}

    monkeypatch.setattr("alipay.AliPay.api_alipay_fund_trans_toaccount_transfer", transfer)
    partner, _user = _partner_with_available(world, "70000.00", method="alipay", account="racer@example.cn")
    withdrawal = withdrawal_request(partner=partner, amount=D(amount), actor=None)
    assert withdrawal.approvals_required == approvals
    second = UserFactory(role="finance")
    scope_grant(actor=None, user=second, target=world.root, action="view")
    reviewers = [world.finance, second]

    def approve(index):
        client = Client()
        client.force_login(reviewers[index])
        return client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "approve"})

    responses = _race(2, approve)
    assert all(not isinstance(r, Exception) and r.status_code == 302 for r in responses), responses
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert sent == [withdrawal.number]
    assert CommissionTransaction.objects.filter(withdrawal=withdrawal, kind="payout").count() == 1
    assert withdrawal.approvals.count() == approvals
    assert ledger.balances(partner=partner).in_payout == D("0.00")
    assert ledger.ledger_total() == 0


def test_an_accrual_task_delivered_three_times_posts_each_share_once(world):
    site = SiteFactory(region=world.east)
    partners = [Partner.objects.create(name=f"P{i}", kind="agent", region=world.east) for i in range(3)]
    for index, partner in enumerate(partners):
        rule_create(actor=None, partner=partner, site=site, basis="gross", rate=D(10 + index))
    order = make_order(site=site, total=D("100.00"), paid=True)

    results = _race(3, lambda _i: order_accrue.apply(args=(order.pk,)).get())
    assert all(not isinstance(r, Exception) for r in results), results
    assert Accrual.objects.filter(order=order).count() == 3
    assert CommissionTransaction.objects.filter(accrual__order=order, kind="accrual").count() == 3
    assert sorted(ledger.balances(partner=p).pending for p in partners) == [D("10.00"), D("11.00"), D("12.00")]
    assert ledger.ledger_total() == 0
