"""Report pages of the console: one view for every page in reports.pages.REPORT_PAGES, with its
exports (?export=csv|xlsx|pdf) and its figures as JSON (?format=json) for charts and dashboards.
A request a report cannot answer gets the reason and no figures; no query is run for it."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.console import nav_register
from reports.exports import FORMATS, report_response
from reports.forms import ReportForm
from reports.pages import PAGES_BY_SLUG, REPORT_PAGES, page_query
from reports.selectors import ReportError, supplier_products


def _allowed(user, page) -> bool:
    if not user.has_perm(page.permission):
        return False
    return page.suppliers or supplier_products(user) is None


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value if isinstance(value, int | float | type(None)) else str(value)


@login_required
def report(request, slug: str):
    page = PAGES_BY_SLUG.get(slug)
    if page is None:
        raise Http404
    if not _allowed(request.user, page):
        raise PermissionDenied
    data = request.GET
    if "measure" in page.fields and not data.get("measure"):
        # The form shows the figure the page counts by default (the heat map counted orders while
        # its form showed the first choice, net sales).
        data = data.copy()
        data["measure"] = page.default_measure
    form = ReportForm(data, user=request.user, fields=page.fields, default_by=page.default_by)
    export = request.GET.get("export", "")
    as_json = request.GET.get("format") == "json"
    sections, error, query = [], "", None
    if export and export not in FORMATS:
        error = _("Unknown export format: %(name)s.") % {"name": export}
    else:
        try:
            query = page_query(page, form)
            sections = page.build(request.user, query)
        except ReportError as refused:
            error = str(refused)
    title = str(page.title)
    if error and (export or as_json):
        if as_json:
            return JsonResponse({"error": error}, status=400)
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    subtitle = f"{query.date_from:%Y-%m-%d} – {query.date_to:%Y-%m-%d}" if query else ""
    if export:
        filename = f"{page.slug}-{query.date_from:%Y%m%d}-{query.date_to:%Y%m%d}"
        return report_response(title, sections, export, filename=filename, subtitle=subtitle)
    if as_json:
        return JsonResponse(
            {
                "title": title,
                "date_from": query.date_from.isoformat(),
                "date_to": query.date_to.isoformat(),
                "sections": [
                    {
                        "title": str(section.title),
                        "headers": [str(h) for h in section.headers],
                        "rows": [[_json_value(v) for v in row] for row in section.rows],
                        "chart": section.chart,
                    }
                    for section in sections
                ],
            }
        )
    return render(
        request,
        "reports/report.html",
        {
            "page": page,
            "title": title,
            "subtitle": subtitle,
            "form": form,
            "error": error,
            "sections": [
                {
                    "section": section,
                    "rows": section.rows,
                    "money": {i % len(section.headers) for i in section.money_columns},
                    "chart_id": f"chart-{page.slug}-{index}",
                }
                for index, section in enumerate(sections, start=1)
            ],
            "querystring": form.querystring(),
            "pages": [p for p in REPORT_PAGES if _allowed(request.user, p)],
            "formats": FORMATS,
        },
    )


for _order, _page in enumerate(REPORT_PAGES):
    nav_register(
        section=gettext_lazy("Reports"),
        label=_page.title,
        url_name=_page.url_name,
        permission=_page.permission,
        order=300 + _order,
    )


@login_required
@require_http_methods(["GET", "POST"])
def summary(request):
    """Subscribe to the daily summary email, change its language or hour, unsubscribe, and
    preview it: the figures of a day within the user's grants, as the email will show them."""
    from reports import services
    from reports.forms import SummaryPreviewForm, SummarySubscriptionForm
    from reports.models import SummarySubscription

    user = request.user
    if not user.has_perm(services.VIEW_SALES) or supplier_products(user) is not None:
        raise PermissionDenied
    subscription = SummarySubscription.objects.filter(user=user).first()
    language = (subscription and subscription.language) or user.language or request.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    initial = {"language": language, "hour": subscription.hour if subscription else 8}
    form = SummarySubscriptionForm(initial=initial)
    if request.method == "POST":
        if request.POST.get("action") == "unsubscribe":
            services.summary_unsubscribe(user=user)
            messages.success(request, _("You will no longer receive the daily summary."))
            return redirect("reports:summary")
        form = SummarySubscriptionForm(request.POST)
        if not user.email:
            form.add_error(None, _("Your account has no email address; ask an administrator to add one."))
        elif form.is_valid():
            services.summary_subscribe(user=user, **form.cleaned_data)
            messages.success(request, _("You will receive the daily summary every day."))
            return redirect("reports:summary")
    preview_form = SummaryPreviewForm(request.GET)
    subject = body = ""
    if preview_form.is_valid():
        subject, body = services.summary_render(user=user, day=preview_form.cleaned_data["day"], language=language)
    return render(
        request,
        "reports/summary.html",
        {
            "title": _("Daily summary email"),
            "form": form,
            "preview_form": preview_form,
            "subscription": subscription,
            "subject": subject,
            "body": body,
            "preview_language": language,
        },
    )


nav_register(
    section=gettext_lazy("Reports"),
    label=gettext_lazy("Daily summary email"),
    url_name="reports:summary",
    permission="reports.view_salesday",
    order=399,
)
