"""Console pages of core: the dashboard, regions, sites, the audit log and my notifications."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.filters import AuditFilter, OutboxFilter, SiteFilter
from core.models import AuditEntry, OutboxMessage, Region, Site
from core.selectors import notification_list_for
from core.services import notification_mark_read, notifications_mark_all_read

# The websockets a dashboard listens to, and the permission each one checks on connecting.
LIVE_SOCKET_PERMISSIONS = {"orders": "orders.view_order", "fleet": "devices.view_device"}
MAX_REFRESHED_CARDS = 20


@login_required
def dashboard(request):
    """Every role's first page: the cards of the user's role, each figure inside their grants."""
    from core.dashboard import dashboard_cards

    cards = dashboard_cards(request.user)
    live = sorted(
        {
            card["live"]
            for card in cards
            if card["live"] and request.user.has_perm(LIVE_SOCKET_PERMISSIONS.get(card["live"], "-"))
        }
    )
    return render(request, "core/dashboard.html", {"cards": cards, "live": live})


@login_required
def dashboard_cards(request):
    """The named cards again, rendered for the user (the dashboard asks after a live message):
    `?keys=sales-today,devices` -> {"cards": {key: html}}. Unknown keys and cards the user does
    not get are left out."""
    from django.http import JsonResponse
    from django.template.loader import render_to_string

    from core.dashboard import dashboard_cards as build

    keys = {key for key in request.GET.get("keys", "").split(",") if key}
    if not keys or len(keys) > MAX_REFRESHED_CARDS:
        return JsonResponse({"error": str(_("Name between 1 and 20 cards."))}, status=400)
    cards = build(request.user, keys=keys)
    return JsonResponse(
        {"cards": {card["key"]: render_to_string("core/_card.html", {"card": card}, request=request) for card in cards}}
    )


class RegionListView(ScopedListView):
    model = Region
    url_name = "core:region-list"
    title = _("Regions")
    columns = [("name", _("Name")), ("code", _("Code")), ("kind", _("Kind")), ("parent", _("Parent"))]
    select_related = ("parent",)


class SiteListView(ScopedListView):
    model = Site
    url_name = "core:site-list"
    detail_url_name = "core:site-detail"
    title = _("Sites")
    filterset_class = SiteFilter
    columns = [
        ("name", _("Name")),
        ("code", _("Code")),
        ("kind", _("Kind")),
        ("region", _("Region")),
        ("address", _("Address")),
    ]
    select_related = ("region",)


class SiteDetailView(ScopedDetailView):
    model = Site
    template_name = "core/site_detail.html"
    select_related = ("region",)


class AuditListView(ScopedListView):
    model = AuditEntry
    url_name = "core:audit-list"
    title = _("Audit log")
    filterset_class = AuditFilter
    columns = [
        ("at", _("At")),
        ("actor_label", _("Actor")),
        ("action", _("Action")),
        ("object_repr", _("Object")),
        ("changes", _("Changes")),
    ]
    verbatim = ("action", "changes")  # the audited action's code (what the filter takes) and its data


class OutboxListView(ScopedListView):
    """Every SMS and email the embedded default "sent" (pickup codes, initial passwords, sign-in
    codes): platform administrators only, since the messages carry secrets."""

    model = OutboxMessage
    platform_only = True  # not region-scoped: the messages of every region, with their secrets
    url_name = "core:outbox"
    title = _("Message outbox")
    filterset_class = OutboxFilter
    columns = [
        ("created_at", _("Sent")),
        ("channel", _("Channel")),
        ("address", pgettext_lazy("recipient", "To")),
        ("subject", _("Subject")),
        ("body", _("Message")),
    ]

    def base_queryset(self):
        from staff.policies import has_role
        from staff.roles import PLATFORM_ADMIN

        if not (self.request.user.is_superuser or has_role(self.request.user, PLATFORM_ADMIN)):
            raise PermissionDenied  # even with the permission granted by hand
        return super().base_queryset()


@login_required
def notification_list(request):
    notifications = notification_list_for(recipient=request.user)[:100]
    return render(request, "core/notifications.html", {"notifications": notifications})


@login_required
@require_POST
def notification_read(request, pk):
    notification = get_object_or_404(notification_list_for(recipient=request.user), pk=pk)
    notification_mark_read(notification=notification)
    return redirect("core:notification-list")


@login_required
@require_POST
def notification_read_all(request):
    count = notifications_mark_all_read(recipient=request.user)
    if count:
        messages.success(
            request,
            ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", count) % {"n": count},
        )
    return redirect("core:notification-list")


nav_register(section=_("Overview"), label=_("Dashboard"), url_name="core:dashboard", order=0)
nav_register(
    section=_("Organisation"), label=_("Regions"), url_name="core:region-list", permission="core.view_region", order=80
)
nav_register(
    section=_("Organisation"), label=_("Sites"), url_name="core:site-list", permission="core.view_site", order=81
)
nav_register(
    section=_("Organisation"),
    label=_("Audit log"),
    url_name="core:audit-list",
    permission="core.view_auditentry",
    order=89,
)


def favicon(request):
    """Browsers and the admin ask for /favicon.ico; answer with the console's icon."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("console/favicon.svg"))


nav_register(
    section=_("Organisation"),
    label=_("Message outbox"),
    url_name="core:outbox",
    permission="core.view_outboxmessage",
    order=90,
)


# --- Settings operators edit per region (ADR 16) ----------------------------------------------
def _settings_regions(user, action: str):
    """The regions whose settings `user` may see (action="view") or change (action="change")."""
    from core.scoping import user_grants

    grants = user_grants(user, action)
    regions = Region.objects.all()
    if grants.everything:
        return regions
    from django.db.models import Q

    query = Q(pk__in=[])
    for path in grants.region_paths:
        query |= Q(path__startswith=path)
    return regions.filter(query)


@login_required
def region_settings_index(request):
    """The regions whose parameters this user may see, each linking to its settings page."""
    if not request.user.has_perm("core.view_regionsetting"):
        raise PermissionDenied
    regions = list(_settings_regions(request.user, "view").select_related("parent"))
    return render(request, "core/region_settings_index.html", {"regions": regions, "title": _("Settings")})


@login_required
def region_settings(request, pk):
    """One region's parameters: the effective value, where it comes from, and (with the right
    and a change grant over the region) a form per setting to override it or reset it."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from core.models import RegionSetting
    from core.region_settings import REGISTRY, region_setting_reset, region_setting_set, region_setting_source

    if not request.user.has_perm("core.view_regionsetting"):
        raise PermissionDenied
    region = get_object_or_404(_settings_regions(request.user, "view"), pk=pk)
    may_change = (
        request.user.has_perm("core.change_regionsetting")
        and _settings_regions(request.user, "change").filter(pk=region.pk).exists()
    )
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        key = request.POST.get("key", "")
        if key not in REGISTRY:
            messages.error(request, _("There is no setting %(key)s.") % {"key": key})
        elif request.POST.get("action") == "reset":
            if region_setting_reset(actor=request.user, region=region, key=key):
                messages.success(request, _("%(label)s is inherited again.") % {"label": REGISTRY[key].label})
            return redirect("core:region-settings", pk=region.pk)
        else:
            try:
                value = region_setting_set(actor=request.user, region=region, key=key, raw=request.POST.get("value"))
            except ValidationError as error:
                errors[key] = " ".join(error.messages)
                typed[key] = request.POST.get("value", "")
            else:
                messages.success(
                    request,
                    _("%(label)s is now %(value)s in %(region)s.")
                    % {"label": REGISTRY[key].label, "value": value, "region": region},
                )
                return redirect("core:region-settings", pk=region.pk)
    own = dict(RegionSetting.objects.filter(region=region).values_list("key", "value"))
    names = dict(Region.objects.filter(pk__in=region.ancestor_ids()).values_list("pk", "name"))
    sections: dict[str, list[dict]] = {}
    for key, setting in REGISTRY.items():
        value, source = region_setting_source(key, region)
        if source == region.pk:
            origin = _("Set here")
        elif source is not None:
            origin = _("Inherited from %(region)s") % {"region": names.get(source, source)}
        else:
            origin = _("Default")
        sections.setdefault(str(setting.section), []).append(
            {
                "key": key,
                "setting": setting,
                "value": value,
                "origin": origin,
                "own": key in own,
                "error": errors.get(key, ""),
                "typed": typed.get(key, value),
            }
        )
    return render(
        request,
        "core/region_settings.html",
        {
            "region": region,
            "sections": sections,
            "may_change": may_change,
            "title": _("Settings of %(region)s") % {"region": region},
        },
        status=400 if errors else 200,
    )


nav_register(
    section=_("Organisation"),
    label=_("Settings"),
    url_name="core:region-settings-index",
    permission="core.view_regionsetting",
    order=82,
)


# --- Background exports (core.exports) ----------------------------------------------------------
def _own_export_job(request, pk):
    """The caller's own export job; anyone else's answers 404, like an id that does not exist."""
    from core.models import ExportJob

    return get_object_or_404(ExportJob, pk=pk, user=request.user)


def _export_job_state(job) -> dict:
    from django.urls import reverse

    done = job.status == job.Status.DONE
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "percent": job.percent,
        "download_url": reverse("core:export-download", args=[job.pk]) if done else None,
        "error": job.error or None,
    }


@login_required
def export_job(request, pk):
    """The page an export too large to answer at once leads to: a progress bar, then the link."""
    from core.exports import EXPORTERS

    job = _own_export_job(request, pk)
    exporter = EXPORTERS.get(job.exporter)
    back_url = exporter.back_url(job.params) if exporter and exporter.back_url else ""
    return render(request, "core/export_job.html", {"job": job, "state": _export_job_state(job), "back_url": back_url})


@login_required
def export_job_status(request, pk):
    """The job page polls this: a few numbers, no rows."""
    from django.http import JsonResponse

    return JsonResponse(_export_job_state(_own_export_job(request, pk)))


@login_required
def export_download(request, pk):
    from django.http import FileResponse, Http404

    from core.exports import XLSX, export_file_path

    job = _own_export_job(request, pk)
    if job.status != job.Status.DONE:
        raise Http404
    path = export_file_path(job)
    if not path.exists():
        raise Http404
    content_type = XLSX if job.format == "xlsx" else "text/csv; charset=utf-8"
    filename = f"{job.exporter}-{job.created_at:%Y%m%d-%H%M}.{job.format}"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
