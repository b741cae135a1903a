"""Console pages of accounting: for finance, the dashboard, revenue partners, sharing rules,
accruals and withdrawals (review, payout, bank file); for a revenue partner's own users, the
partner portal (earnings, statement, withdrawals). Every query goes through `restrict()`: finance
sees the partners of their regions, a partner user only its own partner's rows."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounting import ledger, partner_statements, reconciliation, withdrawals
from accounting.filters import AccrualFilter, PartnerFilter, RuleFilter, WithdrawalFilter
from accounting.forms import ConfirmForm, PartnerForm, ReasonForm, RuleForm, WithdrawalRequestForm
from accounting.models import (
    PORTAL_PERMISSION,
    ZERO,
    Accrual,
    CommissionAccount,
    Partner,
    SharingRule,
    Withdrawal,
    partner_ids_of,
)
from accounting.rules import rule_change, rule_create
from core import charts
from core.console import ScopedDetailView, ScopedListView, nav_register
from core.dashboard import FINANCE_COMMISSIONS_ORDER, card_register, recent_days
from core.exports import XLSX
from core.services import audit_record
from staff.roles import FINANCE, PLATFORM_ADMIN

S = Withdrawal.Status
PORTAL_DAYS = 30


def _errors(error: ValidationError) -> list[str]:
    return [str(m) for m in error.messages]


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                form.add_error(field if field in form.fields else None, item)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- Finance: lists --------------------------------------------------------------------------------


class PartnerListView(ScopedListView):
    model = Partner
    url_name = "accounting:partner-list"
    detail_url_name = "accounting:partner-detail"
    title = _("Revenue partners")
    filterset_class = PartnerFilter
    select_related = ("region",)
    columns = [
        ("name", _("Name")),
        ("kind", _("Kind")),
        ("region", _("Home region")),
        ("payout_method", _("Payout method")),
        ("settlement", _("Settlement")),
        ("is_active", _("Active")),
    ]
    actions = [(_("New revenue partner"), "accounting:partner-create", "accounting.add_partner")]


class RuleListView(ScopedListView):
    model = SharingRule
    url_name = "accounting:rule-list"
    detail_url_name = "accounting:rule-edit"
    title = _("Sharing rules")
    filterset_class = RuleFilter
    select_related = ("partner", "region", "site", "device", "category", "product")
    columns = [
        ("code", _("Rule")),
        ("version", _("Version")),
        ("partner", _("Revenue partner")),
        ("scope_label", _("Scope")),
        ("terms_label", _("Terms")),
        ("valid_from", _("Valid from")),
        ("valid_until", _("Valid until")),
    ]
    actions = [(_("New sharing rule"), "accounting:rule-create", "accounting.add_sharingrule")]


class AccrualListView(ScopedListView):
    model = Accrual
    url_name = "accounting:accrual-list"
    title = _("Accruals")
    filterset_class = AccrualFilter
    select_related = ("order", "partner", "rule", "site")
    columns = [
        ("earned_on", _("Earned on")),
        ("order__number", _("Order")),
        ("partner", _("Revenue partner")),
        ("rule", _("Rule version")),
        ("basis", _("Basis")),
        ("basis_amount", _("Basis amount")),
        ("amount", _("Share")),
        ("reversed_amount", _("Reversed")),
        ("written_off", _("Written off")),
        ("status", _("Status")),
        ("settled_at", _("Written off at")),
    ]


class WithdrawalListView(ScopedListView):
    model = Withdrawal
    url_name = "accounting:withdrawal-list"
    detail_url_name = "accounting:withdrawal-detail"
    title = _("Withdrawals")
    filterset_class = WithdrawalFilter
    template_name = "accounting/withdrawal_list.html"
    select_related = ("partner",)
    columns = [
        ("number", _("Number")),
        ("partner", _("Revenue partner")),
        ("amount", _("Amount")),
        ("fee", _("Fee")),
        ("method", _("Payout method")),
        ("status", _("Status")),
        ("created_at", _("Requested")),
        ("paid_at", _("Paid")),
    ]


# --- Finance: partners -----------------------------------------------------------------------------


class PartnerDetailView(ScopedDetailView):
    model = Partner
    template_name = "accounting/partner_detail.html"
    select_related = ("region",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        partner = self.object
        context.update(
            balances=ledger.balances(partner=partner),
            accruals=partner.accruals.select_related("order", "rule")[:20],
            withdrawals=partner.withdrawals.all()[:20],
            rules=partner.rules.filter(valid_until__isnull=True),
            months=_recent_months(),
            can_change=self.request.user.has_perm("accounting.change_partner"),
        )
        return context


def _partner_form_page(request, *, instance=None):
    permission = "accounting.change_partner" if instance else "accounting.add_partner"
    if not request.user.has_perm(permission):
        raise PermissionDenied
    form = PartnerForm(request.POST or None, instance=instance, user=request.user)
    if request.method == "POST" and form.is_valid():
        partner = form.save()
        audit_record(
            actor=request.user,
            action="revenue_partner.change" if instance else "revenue_partner.create",
            obj=partner,
            # The payout account never goes into the audit log in clear.
            changes={
                k: str(v) for k, v in form.cleaned_data.items() if k in form.changed_data and k != "payout_account"
            },
            region=partner.region,
        )
        messages.success(request, gettext("Revenue partner saved."))
        return redirect("accounting:partner-detail", pk=partner.pk)
    title = gettext("Edit revenue partner") if instance else gettext("New revenue partner")
    return render(request, "staff/form.html", {"form": form, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def partner_create(request):
    return _partner_form_page(request)


@login_required
@require_http_methods(["GET", "POST"])
def partner_edit(request, pk):
    if not request.user.has_perm("accounting.change_partner"):
        raise PermissionDenied
    partner = get_object_or_404(Partner.objects.restrict(request.user, "change"), pk=pk)
    return _partner_form_page(request, instance=partner)


def _recent_months(count: int = 6) -> list[str]:
    today = timezone.localdate().replace(day=1)
    months = []
    for _i in range(count):
        months.append(today.strftime("%Y-%m"))
        today = (today - datetime.timedelta(days=1)).replace(day=1)
    return months


def _statement_response(partner, month: str, fmt: str):
    try:
        partner_statements.month_range(month)
    except (ValueError, TypeError):
        raise Http404 from None
    if fmt == "pdf":
        content, content_type = partner_statements.statement_pdf(partner, month), "application/pdf"
    elif fmt == "xlsx":
        content, content_type = partner_statements.statement_xlsx(partner, month), XLSX
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="statement-{partner.pk}-{month}.{fmt}"'
    return response


@login_required
def partner_statement(request, pk):
    if not request.user.has_perm("accounting.view_accrual"):
        raise PermissionDenied
    partner = get_object_or_404(Partner.objects.restrict(request.user, "view"), pk=pk)
    return _statement_response(partner, request.GET.get("month", ""), request.GET.get("format", "pdf"))


# --- Finance: rules ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def rule_create_page(request):
    if not request.user.has_perm("accounting.add_sharingrule"):
        raise PermissionDenied
    form = RuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_create(actor=request.user, **form.rule_fields())
        except ValidationError as error:
            _form_errors(form, error)
        else:
            audit_record(
                actor=request.user, action="sharing_rule.create", obj=rule, changes={"terms": rule.terms_label}
            )
            messages.success(request, gettext("Sharing rule %(code)s saved.") % {"code": rule.code})
            return redirect("accounting:rule-list")
    return render(request, "staff/form.html", {"form": form, "title": gettext("New sharing rule")})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk):
    """Changing a rule saves its next version; the page of an ended version shows it read-only."""
    if not request.user.has_perm("accounting.view_sharingrule"):
        raise PermissionDenied
    rule = get_object_or_404(SharingRule.objects.restrict(request.user, "view"), pk=pk)
    can_change = request.user.has_perm("accounting.change_sharingrule") and rule.valid_until is None
    if request.method == "POST" and not can_change:
        raise PermissionDenied
    form = RuleForm(request.POST or None, instance=rule, user=request.user, changing=True)
    if request.method == "POST" and form.is_valid():
        fields = form.rule_fields()
        fields.pop("valid_from", None)
        try:
            new = rule_change(
                rule=SharingRule.objects.get(pk=rule.pk),
                actor=request.user,
                effective_from=form.cleaned_data.get("effective_from"),
                **fields,
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            audit_record(actor=request.user, action="sharing_rule.change", obj=new, changes={"terms": new.terms_label})
            messages.success(
                request,
                gettext("Version %(version)s of rule %(code)s saved.") % {"version": new.version, "code": new.code},
            )
            return redirect("accounting:rule-list")
    rule.refresh_from_db()
    return render(
        request,
        "accounting/rule_edit.html",
        {
            "form": form,
            "rule": rule,
            "can_change": can_change,
            "versions": SharingRule.objects.restrict(request.user, "view").filter(code=rule.code).order_by("-version"),
            "title": gettext("Sharing rule %(code)s") % {"code": rule.code},
        },
    )


# --- Finance: withdrawals -----------------------------------------------------------------------------


class WithdrawalDetailView(ScopedDetailView):
    model = Withdrawal
    template_name = "accounting/withdrawal_detail.html"
    select_related = ("partner",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        withdrawal = self.object
        user = self.request.user
        can_review = user.has_perm("accounting.change_withdrawal")
        context.update(
            approvals=withdrawal.approvals.select_related("user"),
            events=withdrawal.events.all(),
            write_offs=withdrawal.write_offs.select_related("accrual__order"),
            can_approve=can_review and withdrawal.status == S.REQUESTED,
            can_confirm=can_review and withdrawal.status == S.APPROVED and withdrawal.method == "bank",
            reason_form=ReasonForm(),
            confirm_form=ConfirmForm(),
            available=ledger.balances(partner=withdrawal.partner).available,
        )
        return context


WITHDRAWAL_ACTIONS = ("approve", "reject", "confirm", "fail")


@login_required
@require_POST
def withdrawal_act(request, pk):
    """Approve, reject, confirm a bank payout paid, or record it failed: one POST each."""
    if not request.user.has_perm("accounting.change_withdrawal"):
        raise PermissionDenied
    withdrawal = get_object_or_404(Withdrawal.objects.restrict(request.user, "change"), pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "approve":
            done = withdrawals.withdrawal_approve(withdrawal=withdrawal, actor=request.user)
        elif action == "reject":
            done = withdrawals.withdrawal_reject(
                withdrawal=withdrawal, actor=request.user, reason=request.POST.get("reason", "")
            )
        elif action == "confirm":
            done = withdrawals.payout_confirm(
                withdrawal=withdrawal, actor=request.user, reference=request.POST.get("reference", "")
            )
        elif action == "fail":
            done = withdrawals.payout_fail(
                withdrawal=withdrawal, actor=request.user, message=request.POST.get("reason", "")
            )
        else:
            raise ValidationError(gettext("Choose approve, reject, confirm or fail."))
    except ValidationError as error:
        for message in _errors(error):
            messages.error(request, message)
    else:
        audit_record(actor=request.user, action=f"withdrawal.{action}", obj=done, changes={"status": done.status})
        messages.success(
            request,
            gettext("Withdrawal %(number)s: %(status)s.")
            % {"number": done.number, "status": done.get_status_display()},
        )
    return redirect("accounting:withdrawal-detail", pk=withdrawal.pk)


@login_required
@require_POST
def bank_file(request):
    """Every approved bank withdrawal in the user's scope as a file for the bank (CSV or XLSX);
    they stay approved until finance confirms each one paid."""
    if not request.user.has_perm("accounting.change_withdrawal"):
        raise PermissionDenied
    from core.exports import table_response

    fmt = request.POST.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        fmt = "csv"
    due = list(
        Withdrawal.objects.restrict(request.user, "change")
        .filter(status=S.APPROVED, method="bank")
        .select_related("partner")
        .order_by("pk")
    )
    if not due:
        messages.info(request, gettext("No approved bank transfers are waiting."))
        return redirect("accounting:withdrawal-list")
    headers = [
        gettext("Number"),
        gettext("Account holder"),
        gettext("Bank"),
        pgettext("bank", "Account"),
        gettext("Amount"),
        gettext("Remark"),
    ]
    rows = withdrawals.bank_file_rows(due)
    audit_record(
        actor=request.user, action="withdrawal.bank_file", obj=None, changes={"withdrawals": [w.number for w in due]}
    )
    return table_response(headers, rows, fmt, filename=f"bank-transfers-{timezone.localdate():%Y%m%d}")


# --- Finance dashboard ------------------------------------------------------------------------------------


def _sum(queryset, field="amount") -> Decimal:
    return ledger.total(queryset, field)


@login_required
def finance_dashboard(request):
    user = request.user
    if not user.has_perm("accounting.view_withdrawal"):
        raise PermissionDenied
    today = timezone.localdate()
    month_start = today.replace(day=1)
    accruals = Accrual.objects.restrict(user)
    accounts = CommissionAccount.objects.restrict(user).filter(partner__isnull=False)
    balances = {
        kind: ledger.money(total) for kind, total in accounts.values_list("kind").annotate(total=Sum("balance"))
    }
    withdrawals_qs = Withdrawal.objects.restrict(user)
    to_review = withdrawals_qs.filter(status=S.REQUESTED)
    paid_month = withdrawals_qs.filter(status=S.PAID, paid_at__date__gte=month_start)
    since = today - datetime.timedelta(days=PORTAL_DAYS - 1)
    days = [since + datetime.timedelta(days=i) for i in range(PORTAL_DAYS)]
    accrued_by_day = {
        day: ledger.money(total)
        for day, total in accruals.filter(earned_on__gte=since).values_list("earned_on").annotate(total=Sum("amount"))
    }
    paid_by_day = defaultdict(Decimal)
    for paid_at, amount in withdrawals_qs.filter(status=S.PAID, paid_at__date__gte=since).values_list(
        "paid_at", "amount"
    ):
        paid_by_day[timezone.localdate(paid_at)] += amount
    chart = charts.chart(
        "bar",
        [d.isoformat() for d in days],
        [
            charts.series(gettext("Accrued"), [accrued_by_day.get(d, ZERO) for d in days]),
            charts.series(gettext("Paid out"), [paid_by_day.get(d, ZERO) for d in days]),
        ],
        money=True,
    )
    by_method = (
        paid_month.values("method").annotate(total=Sum("amount"), fees=Sum("fee"), count=Count("pk")).order_by("method")
    )
    method_labels = dict(Partner.PayoutMethod.choices)
    cards = [
        {"label": gettext("Accrued this month"), "value": _sum(accruals.filter(earned_on__gte=month_start))},
        {
            "label": gettext("Reversed this month"),
            "value": _sum(accruals.filter(earned_on__gte=month_start), "reversed_amount"),
        },
        {"label": pgettext("commission", "Pending"), "value": balances.get(CommissionAccount.Kind.PENDING, ZERO)},
        {"label": gettext("Available"), "value": balances.get(CommissionAccount.Kind.AVAILABLE, ZERO)},
        {"label": gettext("In payout"), "value": balances.get(CommissionAccount.Kind.IN_PAYOUT, ZERO)},
        {
            "label": gettext("Withdrawals to review"),
            "value": f"{to_review.count()} · {_sum(to_review)}",
            "url": reverse("accounting:withdrawal-list") + "?status=requested",
        },
        {"label": gettext("Paid out this month"), "value": _sum(paid_month)},
    ]
    if user.has_perm("accounting.change_withdrawal"):
        # The whole ledger sums to zero when the books are right: finance's daily check.
        cards.append({"label": gettext("Ledger total (must be 0.00)"), "value": ledger.ledger_total()})
    return render(
        request,
        "accounting/finance_dashboard.html",
        {
            "cards": cards,
            "chart": chart,
            "payouts": [{"method": method_labels.get(row["method"], row["method"]), **row} for row in by_method],
            "negative": Partner.objects.restrict(user).filter(
                accounts__kind=CommissionAccount.Kind.AVAILABLE, accounts__balance__lt=0
            ),
            "to_review": to_review.select_related("partner")[:20],
            # Reconciliation status of the last week by day and provider, and this month's payment
            # fees by method (accounting/reconciliation.py), for finance and administrators.
            "recon_days": _recon_week(user, today),
            "fees": reconciliation.fees_by_method(user=user, start=month_start, end=today)
            if user.has_perm("accounting.view_reconitem")
            else None,
        },
    )


def _recon_week(user, today):
    if not user.has_perm("accounting.view_reconitem"):
        return None
    return reconciliation.reconciliation_summary(user=user, start=today - datetime.timedelta(days=6), end=today)


# --- The partner portal ----------------------------------------------------------------------------------

# Portal pages and the model whose rows they list (tests/core/test_scoping_generated.py walks them).
PORTAL_PAGES: dict[str, type] = {}


def _portal_partner(request) -> Partner | None:
    if not request.user.has_perm(PORTAL_PERMISSION):
        raise PermissionDenied
    own = partner_ids_of(request.user)
    if not own:
        return None
    return Partner.objects.restrict(request.user).filter(pk__in=own).order_by("pk").first()


def _not_linked(request):
    return render(request, "accounting/portal_not_linked.html", {})


def _by(accruals, key) -> list[tuple[str, Decimal]]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for accrual in accruals:
        totals[key(accrual)] += accrual.amount - accrual.reversed_amount
    return sorted(totals.items(), key=lambda item: -item[1])[:12]


def _by_product(accruals) -> list[tuple[str, Decimal]]:
    """A share split over the order's lines in proportion to their totals."""
    from orders.models import OrderLine

    lines = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in={a.order_id for a in accruals}).select_related("product"):
        lines[line.order_id].append(line)
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for accrual in accruals:
        order_lines = lines.get(accrual.order_id) or []
        whole = sum((line.line_total for line in order_lines), ZERO)
        net = accrual.amount - accrual.reversed_amount
        for line in order_lines:
            name = str(line.product or line.description)
            totals[name] += (net * line.line_total / whole).quantize(Decimal("0.01")) if whole else ZERO
    return sorted(totals.items(), key=lambda item: -item[1])[:12]


def _bar(pairs, name) -> dict:
    return charts.chart(
        "bar", [label for label, _v in pairs], [charts.series(name, [v for _l, v in pairs])], money=True
    )


@login_required
def portal(request):
    partner = _portal_partner(request)
    if partner is None:
        return _not_linked(request)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=PORTAL_DAYS - 1)
    accruals = list(
        Accrual.objects.restrict(request.user)
        .filter(partner=partner, earned_on__gte=since)
        .select_related("order", "site", "device", "rule")
        .order_by("-earned_on", "-pk")
    )
    days = [since + datetime.timedelta(days=i) for i in range(PORTAL_DAYS)]
    per_day = defaultdict(Decimal)
    for accrual in accruals:
        per_day[accrual.earned_on] += accrual.amount - accrual.reversed_amount
    earned = gettext("Earned")
    context = {
        "partner": partner,
        "balances": ledger.balances(partner=partner),
        "by_day": charts.chart(
            "line", [d.isoformat() for d in days], [charts.series(earned, [per_day[d] for d in days])], money=True
        ),
        "by_site": _bar(_by(accruals, lambda a: str(a.site or "—")), earned),
        "by_device": _bar(_by(accruals, lambda a: str(a.device or "—")), earned),
        "by_product": _bar(_by_product(accruals), earned),
        "accruals": accruals[:50],
        "days": PORTAL_DAYS,
    }
    return render(request, "accounting/portal.html", context)


PORTAL_PAGES["accounting:portal"] = Accrual


@login_required
@require_http_methods(["GET", "POST"])
def portal_withdrawals(request):
    partner = _portal_partner(request)
    if partner is None:
        return _not_linked(request)
    form = WithdrawalRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal = withdrawals.withdrawal_request(
                partner=partner, amount=form.cleaned_data["amount"], actor=request.user
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request,
                gettext("Withdrawal %(number)s of %(amount)s requested; finance will review it.")
                % {"number": withdrawal.number, "amount": withdrawal.amount},
            )
            return redirect("accounting:portal-withdrawals")
    from accounting.conf import setting

    return render(
        request,
        "accounting/portal_withdrawals.html",
        {
            "partner": partner,
            "form": form,
            "balances": ledger.balances(partner=partner),
            "withdrawals": Withdrawal.objects.restrict(request.user).filter(partner=partner)[:100],
            "minimum": setting("WITHDRAWAL_MIN"),
            "daily_max": setting("WITHDRAWAL_DAILY_MAX"),
            "fee_rate": setting("WITHDRAWAL_FEE_RATE") * 100,
        },
    )


PORTAL_PAGES["accounting:portal-withdrawals"] = Withdrawal


@login_required
def portal_statement(request):
    partner = _portal_partner(request)
    if partner is None:
        return _not_linked(request)
    month = request.GET.get("month", "")
    fmt = request.GET.get("format", "")
    if month and fmt:
        return _statement_response(partner, month, fmt)
    month = month or timezone.localdate().strftime("%Y-%m")
    try:
        rows, totals = partner_statements.statement_rows(partner, month)
    except (ValueError, TypeError):
        month = timezone.localdate().strftime("%Y-%m")
        rows, totals = partner_statements.statement_rows(partner, month)
    accruals = Accrual.objects.restrict(request.user).filter(
        partner=partner,
        earned_on__gte=partner_statements.month_range(month)[0],
        earned_on__lte=partner_statements.month_range(month)[1],
    )
    return render(
        request,
        "accounting/portal_statement.html",
        {
            "partner": partner,
            "month": month,
            "months": _recent_months(12),
            "headers": partner_statements.statement_headers(),
            "rows": zip(accruals.order_by("earned_on", "pk").values_list("pk", flat=True), rows, strict=False),
            "totals": totals,
        },
    )


PORTAL_PAGES["accounting:portal-statement"] = Accrual


# --- Navigation and dashboard cards -------------------------------------------------------------------------

ACCOUNTING = _("Accounting")
PORTAL = _("Revenue partner portal")
nav_register(
    section=ACCOUNTING,
    label=_("Finance dashboard"),
    url_name="accounting:finance",
    permission="accounting.view_withdrawal",
    order=80,
)
nav_register(
    section=ACCOUNTING,
    label=_("Withdrawals"),
    url_name="accounting:withdrawal-list",
    permission="accounting.view_withdrawal",
    order=81,
)
nav_register(
    section=ACCOUNTING,
    label=_("Accruals"),
    url_name="accounting:accrual-list",
    permission="accounting.view_accrual",
    order=82,
)
nav_register(
    section=ACCOUNTING,
    label=_("Revenue partners"),
    url_name="accounting:partner-list",
    permission="accounting.view_partner",
    order=83,
)
nav_register(
    section=ACCOUNTING,
    label=_("Sharing rules"),
    url_name="accounting:rule-list",
    permission="accounting.view_sharingrule",
    order=84,
)
nav_register(
    section=PORTAL, label=_("My earnings"), url_name="accounting:portal", permission=PORTAL_PERMISSION, order=5
)
nav_register(
    section=PORTAL,
    label=_("My withdrawals"),
    url_name="accounting:portal-withdrawals",
    permission=PORTAL_PERMISSION,
    order=6,
)
nav_register(
    section=PORTAL,
    label=_("My statements"),
    url_name="accounting:portal-statement",
    permission=PORTAL_PERMISSION,
    order=7,
)


def _review_card(user, now):
    if partner_ids_of(user):
        return None
    waiting = Withdrawal.objects.restrict(user).filter(status=S.REQUESTED)
    count = waiting.count()
    return {
        "key": "withdrawals-to-review",
        "title": gettext("Withdrawals to review"),
        "value": count,
        "tone": "warn" if count else "ok",
        "url": reverse("accounting:withdrawal-list") + "?status=requested",
    }


def _balances_by_kind(user) -> dict:
    """The partners' commission balances the user may see, summed by kind (pending, available, in
    payout): a partner's own, or every partner's in finance's grants."""
    return dict(
        CommissionAccount.objects.restrict(user)
        .filter(kind__in=CommissionAccount.PARTNER_KINDS)
        .values("kind")
        .annotate(total=Sum("balance"))
        .values_list("kind", "total")
        .order_by()
    )


def _available_card(user, now):
    """A partner's money at a glance: what they may withdraw now, what is still pending (until
    its refund window closes) and what is on its way to them."""
    if not partner_ids_of(user):
        return None
    by_kind = _balances_by_kind(user)
    kinds = CommissionAccount.Kind
    available = by_kind.get(kinds.AVAILABLE) or Decimal("0.00")
    rows = [
        {
            "label": pgettext("commission", "Pending"),
            "value": by_kind.get(kinds.PENDING) or Decimal("0.00"),
            "money": True,
        },
        {"label": gettext("In payout"), "value": by_kind.get(kinds.IN_PAYOUT) or Decimal("0.00"), "money": True},
    ]
    if available > 0:
        rows.append(
            {"label": gettext("Request a withdrawal"), "value": None, "url": reverse("accounting:portal-withdrawals")}
        )
    return {
        "key": "available-to-withdraw",
        "title": gettext("Available to withdraw"),
        "value": available,
        "money": True,
        "rows": rows,
        "url": reverse("accounting:portal"),
        "figures": {"available": available},
    }


EARNED_TREND_DAYS = 14


def _earned_trend_card(user, now):
    """What a partner earned a day over the last two weeks, net of what refunds took back."""
    own = partner_ids_of(user)
    if not own:
        return None
    days = recent_days(now, EARNED_TREND_DAYS)
    per_day = dict(
        Accrual.objects.restrict(user)
        .filter(partner_id__in=own, earned_on__gte=days[0], earned_on__lte=days[-1])
        .values("earned_on")
        .annotate(total=Sum("amount") - Sum("reversed_amount"))
        .values_list("earned_on", "total")
        .order_by()
    )
    amounts = [per_day.get(day) or Decimal("0.00") for day in days]
    total = sum(amounts, Decimal("0.00"))
    from django.utils.formats import date_format

    return {
        "key": "earned-trend",
        "title": gettext("Earned, last %(days)s days") % {"days": EARNED_TREND_DAYS},
        "value": total,
        "money": True,
        "url": reverse("accounting:portal"),
        "chart": charts.chart(
            "line",
            [date_format(day, "SHORT_DATE_FORMAT") for day in days],
            [charts.series(gettext("Earned"), amounts)],
            money=True,
        ),
        "wide": True,
        "figures": {"total": total},
    }


def _commissions_card(user, now):
    """Finance's commission figures: what partners have earned and not yet been paid, by state."""
    if partner_ids_of(user):
        return None
    by_kind = _balances_by_kind(user)
    kinds = CommissionAccount.Kind
    rows = [
        {"label": str(kinds(kind).label), "value": by_kind.get(kind) or Decimal("0.00"), "money": True}
        for kind in CommissionAccount.PARTNER_KINDS
    ]
    owed = sum((row["value"] for row in rows), Decimal("0.00"))
    return {
        "key": "commissions",
        "title": gettext("Commissions owed to partners"),
        "value": owed,
        "money": True,
        "rows": rows,
        "url": reverse("accounting:finance"),
    }


card_register(key="available-to-withdraw", order=5, permission=PORTAL_PERMISSION, build=_available_card)
card_register(key="earned-trend", order=6, permission=PORTAL_PERMISSION, build=_earned_trend_card)
card_register(key="withdrawals-to-review", order=15, permission="accounting.change_withdrawal", build=_review_card)
card_register(
    key="commissions",
    order=FINANCE_COMMISSIONS_ORDER,
    roles={FINANCE, PLATFORM_ADMIN},
    permission="accounting.view_commissionaccount",
    build=_commissions_card,
)
