"""A month of revenue sharing with every figure computed by hand (issue 18, "Done when").

Finance sets up four revenue partners and their rules in the console: a two-level agent chain (the
province agent on the root region, gross paid, 5 % with 8 % above 300.00 a month; the city agent
on East, net of refunds, 10 %), the owner of site S1 (net of payment fees, 20 %) and the investor
of machine D1 (gross profit, 30 %). Two orders are paid, the freeze period passes (the beat job
releases them), finance raises the city agent to 12 % (a new version), two more orders are paid and
one of them is partly refunded. The partners withdraw from their portal; finance approves, rejects,
pays through Alipay and through a bank file (each withdrawal keeps a fee of 1 %, at least 1.00).

    order  site/device  paid    fee (card .38%)  cost    wave
    O1     S1 / D1      100.00  0.38             40.00   before the change, released
    O2     S2 / D2      100.00  0 (cash)         50.00   before the change, released
    O3     S1 / D1      200.00  0.76             90.00   after the change, refunded 50.00
    O4     S2 / D2       80.00  0 (cash)         30.00   after the change

    province agent (gross 5 %, 8 % above 300.00 a month; gross shares are not reversed)
      O1 5.00  O2 5.00  O3 100×5% + 100×8% = 13.00  O4 80×8% = 6.40
      available 10.00, pending 19.40
    city agent (net of refunds; v1 10 %, v2 12 %)
      O1 10.00  O2 10.00  O3 24.00 − 24×50/200 = 6.00 reversed  O4 9.60
      available 20.00 − 15.00 withdrawn (14.00 sent, 1.00 fee) = 5.00, pending 27.60, written off 15.00 (O1 10.00 + O2 5.00)
    site owner S1 (net of fees 20 %)
      O1 99.62×20% = 19.92  O3 199.24×20% = 39.85, reversed 39.85×¼ = 9.96
      available 19.92 − 19.92 paid (18.92 sent, 1.00 fee) = 0.00, pending 29.89, written off 19.92
    investor D1 (gross profit 30 %)
      O1 (99.62−40)×30% = 17.89  O3 (199.24−90)×30% = 32.77, reversed 8.19
      available 17.89 (its withdrawal was rejected), pending 24.58
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounting import ledger
from accounting.models import Accrual, CommissionAccount, Partner, SharingRule, Withdrawal
from accounting.tasks import accruals_release
from core.forms import WINDOW_FORMAT
from orders.services import LineSpec, order_create, payment_collect, refund_create
from tests.factories import DeviceFactory, SiteFactory, UserFactory
from tests.wallet.test_online_providers import Keys

D = Decimal
pytestmark = pytest.mark.django_db


@pytest.fixture
def alipay(settings, monkeypatch):
    settings.PAYMENT_PROVIDERS = Keys().settings()
    sent = []

    def transfer(self, out_biz_no, payee_type, payee_account, amount, **kwargs):
        sent.append({"out_biz_no": out_biz_no, "identity": payee_account, "amount": amount})
        return {"code": "10000", "msg": "Success", "order_id": f"2026120511{len(sent):08d}", "out_biz_no": out_biz_no}

    # Alipay's answer to 单笔转账到支付宝账户, given here: nothing leaves the machine.
    monkeypatch.setattr("alipay.AliPay.api_alipay_fund_trans_toaccount_transfer", transfer)
    return sent


def _pay(site, device, price, cost, method):
    order = order_create(
        kind="counter",
        actor=None,
        site=site,
        device=device,
        lines=[LineSpec(description="Item", unit_price=D(price), cost_price=D(cost))],
    )
    payment_collect(order=order, provider=method, amount=D(price), actor=None, reference="T-1")
    return order


def _partner(client, *, name, kind, region, method="bank", account="6222020000000001", users=()):
    response = client.post(
        reverse("accounting:partner-create"),
        {
            "name": name,
            "kind": kind,
            "region": region.pk,
            "payout_method": method,
            "payout_name": name,
            "bank_name": "ICBC" if method == "bank" else "",
            "payout_account": account,
            "settlement": "manual",
            "users": [user.pk for user in users],
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Partner.objects.get(name=name)


def _rule(client, partner, basis, rate, valid_from, **scope):
    data = {"partner": partner.pk, "basis": basis, "method": "percent", "rate": rate, "valid_from": valid_from}
    data.update({key: value.pk if hasattr(value, "pk") else value for key, value in scope.items()})
    return client.post(reverse("accounting:rule-create"), data)


def _balances(partner):
    values = ledger.balances(partner=partner)
    return (values.pending, values.available, values.written_off)


def test_a_month_of_sharing_matches_the_hand_computed_figures(
    world, client, settings, alipay, django_capture_on_commit_callbacks
):
    settings.ACCOUNTING = {"WITHDRAWAL_FEE_RATE": "0.01", "WITHDRAWAL_FEE_MIN": "1.00", "WITHDRAWAL_MIN": "10.00"}
    s1, s2 = world.east_store, SiteFactory(region=world.east, name="S2")
    d1, d2 = DeviceFactory(site=s1), DeviceFactory(site=s2)
    city_user, owner_user, investor_user = (UserFactory(role="partner") for _i in range(3))

    client.force_login(world.finance)
    province = _partner(client, name="Province agent", kind="agent", region=world.root)
    city = _partner(client, name="City agent", kind="agent", region=world.east, users=[city_user])
    owner = _partner(
        client,
        name="Site owner S1",
        kind="site_owner",
        region=world.east,
        method="alipay",
        account="owner@example.cn",
        users=[owner_user],
    )
    investor = _partner(client, name="Investor D1", kind="investor", region=world.east, users=[investor_user])
    assert city.payout_account == "6222020000000001"
    assert "6222020000000001" not in city.payout_account_encrypted  # stored encrypted

    start = timezone.localtime(timezone.now() - datetime.timedelta(hours=1)).strftime(WINDOW_FORMAT)
    assert _rule(client, province, "gross", "5", start, region=world.root, tiers_text="300:8").status_code == 302
    assert SharingRule.objects.get(partner=province).tiers == [{"above": "300.00", "rate": "8.0000"}]
    assert _rule(client, city, "net_refunds", "10", start, region=world.east).status_code == 302
    assert _rule(client, owner, "net_fees", "20", start, site=s1).status_code == 302
    assert _rule(client, investor, "profit", "30", start, device=d1).status_code == 302

    # More than 100 % of a basis is refused when saved, naming the kind of order and the scope.
    refused = _rule(client, investor, "net_refunds", "95", start, region=world.east, order_kind="counter")
    assert refused.status_code == 200
    text = refused.content.decode()
    assert "105%" in text and "East" in text and "Counter sale" in text
    assert SharingRule.objects.filter(rate=D("95")).count() == 0
    # A round total reads as a number, not as Decimal's exponent form (110, not 1.1E+2).
    refused = _rule(client, investor, "net_refunds", "100", start, region=world.east, order_kind="counter")
    assert refused.status_code == 200 and "110%" in refused.content.decode() and "E+" not in refused.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        o1 = _pay(s1, d1, "100.00", "40.00", "card")
    with django_capture_on_commit_callbacks(execute=True):
        o2 = _pay(s2, d2, "100.00", "50.00", "cash")
    # A week and a day later the beat job makes the first wave available.
    accruals_release.delay((timezone.now() + datetime.timedelta(days=8)).isoformat())

    # Mid-month the city agent gets 12 %: a new version from now on.
    city_rule = SharingRule.objects.get(partner=city)
    response = client.post(
        reverse("accounting:rule-edit", args=[city_rule.pk]),
        {"partner": city.pk, "region": world.east.pk, "basis": "net_refunds", "method": "percent", "rate": "12"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert SharingRule.objects.filter(code=city_rule.code).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        o3 = _pay(s1, d1, "200.00", "90.00", "card")
    with django_capture_on_commit_callbacks(execute=True):
        o4 = _pay(s2, d2, "80.00", "30.00", "cash")
    with django_capture_on_commit_callbacks(execute=True):
        refund_create(order=o3, amount=D("50.00"), actor=None, reason="one item returned")

    shares = {(a.order_id, a.partner_id): (a.amount, a.reversed_amount) for a in Accrual.objects.all()}
    assert shares == {
        (o1.pk, province.pk): (D("5.00"), D("0")),
        (o2.pk, province.pk): (D("5.00"), D("0")),
        (o3.pk, province.pk): (D("13.00"), D("0")),
        (o4.pk, province.pk): (D("6.40"), D("0")),
        (o1.pk, city.pk): (D("10.00"), D("0")),
        (o2.pk, city.pk): (D("10.00"), D("0")),
        (o3.pk, city.pk): (D("24.00"), D("6.00")),
        (o4.pk, city.pk): (D("9.60"), D("0")),
        (o1.pk, owner.pk): (D("19.92"), D("0")),
        (o3.pk, owner.pk): (D("39.85"), D("9.96")),
        (o1.pk, investor.pk): (D("17.89"), D("0")),
        (o3.pk, investor.pk): (D("32.77"), D("8.19")),
    }
    # The first wave kept the city agent's first version; the second used the new one.
    versions = dict(Accrual.objects.filter(partner=city).values_list("order_id", "rule__version"))
    assert versions == {o1.pk: 1, o2.pk: 1, o3.pk: 2, o4.pk: 2}
    figures = Accrual.objects.get(order=o3, partner=investor).figures
    assert figures["fees"] == "0.76" and figures["matched_cost"] == "90.00" and figures["paid"] == "200.00"

    # The partners withdraw from their portal.
    client.force_login(city_user)
    assert client.post(reverse("accounting:portal-withdrawals"), {"amount": "15.00"}).status_code == 302
    too_much = client.post(reverse("accounting:portal-withdrawals"), {"amount": "20.00"})
    assert "Only 5.00 is available; 20.00 was asked for." in too_much.content.decode()
    client.force_login(owner_user)
    assert client.post(reverse("accounting:portal-withdrawals"), {"amount": "19.92"}).status_code == 302
    client.force_login(investor_user)
    assert client.post(reverse("accounting:portal-withdrawals"), {"amount": "17.89"}).status_code == 302

    # Finance reviews: the owner's is paid through Alipay on approval, the city agent's through
    # the bank file, the investor's is rejected.
    client.force_login(world.finance)
    paid_alipay = Withdrawal.objects.get(partner=owner)
    client.post(reverse("accounting:withdrawal-act", args=[paid_alipay.pk]), {"action": "approve"})
    paid_alipay.refresh_from_db()
    assert paid_alipay.status == "paid" and alipay == [
        {"out_biz_no": paid_alipay.number, "identity": "owner@example.cn", "amount": "18.92"}
    ]
    bank = Withdrawal.objects.get(partner=city)
    assert bank.fee == D("1.00")
    client.post(reverse("accounting:withdrawal-act", args=[bank.pk]), {"action": "approve"})
    bank_file = client.post(reverse("accounting:bank-file"), {"format": "csv"})
    assert bank_file.status_code == 200
    assert f"{bank.number},City agent,ICBC,6222020000000001,14.00" in bank_file.content.decode("utf-8-sig")
    client.post(reverse("accounting:withdrawal-act", args=[bank.pk]), {"action": "confirm", "reference": "BK-77"})
    again = client.post(reverse("accounting:withdrawal-act", args=[bank.pk]), {"action": "confirm"}, follow=True)
    assert "already paid" in again.content.decode()
    rejected = Withdrawal.objects.get(partner=investor)
    client.post(
        reverse("accounting:withdrawal-act", args=[rejected.pk]), {"action": "reject", "reason": "account check"}
    )

    assert _balances(province) == (D("19.40"), D("10.00"), D("0"))
    assert _balances(city) == (D("27.60"), D("5.00"), D("15.00"))
    assert _balances(owner) == (D("29.89"), D("0.00"), D("19.92"))
    assert _balances(investor) == (D("24.58"), D("17.89"), D("0"))
    # Written off oldest first: the city agent's O1 share in full, 5.00 of its O2 share.
    city_o1, city_o2 = (Accrual.objects.get(partner=city, order=o) for o in (o1, o2))
    assert (city_o1.status, city_o1.written_off, city_o1.write_offs.get().withdrawal) == ("settled", D("10.00"), bank)
    assert (city_o2.status, city_o2.written_off) == ("available", D("5.00"))

    # The books balance: every posting sums to zero, so does every balance.
    assert ledger.ledger_total() == 0
    assert sum(CommissionAccount.objects.values_list("balance", flat=True)) == 0
    for account in CommissionAccount.objects.all():
        assert account.balance == sum(account.entries.values_list("amount", flat=True)), account
    # The fee kept and the money sent add up to what was paid.
    payouts = {(a.kind, a.method): a.balance for a in CommissionAccount.objects.filter(partner__isnull=True)}
    assert payouts[("payouts", "bank")] == D("14.00") and payouts[("payouts", "alipay")] == D("18.92")
    assert payouts[("fees", "")] == D("2.00")

    # The city agent's portal shows its own figures.
    client.force_login(city_user)
    page = client.get(reverse("accounting:portal")).content.decode()
    assert 'data-balance="available">5.00<' in page and 'data-balance="pending">27.60<' in page
    statement = client.get(
        reverse("accounting:portal-statement"), {"month": timezone.localdate().strftime("%Y-%m"), "format": "xlsx"}
    )
    assert statement.status_code == 200 and statement["Content-Type"].startswith("application/vnd.openxmlformats")
    pdf = client.get(
        reverse("accounting:portal-statement"), {"month": timezone.localdate().strftime("%Y-%m"), "format": "pdf"}
    )
    assert pdf.content.startswith(b"%PDF")
