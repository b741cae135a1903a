"""Payouts through the providers' transfer APIs (answered here, nothing leaves the machine), money
coming back when a payout fails, automatic settlement on schedule, and the refusals finance and
partners meet."""

import datetime
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting import accruals, ledger
from accounting.models import Partner, Withdrawal
from accounting.tasks import settlement_run
from tests.accounting.builders import accrual_for
from tests.wallet.test_online_providers import Keys

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def wechat(settings, monkeypatch):
    settings.PAYMENT_PROVIDERS = Keys().settings()
    calls = []

    def answer(self, **kwargs):
        calls.append(kwargs)
        if kwargs["openid"] == "o-refused":
            return 403, json.dumps({"code": "NO_AUTH", "message": "商户号没有开通商家转账权限"})
        return 200, json.dumps(
            {
                "out_bill_no": kwargs["out_bill_no"],
                "transfer_bill_no": "1330000071100999991182020050700019480001",
                "state": "ACCEPTED",
            }
        )

    monkeypatch.setattr("wechatpayv3.WeChatPay.mch_transfer_bills", answer)
    return calls


def _ready(world, *, openid, settlement="manual"):
    partner = Partner.objects.create(
        name=f"WeChat partner {openid}",
        kind="investor",
        region=world.east,
        payout_method="wechat",
        settlement=settlement,
    )
    partner.payout_account = openid
    partner.save()
    accrual_for(partner, total=D("800.00"))  # 80.00 at 10 %
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=8))
    return partner


def _ask_and_approve(client, world, partner, amount):
    from accounting.withdrawals import withdrawal_request

    withdrawal = withdrawal_request(partner=partner, amount=D(amount), actor=None)
    client.force_login(world.finance)
    client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "approve"})
    withdrawal.refresh_from_db()
    return withdrawal


def test_a_wechat_payout_is_sent_once_in_fen_and_writes_off_the_accrual(world, client, wechat):
    partner = _ready(world, openid="o-MYE42l80oelYMDE34nYD456Xoy")
    withdrawal = _ask_and_approve(client, world, partner, "80.00")
    assert withdrawal.status == "paid" and withdrawal.payout_reference.startswith("1330000071")
    assert [(c["openid"], c["transfer_amount"]) for c in wechat] == [("o-MYE42l80oelYMDE34nYD456Xoy", 8000)]
    assert ledger.balances(partner=partner).written_off == D("80.00")
    accrual = partner.accruals.get()
    assert accrual.status == "settled" and accrual.write_offs.get().withdrawal == withdrawal


def test_a_refused_payout_returns_the_money_to_available(world, client, wechat):
    partner = _ready(world, openid="o-refused")
    withdrawal = _ask_and_approve(client, world, partner, "50.00")
    assert withdrawal.status == "failed" and "商家转账" in withdrawal.reason
    balances = ledger.balances(partner=partner)
    assert (balances.available, balances.in_payout, balances.written_off) == (D("80.00"), D("0.00"), D("0"))
    assert list(withdrawal.events.values_list("action", flat=True)) == ["requested", "approved", "sent", "failed"]


def test_automatic_settlement_pays_daily_partners_once_a_day(world, wechat):
    daily = _ready(world, openid="o-daily", settlement="daily")
    manual = _ready(world, openid="o-manual")
    settlement_run.delay()
    settlement_run.delay()  # the beat fires again the same day: nothing more
    assert list(Withdrawal.objects.filter(partner=daily).values_list("status", "amount", "automatic")) == [
        ("paid", D("80.00"), True)
    ]
    assert not Withdrawal.objects.filter(partner=manual).exists()


def test_finance_refusals_are_clear_and_change_nothing(world, client):
    partner = Partner.objects.create(name="Bank partner", kind="agent", region=world.east, payout_method="bank")
    accrual_for(partner, total=D("300.00"))
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=8))
    client.force_login(world.finance)
    assert client.post(reverse("accounting:withdrawal-act", args=[999999]), {"action": "confirm"}).status_code == 404
    from accounting.withdrawals import withdrawal_request

    withdrawal = withdrawal_request(partner=partner, amount=D("20.00"), actor=None)
    page = client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "confirm"}, follow=True)
    assert "is Waiting for review and cannot be paid" in page.content.decode()
    page = client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "reject"}, follow=True)
    assert "Say why the withdrawal is rejected." in page.content.decode()
    client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "approve"})
    again = client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "approve"}, follow=True)
    assert "is already Approved" in again.content.decode()
    withdrawal.refresh_from_db()
    assert withdrawal.status == "approved" and withdrawal.approvals.count() == 1
    # Another region's finance cannot reach it at all.
    from core.services import scope_grant
    from tests.factories import UserFactory

    west_finance = UserFactory(role="finance")
    scope_grant(actor=None, user=west_finance, target=world.west, action="view")
    client.force_login(west_finance)
    assert client.get(reverse("accounting:withdrawal-detail", args=[withdrawal.pk])).status_code == 404
    assert (
        client.post(reverse("accounting:withdrawal-act", args=[withdrawal.pk]), {"action": "confirm"}).status_code
        == 404
    )


def test_finance_downloads_a_partners_monthly_statement(world, client):
    partner = Partner.objects.create(name="华东代理 Statement partner", kind="agent", region=world.east)
    accrual = accrual_for(partner, total=D("250.00"))
    client.force_login(world.finance)
    month = timezone.localdate().strftime("%Y-%m")
    url = reverse("accounting:partner-statement", args=[partner.pk])
    xlsx = client.get(url, {"month": month, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith(f'{month}.xlsx"')
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == accrual.order.number and D(str(rows[1][7])) == D("25.00")
    assert client.get(url, {"month": month, "format": "pdf"}).content.startswith(b"%PDF")
    assert client.get(url, {"month": "2026-13", "format": "pdf"}).status_code == 404
    assert client.get(url, {"month": month, "format": "doc"}).status_code == 404


def test_a_refund_after_payout_takes_available_below_zero_in_red_until_later_earnings(
    world, client, django_capture_on_commit_callbacks
):
    from accounting.rules import rule_create
    from accounting.withdrawals import payout_confirm, withdrawal_approve, withdrawal_request
    from orders.services import refund_create
    from tests.factories import SiteFactory, make_order

    site = SiteFactory(region=world.east)
    rule_create(actor=None, partner=world.partner, site=site, basis="net_refunds", rate=D("10"))
    with django_capture_on_commit_callbacks(execute=True):
        first = make_order(site=site, total=D("200.00"), paid=True)
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=8))
    withdrawal = withdrawal_request(partner=world.partner, amount=D("20.00"), actor=None)
    withdrawal_approve(withdrawal=withdrawal, actor=world.finance)
    payout_confirm(withdrawal=withdrawal, actor=world.finance)
    with django_capture_on_commit_callbacks(execute=True):
        refund_create(order=first, amount=D("50.00"), actor=None, reason="returned after the payout")
    assert ledger.balances(partner=world.partner).available == D("-5.00")
    client.force_login(world.partner_user)
    page = client.get(reverse("accounting:portal")).content.decode()
    assert 'class="value negative" data-balance="available">-5.00<' in page
    with django_capture_on_commit_callbacks(execute=True):
        make_order(site=site, total=D("100.00"), paid=True)
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=8))
    assert ledger.balances(partner=world.partner).available == D("5.00")
    assert ledger.ledger_total() == 0


def test_a_partners_dashboard_shows_what_is_available_pending_on_its_way_and_earned(
    world, client, django_capture_on_commit_callbacks
):
    """The partner's first page: available to withdraw with the way to ask for it, pending and in
    payout beside it, and two weeks of earnings net of refunds, only their own."""
    from accounting.rules import rule_create
    from orders.services import refund_create
    from tests.factories import SiteFactory, make_order

    site = SiteFactory(region=world.east)
    rule_create(actor=None, partner=world.partner, site=site, basis="net_refunds", rate=D("10"))
    rule_create(actor=None, partner=world.other_partner, site=site, basis="net_refunds", rate=D("50"))
    with django_capture_on_commit_callbacks(execute=True):
        make_order(site=site, total=D("200.00"), paid=True)
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=8))  # 20.00 available
    with django_capture_on_commit_callbacks(execute=True):
        second = make_order(site=site, total=D("80.00"), paid=True)  # 8.00 pending
        refund_create(order=second, amount=D("30.00"), actor=None, reason="damaged")  # 3.00 back
    client.force_login(world.partner_user)
    page = client.get(reverse("core:dashboard")).content.decode()
    available = page.split('data-card="available-to-withdraw"')[1].split("</section>")[0]
    assert 'data-value="20.00"' in available
    assert "Pending" in available and ">5.00<" in available and "In payout" in available
    assert reverse("accounting:portal-withdrawals") in available
    earned = page.split('data-card="earned-trend"')[1].split("</section>")[0]
    assert 'data-value="25.00"' in earned  # 20.00 + 8.00 - 3.00; the other partner's 50 % is not in it
