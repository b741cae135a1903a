"""Console pages of reconciliation and the journal export, for finance (and platform
administrators; regional administrators may look): the daily summary, the differences and their
resolution, statement upload, and the journal file. Every query is restricted to the caller's
grants (core.scoping); an id outside them answers 404."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import View

from accounting import journal, reconciliation
from accounting.recon_filters import ReconItemFilter, StatementFilter
from accounting.recon_models import ReconItem, Statement, StatementProvider
from core.console import ConsoleMixin, ScopedListView, nav_register
from core.forms import ScopedChoicesMixin, date_input
from core.models import Region

SUMMARY_DAYS = 14


def _date(value: str | None, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default


# --- Summary ---------------------------------------------------------------------------------
class SummaryView(ConsoleMixin, View):
    permission_required = "accounting.view_reconitem"

    def get(self, request):
        today = timezone.localdate()
        end = _date(request.GET.get("end"), today)
        start = _date(request.GET.get("start"), end - datetime.timedelta(days=SUMMARY_DAYS - 1))
        if start > end or (end - start).days > 92:
            messages.error(request, _("Show at most three months, first day before last."))
            start, end = end - datetime.timedelta(days=SUMMARY_DAYS - 1), end
        days = reconciliation.reconciliation_summary(user=request.user, start=start, end=end)
        return render(
            request,
            "accounting/recon/summary.html",
            {
                "days": days,
                "providers": StatementProvider.choices,
                "start": start,
                "end": end,
                "fees": reconciliation.fees_by_method(user=request.user, start=start, end=end),
            },
        )


# --- Differences -----------------------------------------------------------------------------
class ReconItemListView(ScopedListView):
    model = ReconItem
    url_name = "accounting:recon-item-list"
    detail_url_name = "accounting:recon-item-detail"
    title = _("Reconciliation lines")
    filterset_class = ReconItemFilter
    select_related = ("region",)
    columns = [
        ("reference", _("Reference")),
        ("day", _("Day")),
        ("provider", _("Provider")),
        ("kind", _("Result")),
        ("status", _("Status")),
        ("our_amount", _("Our amount")),
        ("their_amount", _("Their amount")),
        ("expected_fee", _("Fee at our rate")),
        ("their_fee", _("Their fee")),
        ("region", _("Region")),
    ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for row in context["rows"]:  # a line without a reference still needs its link
            if not row["cells"][0][1]:
                row["cells"][0] = ("reference", "—")
        return context


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("How was it settled?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=reconciliation.NOTE_MAX,
    )


class ReconItemDetailView(ConsoleMixin, View):
    permission_required = "accounting.view_reconitem"

    def _item(self, request, pk):
        item = (
            ReconItem.objects.restrict(request.user)
            .select_related("region", "payment__order", "refund__order", "line__statement", "resolved_by")
            .filter(pk=pk)
            .first()
        )
        if item is None:
            raise Http404
        return item

    def get(self, request, pk):
        return self._render(request, self._item(request, pk), ResolveForm())

    def post(self, request, pk):
        if not request.user.has_perm("accounting.change_reconitem"):
            raise PermissionDenied
        item = self._item(request, pk)
        form = ResolveForm(request.POST)
        if form.is_valid():
            try:
                reconciliation.recon_item_resolve(actor=request.user, item_id=item.pk, note=form.cleaned_data["note"])
            except ValidationError as error:
                form.add_error("note" if hasattr(error, "error_dict") else None, error)
            else:
                messages.success(request, _("Marked as resolved."))
                return redirect(
                    f"{reverse('accounting:recon-item-list')}?day={item.day.isoformat()}&provider={item.provider}"
                )
        return self._render(request, item, form, status=400)

    def _render(self, request, item, form, status=200):
        return render(
            request,
            "accounting/recon/item_detail.html",
            {
                "item": item,
                "form": form,
                "can_resolve": item.status == ReconItem.Status.OPEN
                and request.user.has_perm("accounting.change_reconitem"),
            },
            status=status,
        )


# --- Statements ------------------------------------------------------------------------------
class StatementListView(ScopedListView):
    model = Statement
    url_name = "accounting:statement-list"
    detail_url_name = "accounting:statement-detail"
    title = _("Provider statements")
    filterset_class = StatementFilter
    select_related = ("region", "imported_by")
    columns = [
        ("file_name", _("File")),
        ("provider", _("Provider")),
        ("first_day", _("First day")),
        ("last_day", _("Last day")),
        ("line_count", _("Lines")),
        ("region", _("Region")),
        ("imported_by", _("Imported by")),
        ("imported_at", _("Imported")),
    ]
    actions = [(_("Import a statement"), "accounting:statement-upload", "accounting.add_statement")]


class StatementDetailView(ConsoleMixin, View):
    permission_required = "accounting.view_statement"

    def get(self, request, pk):
        statement = Statement.objects.restrict(request.user).select_related("region").filter(pk=pk).first()
        if statement is None:
            raise Http404
        return render(
            request,
            "accounting/recon/statement_detail.html",
            {"statement": statement, "lines": statement.lines.all()[:2000]},
        )


class StatementUploadForm(ScopedChoicesMixin, forms.Form):
    provider = forms.ChoiceField(label=_("Provider"), choices=StatementProvider.choices)
    region = forms.ModelChoiceField(
        label=_("Merchant account of region"),
        queryset=Region.objects.all(),
        help_text=_("The region whose merchant account the statement belongs to; our side is matched within it."),
    )
    file = forms.FileField(
        label=_("Statement file"),
        help_text=_(
            "WeChat Pay: the trade bill (交易账单, CSV). Alipay: the account statement (账务明细, CSV in GBK). "
            "Stripe: the balance transactions export (CSV) or the API's JSON."
        ),
    )


class StatementUploadView(ConsoleMixin, View):
    permission_required = "accounting.add_statement"

    def get(self, request):
        return self._render(request, StatementUploadForm(user=request.user))

    def post(self, request):
        form = StatementUploadForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = reconciliation.statement_import(
                    actor=request.user,
                    provider=form.cleaned_data["provider"],
                    region=form.cleaned_data["region"],
                    file_name=upload.name,
                    content=upload.read(reconciliation.MAX_FILE_BYTES + 1),
                )
            except ValidationError as error:
                form.add_error("file", error)
            else:
                messages.success(
                    request,
                    _("%(lines)s lines imported; reconciliation runs for %(first)s to %(last)s.")
                    % {"lines": statement.line_count, "first": statement.first_day, "last": statement.last_day},
                )
                return redirect("accounting:statement-detail", pk=statement.pk)
        return self._render(request, form, status=400)

    def _render(self, request, form, status=200, fetch_form=None):
        from accounting.statements.stripe_fetch import stripe_fetch_available

        if fetch_form is None and stripe_fetch_available():
            fetch_form = StripeFetchForm(
                user=request.user, initial={"day": timezone.localdate() - datetime.timedelta(days=1)}
            )
        return render(
            request,
            "accounting/recon/statement_upload.html",
            {"form": form, "fetch_form": fetch_form},
            status=status,
        )


class StripeFetchForm(ScopedChoicesMixin, forms.Form):
    region = forms.ModelChoiceField(label=_("Merchant account of region"), queryset=Region.objects.all())
    day = forms.DateField(label=_("Day"), widget=date_input())


class StripeFetchView(ConsoleMixin, View):
    permission_required = "accounting.add_statement"

    def post(self, request):
        form = StripeFetchForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                statement = reconciliation.statement_fetch_stripe(
                    actor=request.user, region=form.cleaned_data["region"], day=form.cleaned_data["day"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(lines)s lines fetched from Stripe.") % {"lines": statement.line_count})
                return redirect("accounting:statement-detail", pk=statement.pk)
        view = StatementUploadView()
        return view._render(request, StatementUploadForm(user=request.user), status=400, fetch_form=form)


# --- Journal ---------------------------------------------------------------------------------
class JournalForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=date_input())
    end = forms.DateField(label=_("To"), widget=date_input())
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                raise ValidationError(_("The period must end on or after its first day."))
            if (data["end"] - data["start"]).days >= journal.MAX_DAYS:
                raise ValidationError(_("Export at most a year at a time."))
        return data


class JournalView(ConsoleMixin, View):
    permission_required = "accounting.export_journal"

    def get(self, request):
        from core.exports import table_response

        form = JournalForm(request.GET) if "format" in request.GET else None
        if form is not None and form.is_valid():
            data = form.cleaned_data
            headers, rows = journal.journal_rows(user=request.user, start=data["start"], end=data["end"])
            return table_response(
                headers, rows, data["format"], filename=f"journal-{data['start']}-{data['end']}", sheet="journal"
            )
        today = timezone.localdate()
        if form is None:
            form = JournalForm(initial={"start": today.replace(day=1), "end": today, "format": "xlsx"})
        return self._render(request, form, status=200 if form.is_bound is False else 400)

    def _render(self, request, form, status=200):
        codes = journal.account_codes()
        kinds = [(kind, journal.kind_label(kind), codes.get(kind, "")) for kind in sorted(journal.KINDS)]
        return render(
            request,
            "accounting/recon/journal.html",
            {
                "form": form,
                "kinds": kinds,
                "can_edit": request.user.has_perm("accounting.change_journalaccount"),
            },
            status=status,
        )


class JournalAccountsView(ConsoleMixin, View):
    permission_required = "accounting.change_journalaccount"

    def post(self, request):
        codes = {key[5:]: value for key, value in request.POST.items() if key.startswith("code:")}
        try:
            changed = journal.journal_accounts_set(actor=request.user, codes=codes)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(count)s account codes changed.") % {"count": changed})
        return redirect("accounting:journal")


nav_register(
    section=_("Finance"),
    label=_("Reconciliation"),
    url_name="accounting:recon-summary",
    permission="accounting.view_reconitem",
    order=60,
)
nav_register(
    section=_("Finance"),
    label=_("Reconciliation lines"),
    url_name="accounting:recon-item-list",
    permission="accounting.view_reconitem",
    order=61,
)
nav_register(
    section=_("Finance"),
    label=_("Provider statements"),
    url_name="accounting:statement-list",
    permission="accounting.view_statement",
    order=62,
)
nav_register(
    section=_("Finance"),
    label=_("Journal export"),
    url_name="accounting:journal",
    permission="accounting.export_journal",
    order=63,
)
