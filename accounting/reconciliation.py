"""Reconciliation services: import a provider's statement once, match it line by line with our
payments and refunds, let finance resolve what differs, and summarise each day per provider with
the shifts' cash beside it (ADR 22).

Matching is by the provider's reference: our `Payment.reference` is the out_trade_no we sent
(WeChat Pay 商户订单号, Alipay 商户订单号, Stripe metadata reference), with the provider's own id
(`Payment.data["transaction_id"]`) as the fallback; a refund is found through its payment, by our
refund number ("R<pk>", the out_refund_no we sent), the provider's refund id, or its amount.
A payment's fee is checked against the configured rate of its method in its order's region
(`orders.services.payment_fee`), not against what we recorded. Not here: parsing (statements/)."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounting.recon_models import ReconItem, Statement, StatementDay, StatementLine, StatementProvider
from accounting.statements import StatementError, looks_like, parser_for
from core.services import audit_record
from orders.models import Payment, Refund

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")
MAX_FILE_BYTES = 20 * 1024 * 1024  # a busy merchant's day is a few MB; more is not a statement
NOTE_MAX = 2000
# A payment near midnight can land on the provider's neighbouring day; a week covers weekends and
# the provider's late bills.
NEIGHBOUR_DAYS = datetime.timedelta(days=7)


# --- Import ----------------------------------------------------------------------------------
def statement_import(*, actor, provider: str, region, file_name: str, content: bytes) -> Statement:
    """Import one statement file: every line or nothing. The same file (by hash) or a day of this
    provider and region already imported is refused with a clear message and changes nothing;
    two imports racing for the same day collide on StatementDay's unique constraint."""
    if provider not in StatementProvider.values:
        raise ValidationError(_("Choose WeChat Pay, Alipay or Stripe."))
    if not content:
        raise ValidationError(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 20 MB; is it really a statement?"))
    label = StatementProvider(provider).label
    try:
        parsed = parser_for(provider)(content)
    except StatementError as error:
        other = looks_like(content)
        if other and other != provider:
            raise ValidationError(
                _("This file is a %(other)s statement, but %(chosen)s was chosen; nothing was imported.")
                % {"other": StatementProvider(other).label, "chosen": label}
            ) from None
        raise ValidationError(_("%(message)s Nothing was imported.") % {"message": error}) from None
    if not parsed:
        raise ValidationError(_("The file has no transactions; nothing was imported."))
    file_hash = hashlib.sha256(content).hexdigest()
    known = Statement.objects.filter(file_hash=file_hash).first()
    if known is not None:
        raise ValidationError(
            _("This file was already imported on %(at)s; nothing changed.")
            % {"at": timezone.localtime(known.imported_at).strftime("%Y-%m-%d %H:%M")}
        )
    days = sorted({line.day for line in parsed})
    taken = list(
        StatementDay.objects.filter(provider=provider, region=region, day__in=days).values_list("day", flat=True)
    )
    if taken:
        raise ValidationError(_already_message(label, taken))
    try:
        with transaction.atomic():
            statement = Statement.objects.create(
                provider=provider,
                region=region,
                file_name=file_name[:255],
                file_hash=file_hash,
                first_day=days[0],
                last_day=days[-1],
                line_count=len(parsed),
                imported_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            StatementDay.objects.bulk_create(
                [StatementDay(statement=statement, provider=provider, region=region, day=day) for day in days]
            )
            StatementLine.objects.bulk_create(
                [
                    StatementLine(
                        statement=statement,
                        line_no=line.line_no,
                        kind=line.kind,
                        day=line.day,
                        occurred_at=line.occurred_at,
                        merchant_reference=line.merchant_reference[:100],
                        provider_reference=line.provider_reference[:100],
                        refund_reference=line.refund_reference[:100],
                        amount=line.amount,
                        fee=line.fee,
                        raw={k: v if isinstance(v, str | int | None) else str(v) for k, v in line.raw.items()},
                    )
                    for line in parsed
                ]
            )
            audit_record(
                actor=actor,
                action="statement.import",
                obj=statement,
                changes={"provider": provider, "file": file_name, "lines": len(parsed), "days": [str(d) for d in days]},
                region=region,
            )
    except IntegrityError:  # another import of this file or day won the race
        raise ValidationError(_already_message(label, days)) from None
    for day in days:
        transaction.on_commit(lambda day=day: _schedule_reconcile(provider, day))
    return statement


def statement_fetch_stripe(*, actor, region, day: datetime.date) -> Statement:
    """Fetch Stripe's balance transactions of `day` through its API and import them like a file
    (the same day twice is refused the same way)."""
    from accounting.statements.stripe_fetch import stripe_balance_transactions_json, stripe_fetch_available

    if not stripe_fetch_available():
        raise ValidationError(_("Stripe is not configured; upload its export instead."))
    try:
        content = stripe_balance_transactions_json(day)
    except Exception as error:  # the provider is down or refused: say so, change nothing
        logger.warning("could not fetch Stripe balance transactions of %s: %s", day, error)
        raise ValidationError(_("Stripe could not be reached; try again later or upload its export.")) from None
    return statement_import(
        actor=actor, provider="stripe", region=region, file_name=f"stripe-api-{day:%Y%m%d}.json", content=content
    )


def _already_message(label, days) -> str:
    return _("The %(provider)s statement of %(days)s was already imported; nothing changed.") % {
        "provider": label,
        "days": ", ".join(str(day) for day in sorted(days)),
    }


def _schedule_reconcile(provider: str, day: datetime.date) -> None:
    """Reconcile the imported day soon; if the broker is away, the daily run does it."""
    from accounting.recon_tasks import reconcile_provider_day

    try:
        reconcile_provider_day.delay(provider, day.isoformat())
    except Exception:  # the import is committed either way
        logger.warning("could not schedule the reconciliation of %s %s", provider, day, exc_info=True)


# --- Matching --------------------------------------------------------------------------------
@dataclass
class _Outcome:
    subject: str
    kind: str
    region_id: int
    reference: str = ""
    payment: Payment | None = None
    refund: Refund | None = None
    line: StatementLine | None = None
    our_amount: Decimal | None = None
    their_amount: Decimal | None = None
    expected_fee: Decimal | None = None
    their_fee: Decimal | None = None


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def _region_q(path_lookup: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{path_lookup}__startswith": path})
    return q


class _Payments:
    """The provider's payments the day's lines name, loaded in two queries (a busy day has
    thousands of lines), by our reference and by the provider's own id."""

    def __init__(self, provider: str, lines: list[StatementLine]):
        payments = Payment.objects.select_related("order").filter(provider=provider)
        references = {line.merchant_reference for line in lines if line.merchant_reference}
        ids = {line.provider_reference for line in lines if line.provider_reference}
        self.by_reference = {p.reference: p for p in payments.filter(reference__in=references).order_by("-pk")}
        self.by_id = {
            p.data.get("transaction_id"): p for p in payments.filter(data__transaction_id__in=ids).order_by("-pk")
        }

    def find(self, line: StatementLine) -> Payment | None:
        found = self.by_reference.get(line.merchant_reference) if line.merchant_reference else None
        if found is None and line.provider_reference:
            found = self.by_id.get(line.provider_reference)
        return found


def _find_refund(provider: str, line: StatementLine, taken: set[int], payments: _Payments) -> Refund | None:
    refunds = Refund.objects.select_related("order", "payment").filter(payment__provider=provider).exclude(pk__in=taken)
    if line.refund_reference:
        number = line.refund_reference[1:] if line.refund_reference[:1] == "R" else ""
        if number.isdigit():
            found = refunds.filter(pk=int(number)).first()
            if found is not None:
                return found
        found = refunds.filter(reference=line.refund_reference).first()
        if found is not None:
            return found
    if line.provider_reference:
        found = refunds.filter(reference=line.provider_reference).first()
        if found is not None:
            return found
    payment = payments.find(line) if line.merchant_reference else None
    if payment is None:
        return None
    of_payment = refunds.filter(payment=payment).order_by("pk")
    return of_payment.filter(amount=line.amount).first() or of_payment.first()


def _expected_fee(payment: Payment) -> Decimal:
    from orders.services import payment_fee

    return payment_fee(payment.provider, payment.amount, payment.order.region_id)


def _outcomes(provider: str, day: datetime.date) -> list[_Outcome]:
    statement_days = list(StatementDay.objects.filter(provider=provider, day=day).select_related("region"))
    if not statement_days:
        return []
    lines = list(
        StatementLine.objects.filter(statement__provider=provider, day=day)
        .select_related("statement")
        .order_by("statement_id", "line_no")
    )
    # Alipay lists a payment's fee as a row of its own: add it to the payment or refund it belongs to.
    fees: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        # A fee given back with a refund is negative: it belongs to the refund, not the payment's fee.
        if line.kind == StatementLine.Kind.FEE and line.fee > 0:
            fees[line.merchant_reference] += line.fee
    fee_rows = any(line.kind == StatementLine.Kind.FEE for line in lines)
    payments = _Payments(provider, lines)
    outcomes: list[_Outcome] = []
    matched_payments: set[int] = set()
    matched_refunds: set[int] = set()
    for line in lines:
        if line.kind in (StatementLine.Kind.FEE, StatementLine.Kind.OTHER):
            continue
        if line.kind == StatementLine.Kind.PAYMENT:
            payment = payments.find(line)
            their_fee = line.fee + (fees.pop(line.merchant_reference, ZERO) if fee_rows else ZERO)
            if payment is None or payment.pk in matched_payments:
                outcomes.append(_theirs_only(line, their_fee))
                continue
            matched_payments.add(payment.pk)
            expected = _expected_fee(payment)
            if payment.amount != line.amount or payment.status != Payment.Status.SUCCEEDED:
                kind = ReconItem.Kind.AMOUNT
            elif their_fee != expected:
                kind = ReconItem.Kind.FEE
            else:
                kind = ReconItem.Kind.MATCHED
            outcomes.append(
                _Outcome(
                    subject=f"payment:{payment.pk}",
                    kind=kind,
                    region_id=payment.order.region_id,
                    reference=payment.reference,
                    payment=payment,
                    line=line,
                    our_amount=payment.amount if payment.status == Payment.Status.SUCCEEDED else ZERO,
                    their_amount=line.amount,
                    expected_fee=expected,
                    their_fee=their_fee,
                )
            )
        else:
            refund = _find_refund(provider, line, matched_refunds, payments)
            if refund is None:
                outcomes.append(_theirs_only(line, None))
                continue
            matched_refunds.add(refund.pk)
            ours = refund.amount if refund.status == Refund.Status.SUCCEEDED else ZERO
            outcomes.append(
                _Outcome(
                    subject=f"refund:{refund.pk}",
                    kind=ReconItem.Kind.MATCHED if ours == line.amount else ReconItem.Kind.AMOUNT,
                    region_id=refund.order.region_id,
                    reference=refund.payment.reference,
                    refund=refund,
                    line=line,
                    our_amount=ours,
                    their_amount=line.amount,
                )
            )
    # Ours only: what we settled that day in the statements' regions and no line of the provider names.
    paths = [sd.region.path for sd in statement_days]
    start, end = _day_bounds(day)
    ours = (
        Payment.objects.select_related("order")
        .filter(provider=provider, status=Payment.Status.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end)
        .filter(_region_q("order__region__path", paths))
        .exclude(pk__in=matched_payments)
    )
    elsewhere = _matched_on_other_days(provider, day, "payment")
    for payment in ours:
        if payment.pk in elsewhere:
            continue
        outcomes.append(
            _Outcome(
                subject=f"payment:{payment.pk}",
                kind=ReconItem.Kind.OURS_ONLY,
                region_id=payment.order.region_id,
                reference=payment.reference,
                payment=payment,
                our_amount=payment.amount,
                expected_fee=_expected_fee(payment),
            )
        )
    refunds = (
        Refund.objects.select_related("order", "payment")
        .filter(
            payment__provider=provider, status=Refund.Status.SUCCEEDED, succeeded_at__gte=start, succeeded_at__lt=end
        )
        .filter(_region_q("order__region__path", paths))
        .exclude(pk__in=matched_refunds)
    )
    elsewhere = _matched_on_other_days(provider, day, "refund")
    for refund in refunds:
        if refund.pk in elsewhere:
            continue
        outcomes.append(
            _Outcome(
                subject=f"refund:{refund.pk}",
                kind=ReconItem.Kind.OURS_ONLY,
                region_id=refund.order.region_id,
                reference=refund.payment.reference,
                refund=refund,
                our_amount=refund.amount,
            )
        )
    # A fee row whose payment is not in the file: the provider charged for something we cannot see.
    for reference, fee in fees.items():
        line = next(
            line
            for line in lines
            if line.kind == StatementLine.Kind.FEE and line.fee > 0 and line.merchant_reference == reference
        )
        if not any(o.line and o.line.merchant_reference == reference for o in outcomes):
            outcomes.append(_theirs_only(line, fee))
    return outcomes


def _matched_on_other_days(provider: str, day: datetime.date, what: str) -> set[int]:
    """Payments (or refunds) a statement line of another day matched: a payment at 23:59:59 may be
    on the provider's next day."""
    field = "payment_id" if what == "payment" else "refund_id"
    near = (day - NEIGHBOUR_DAYS, day + NEIGHBOUR_DAYS)
    return set(
        ReconItem.objects.filter(provider=provider, line__isnull=False, day__range=near, **{f"{field}__isnull": False})
        .exclude(day=day)
        .values_list(field, flat=True)
    )


def _theirs_only(line: StatementLine, fee: Decimal | None) -> _Outcome:
    return _Outcome(
        subject=f"line:{line.pk}",
        kind=ReconItem.Kind.THEIRS_ONLY,
        region_id=line.statement.region_id,
        reference=line.merchant_reference or line.provider_reference,
        line=line,
        their_amount=line.amount,
        their_fee=fee,
    )


FIGURES = ("kind", "our_amount", "their_amount", "expected_fee", "their_fee")


@transaction.atomic
def reconcile_day(*, provider: str, day: datetime.date) -> dict[str, int]:
    """Match the imported statement lines of `provider` on `day` with our payments and refunds and
    record one ReconItem per subject. Running it again changes nothing unless the figures did; a
    resolved difference stays resolved while its figures stay the same. Returns counts per kind."""
    # One run per provider and day at a time: the statement days are the lock.
    list(StatementDay.objects.select_for_update().filter(provider=provider, day=day).order_by("pk"))
    outcomes = _outcomes(provider, day)
    existing = {item.subject: item for item in ReconItem.objects.select_for_update().filter(provider=provider, day=day)}
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.kind] += 1
        values = {
            "kind": outcome.kind,
            "region_id": outcome.region_id,
            "reference": outcome.reference[:100],
            "payment": outcome.payment,
            "refund": outcome.refund,
            "line": outcome.line,
            "our_amount": outcome.our_amount,
            "their_amount": outcome.their_amount,
            "expected_fee": outcome.expected_fee,
            "their_fee": outcome.their_fee,
        }
        item = existing.pop(outcome.subject, None)
        if item is None:
            ReconItem.objects.create(
                provider=provider, day=day, subject=outcome.subject, status=_status(outcome.kind), **values
            )
            continue
        same = all(getattr(item, name) == values[name] for name in FIGURES)
        if same and item.line_id == (outcome.line.pk if outcome.line else None):
            continue
        for name, value in values.items():
            setattr(item, name, value)
        item.status = _status(outcome.kind)
        if item.status != ReconItem.Status.RESOLVED:
            item.resolved_at, item.resolved_by = None, None
        item.save()
    ReconItem.objects.filter(
        pk__in=[item.pk for item in existing.values() if item.status != ReconItem.Status.RESOLVED]
    ).delete()
    return dict(counts)


def _status(kind: str) -> str:
    return ReconItem.Status.MATCHED if kind == ReconItem.Kind.MATCHED else ReconItem.Status.OPEN


def reconcile_pending(*, today: datetime.date | None = None, days_back: int = 7) -> int:
    """The daily run: reconcile every provider's imported days of the last `days_back` days (late
    refunds and payments settle into earlier days). Returns how many provider-days ran."""
    today = today or timezone.localdate()
    pairs = (
        StatementDay.objects.filter(day__gte=today - datetime.timedelta(days=days_back), day__lte=today)
        .values_list("provider", "day")
        .distinct()
    )
    ran = 0
    for provider, day in sorted(set(pairs)):
        reconcile_day(provider=provider, day=day)
        ran += 1
    return ran


# --- Resolution ------------------------------------------------------------------------------
@transaction.atomic
def recon_item_resolve(*, actor, item_id: int, note: str) -> ReconItem:
    """Finance explains a difference: it is resolved with the note, once, and audited."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say how the difference was settled.")})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("Keep the note under %(max)s characters.") % {"max": NOTE_MAX}})
    item = ReconItem.objects.select_for_update().select_related("region").get(pk=item_id)
    if item.status != ReconItem.Status.OPEN:
        raise ValidationError(_("This line is %(status)s; nothing to resolve.") % {"status": item.get_status_display()})
    item.status = ReconItem.Status.RESOLVED
    item.note = note
    item.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    item.resolved_at = timezone.now()
    item.save(update_fields=["status", "note", "resolved_by", "resolved_at", "updated_at"])
    audit_record(
        actor=actor,
        action="reconciliation.resolve",
        obj=item,
        changes={"kind": item.kind, "reference": item.reference, "note": note},
        region=item.region,
    )
    return item


# --- Summary ---------------------------------------------------------------------------------
@dataclass
class ProviderDay:
    provider: str
    label: str
    imported: bool
    matched: int = 0
    open: int = 0
    resolved: int = 0

    @property
    def green(self) -> bool:
        return self.imported and self.open == 0


@dataclass
class CashDay:
    shifts: int = 0
    open_shifts: int = 0
    expected: Decimal = ZERO
    counted: Decimal = ZERO
    unexplained: int = 0  # closed shifts whose count differs with no note

    @property
    def variance(self) -> Decimal:
        return self.counted - self.expected

    @property
    def green(self) -> bool:
        return self.open_shifts == 0 and self.unexplained == 0


@dataclass
class SummaryDay:
    day: datetime.date
    providers: list[ProviderDay]
    cash: CashDay

    @property
    def imported(self) -> bool:
        return any(p.imported for p in self.providers)

    @property
    def green(self) -> bool:
        return self.imported and all(p.green for p in self.providers if p.imported) and self.cash.green


def reconciliation_summary(*, user, start: datetime.date, end: datetime.date) -> list[SummaryDay]:
    """One row per day from `end` back to `start`: per provider whether a statement was imported
    and how many items are matched, open and resolved; the shifts' cash of the day. Only what
    `user` may see."""
    from staff.models import Shift

    imported = set(StatementDay.objects.restrict(user).filter(day__range=(start, end)).values_list("provider", "day"))
    counts = defaultdict(int)
    for provider, day, status in (
        ReconItem.objects.restrict(user).filter(day__range=(start, end)).values_list("provider", "day", "status")
    ):
        counts[(provider, day, status)] += 1
    cash: dict[datetime.date, CashDay] = defaultdict(CashDay)
    first, _end = _day_bounds(start)
    _start, last = _day_bounds(end)
    shifts = (
        Shift.objects.restrict(user)
        .filter(opened_at__lt=last)
        .filter(Q(closed_at__gte=first) | Q(closed_at__isnull=True))
    )
    for shift in shifts.only("opened_at", "closed_at", "expected_amount", "counted_amount", "variance", "note"):
        if shift.closed_at is None:
            day = timezone.localtime(shift.opened_at).date()
            if start <= day <= end:
                cash[day].shifts += 1
                cash[day].open_shifts += 1
            continue
        day = timezone.localtime(shift.closed_at).date()
        if not start <= day <= end:
            continue
        entry = cash[day]
        entry.shifts += 1
        entry.expected += shift.expected_amount or ZERO
        entry.counted += shift.counted_amount or ZERO
        if (shift.variance or ZERO) != ZERO and not shift.note.strip():
            entry.unexplained += 1
    days = []
    day = end
    while day >= start:
        providers = [
            ProviderDay(
                provider=code,
                label=str(label),
                imported=(code, day) in imported,
                matched=counts[(code, day, ReconItem.Status.MATCHED)],
                open=counts[(code, day, ReconItem.Status.OPEN)],
                resolved=counts[(code, day, ReconItem.Status.RESOLVED)],
            )
            for code, label in StatementProvider.choices
        ]
        days.append(SummaryDay(day=day, providers=providers, cash=cash.get(day, CashDay())))
        day -= datetime.timedelta(days=1)
    return days


def _method_label(code: str) -> str:
    from orders.payments import UnknownProvider, provider_get

    try:
        return str(provider_get(code).label)
    except UnknownProvider:
        return code


def fees_by_method(*, user, start: datetime.date, end: datetime.date) -> list[tuple[str, Decimal, Decimal]]:
    """(method, amount, fees) of the payments settled in the period, for the summary page."""
    first, _x = _day_bounds(start)
    _y, last = _day_bounds(end)
    rows = (
        Payment.objects.restrict(user)
        .filter(status=Payment.Status.SUCCEEDED, succeeded_at__gte=first, succeeded_at__lt=last)
        .values("provider")
        .annotate(amount=Sum("amount"), fees=Sum("fee"))
        .order_by("provider")
    )
    cents = Decimal("0.01")
    return [
        (
            _method_label(row["provider"]),
            Decimal(str(row["amount"] or 0)).quantize(cents),
            Decimal(str(row["fees"] or 0)).quantize(cents),
        )
        for row in rows
    ]
