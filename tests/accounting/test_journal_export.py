"""The journal export for finance software through its page: voucher lines per day and region,
sales by method, fees and refunds on the configured account codes, balanced, CSV and XLSX
without formulas, scoped to the caller's regions; finance changes an account code (audited)."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from accounting.journal import KINDS, SOURCES, JournalLine, journal_kind_register
from core.models import AuditEntry
from tests.accounting.recon_helpers import DAY, paid, refunded

pytestmark = pytest.mark.django_db


def _rows(response):
    assert response.status_code == 200, response.content[:300]
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _export(client, fmt="csv", start=DAY, end=DAY):
    return client.get(reverse("accounting:journal"), {"start": start, "end": end, "format": fmt})


def test_sales_fees_and_refunds_on_their_accounts(world, client):
    payment = paid(world.east_store, "wechat", "100.00", "J-1")  # fee 0.60 at the default 0.6 %
    paid(world.east_store, "alipay", "50.00", "J-2")  # fee 0.30
    refunded(payment, "20.00")
    client.force_login(world.finance)
    rows = _rows(_export(client))
    lines = [(row["Account code"], row["Debit"], row["Credit"]) for row in rows]
    assert ("1012", "100.00", "0.00") in lines and ("6001", "0.00", "100.00") in lines
    assert ("6603", "0.60", "0.00") in lines and ("1012", "0.00", "0.60") in lines
    assert ("6001", "20.00", "0.00") in lines and ("1012", "0.00", "20.00") in lines
    assert {row["Voucher"] for row in rows} == {"20261130-0001"}
    assert (
        sum(Decimal(r["Debit"]) for r in rows) == sum(Decimal(r["Credit"]) for r in rows) == Decimal("170.90")
    )  # 100 + 50 sales, 0.60 + 0.30 fees, 20 refunded


def test_account_codes_are_configurable_and_audited(world, client):
    paid(world.east_store, "wechat", "10.00", "J-3")
    client.force_login(world.finance)
    response = client.post(
        reverse("accounting:journal-accounts"), {"code:sales.wechat": "6001.02", "code:fees.wechat": "6603"}
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="journal.accounts").count() == 1
    rows = _rows(_export(client))
    assert any(row["Account code"] == "6001.02" and row["Credit"] == "10.00" for row in rows)
    bad = client.post(reverse("accounting:journal-accounts"), {"code:sales.wechat": "=cmd|x"}, follow=True)
    assert "must be 1 to 40 letters" in bad.content.decode()
    assert _rows(_export(client))[1]["Account code"] == "6001.02"


def test_export_is_scoped_to_the_callers_regions(world, client):
    from core.services import scope_grant
    from tests.factories import UserFactory

    paid(world.east_store, "wechat", "10.00", "J-east")
    paid(world.west_store, "wechat", "30.00", "J-west")
    east_finance = UserFactory(role="finance")
    scope_grant(actor=None, user=east_finance, target=world.east, action="view")
    client.force_login(east_finance)
    rows = _rows(_export(client))
    assert {row["Region"] for row in rows} == {"East"}
    assert "30.00" not in {row["Debit"] for row in rows}


def test_xlsx_has_no_formulas(world, client):
    from openpyxl import load_workbook

    paid(world.east_store, "wechat", "10.00", "J-4")
    world.east.name = '=HYPERLINK("http://evil")'
    world.east.save()
    client.force_login(world.finance)
    response = _export(client, "xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell for row in sheet.iter_rows(values_only=False) for cell in row]
    assert all(cell.data_type != "f" for cell in values)
    assert any(cell.value == '=HYPERLINK("http://evil")' for cell in values)


def test_a_bad_period_is_refused_without_a_file(world, client):
    client.force_login(world.finance)
    response = _export(client, start=DAY, end=DAY.replace(day=1))
    assert response.status_code == 400 and "must end on or after" in response.content.decode()


def test_the_accrual_side_can_add_its_kinds_and_lines(world, client, monkeypatch):
    """The documented hook: commissions payable and payouts arrive through the registries."""
    for kind in ("commissions_payable", "commission_expense"):  # put back as they were afterwards
        monkeypatch.setitem(KINDS, kind, KINDS.get(kind))
    journal_kind_register("commissions_payable", default_code="2241", label="Commissions payable")
    journal_kind_register("commission_expense", default_code="6601", label="Commission expense")

    def commissions(*, user, start, end):
        yield JournalLine(DAY, "East", "commission_expense", "Shares of 2026-11-30", debit=Decimal("3.00"))
        yield JournalLine(DAY, "East", "commissions_payable", "Shares of 2026-11-30", credit=Decimal("3.00"))

    monkeypatch.setitem(SOURCES, "commissions", commissions)
    client.force_login(world.finance)
    rows = _rows(_export(client))
    assert [(r["Account code"], r["Credit"]) for r in rows if r["Account"] == "Commissions payable"] == [
        ("2241", "3.00")
    ]


def test_shares_and_payouts_reach_the_journal_and_every_voucher_balances(world, client):
    """Accrued shares (commission expense / commissions payable) and a paid withdrawal (payable /
    payouts, the fee as income) are in the finance software's file beside the sales."""
    import datetime

    from django.utils import timezone

    from accounting import accruals, withdrawals
    from tests.accounting.builders import accrual_for

    accrual = accrual_for(world.partner, total=Decimal("200.00"))  # 10 % of 200.00 accrued today
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=30))
    withdrawal = withdrawals.withdrawal_request(partner=world.partner, amount=Decimal("20.00"), actor=None)
    withdrawals.withdrawal_approve(withdrawal=withdrawal, actor=world.finance)
    withdrawal.refresh_from_db()
    if withdrawal.status != "paid":
        withdrawals.payout_confirm(withdrawal=withdrawal, actor=world.finance, reference="BANK-1")
        withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    today = timezone.localdate()
    client.force_login(world.finance)
    rows = _rows(_export(client, start=today, end=today))
    by_account = {}
    for row in rows:
        by_account.setdefault(row["Account"], []).append((Decimal(row["Debit"]), Decimal(row["Credit"])))
    assert (accrual.amount, Decimal("0.00")) in by_account["Commission expense"]
    assert (Decimal("0.00"), accrual.amount) in by_account["Commissions payable"]
    assert (Decimal("20.00"), Decimal("0.00")) in by_account["Commissions payable"]
    payout = sum(credit for _debit, credit in by_account["Payouts to partners"])
    fees = sum(credit for _debit, credit in by_account.get("Withdrawal fees", []))
    assert payout + fees == Decimal("20.00") and payout == Decimal("20.00") - withdrawal.fee
    assert sum(Decimal(r["Debit"]) for r in rows) == sum(Decimal(r["Credit"]) for r in rows)
