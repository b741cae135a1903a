"""The revenue-sharing side of the journal export (accounting/journal.py's registries): commission
expense against commissions payable when shares accrue, the reverse when a refund takes a share
back, and payouts (net to the partner's payout account, the withdrawal fee as other income) when a
withdrawal is paid. Per day and region (the partner's region: its cost centre), scoped like every
journal line."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting.journal import JournalLine, journal_kind_register, journal_source_register

CENT = Decimal("0.01")

# PRC enterprise chart of accounts: 6601 selling expenses (the partners' shares), 2241 other
# payables (shares owed), 1002 bank deposits (payouts leave from the bank or provider account),
# 6051 other business income (withdrawal fees kept).
journal_kind_register("commission_expense", default_code="6601", label=gettext_lazy("Commission expense"))
journal_kind_register("commissions_payable", default_code="2241", label=gettext_lazy("Commissions payable"))
journal_kind_register("payouts", default_code="1002", label=gettext_lazy("Payouts to partners"))
journal_kind_register("withdrawal_fees", default_code="6051", label=gettext_lazy("Withdrawal fees"))


def _money(value) -> Decimal:
    return (value or Decimal("0")).quantize(CENT)


def _commission_lines(*, user, start, end) -> Iterable[JournalLine]:
    from accounting.models import Accrual, RefundReversal, Withdrawal

    zone = timezone.get_current_timezone()
    accrued = (
        Accrual.objects.restrict(user)
        .annotate(day=TruncDate("accrued_at", tzinfo=zone))
        .filter(day__range=(start, end))
        .values("day", "partner__region__name")
        .annotate(amount=Sum("amount"))
        .order_by("day", "partner__region__name")
    )
    for row in accrued:
        amount, day, region = _money(row["amount"]), row["day"], row["partner__region__name"]
        if amount:
            summary = _("Partners' shares %(day)s") % {"day": day}
            yield JournalLine(day, region, "commission_expense", summary, debit=amount)
            yield JournalLine(day, region, "commissions_payable", summary, credit=amount)
    reversed_ = (
        RefundReversal.objects.filter(accrual__in=Accrual.objects.restrict(user))
        .annotate(day=TruncDate("at", tzinfo=zone))
        .filter(day__range=(start, end))
        .values("day", "accrual__partner__region__name")
        .annotate(amount=Sum("amount"))
        .order_by("day", "accrual__partner__region__name")
    )
    for row in reversed_:
        amount, day, region = _money(row["amount"]), row["day"], row["accrual__partner__region__name"]
        if amount:
            summary = _("Shares taken back by refunds %(day)s") % {"day": day}
            yield JournalLine(day, region, "commissions_payable", summary, debit=amount)
            yield JournalLine(day, region, "commission_expense", summary, credit=amount)
    paid = (
        Withdrawal.objects.restrict(user)
        .filter(status=Withdrawal.Status.PAID)
        .annotate(day=TruncDate("paid_at", tzinfo=zone))
        .filter(day__range=(start, end))
        .values("day", "partner__region__name")
        .annotate(amount=Sum("amount"), fee=Sum("fee"))
        .order_by("day", "partner__region__name")
    )
    for row in paid:
        amount, fee, day, region = _money(row["amount"]), _money(row["fee"]), row["day"], row["partner__region__name"]
        summary = _("Payouts to partners %(day)s") % {"day": day}
        yield JournalLine(day, region, "commissions_payable", summary, debit=amount)
        yield JournalLine(day, region, "payouts", summary, credit=amount - fee)
        if fee:
            yield JournalLine(day, region, "withdrawal_fees", summary, credit=fee)


journal_source_register("commissions", _commission_lines)
