"""Console pages of leasing: assets with their state and place, leases, the live view of the
leases in use with their running cost, a customer's rental history with receipts, rate plans."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from core.forms import RegionScopedModelForm
from leasing.models import Asset, Lease, RatePlan
from leasing.pricing import minutes_between, price
from members.models import Customer


class AssetListView(ScopedListView):
    model = Asset
    url_name = "leasing:asset-list"
    title = _("Rentable assets")
    select_related = ("station", "site")
    columns = [
        ("serial", _("Serial")),
        ("kind", _("Kind")),
        ("state", _("State")),
        ("station", _("Station")),
        ("slot", _("Slot")),
        ("site", _("Site")),
    ]


class LeaseListView(ScopedListView):
    model = Lease
    url_name = "leasing:lease-list"
    title = _("Leases")
    select_related = ("order", "asset", "customer")
    columns = [
        ("order", _("Order")),
        ("asset", _("Asset")),
        ("customer", _("Customer")),
        ("stage", _("Stage")),
        ("rented_at", _("Rented")),
        ("returned_at", _("Returned")),
        ("amount", _("Billed")),
    ]


class RatePlanListView(ScopedListView):
    model = RatePlan
    url_name = "leasing:plan-list"
    detail_url_name = "leasing:plan-edit"
    title = _("Rate plans")
    select_related = ("region",)
    columns = [
        ("name", _("Name")),
        ("asset_kind", _("Asset kind")),
        ("region", _("Region")),
        ("unit_minutes", _("Unit (minutes)")),
        ("unit_price", _("Price per unit")),
        ("free_minutes", _("Free minutes")),
        ("daily_cap", _("Daily cap")),
        ("max_total", _("Maximum total")),
        ("deposit", _("Deposit")),
        ("billing_period", _("Long-term billing")),
        ("is_active", _("Active")),
    ]
    actions = [(_("New rate plan"), "leasing:plan-create", "leasing.add_rateplan")]


class RatePlanForm(RegionScopedModelForm):
    class Meta:
        model = RatePlan
        fields = [
            "name",
            "asset_kind",
            "region",
            "unit_minutes",
            "unit_price",
            "free_minutes",
            "daily_cap",
            "max_total",
            "deposit",
            "billing_period",
            "period_price",
            "due_minutes",
            "late_period_minutes",
            "late_fee",
            "late_fee_cap",
            "lost_after_minutes",
            "pay_later_level",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "deposit" in self.fields and self.instance.pk is None:
            self.fields["deposit"].required = False  # blank: the region's default deposit (ADR 16)
            self.fields["deposit"].help_text = _("Leave blank for the region's default deposit.")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and data.get("deposit") is None and data.get("region") is not None:
            from core.region_settings import region_setting

            data["deposit"] = region_setting("rentals.default_deposit", data["region"])
        for field in ("unit_price", "deposit", "late_fee", "daily_cap", "max_total", "late_fee_cap", "period_price"):
            value = data.get(field)
            if value is not None and value < 0:
                self.add_error(field, _("Amounts cannot be negative."))
        if data.get("billing_period") and not data.get("period_price"):
            self.add_error("period_price", _("A long-term plan needs its price per period."))
        if (
            data.get("daily_cap") is not None
            and data.get("max_total") is not None
            and data["max_total"] < data["daily_cap"]
        ):
            self.add_error("max_total", _("The maximum total cannot be below the daily cap."))
        return data


def plan_edit(request, pk=None):
    """A rate plan: shown to whoever may see it, saved by whoever may change it."""
    permission = "leasing.change_rateplan" if pk else "leasing.add_rateplan"
    if not request.user.has_perm(permission if (request.method == "POST" or not pk) else "leasing.view_rateplan"):
        raise PermissionDenied
    action = "change" if request.method == "POST" else "view"
    plan = get_object_or_404(RatePlan.objects.restrict(request.user, action), pk=pk) if pk else None
    form = RatePlanForm(request.POST or None, instance=plan, user=request.user)
    if not request.user.has_perm(permission):
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        plan = form.save()
        from core.services import audit_record

        audit_record(
            actor=request.user,
            action="rate_plan.save",
            obj=plan,
            changes={k: str(v) for k, v in form.cleaned_data.items() if k in form.changed_data},
            region=plan.region,
        )
        messages.success(request, gettext("Rate plan saved."))
        return redirect("leasing:plan-list")
    title = gettext("Rate plan %(name)s") % {"name": plan.name} if plan else gettext("New rate plan")
    return render(request, "staff/form.html", {"form": form, "title": title})


def _running(lease, now):
    if lease.plan.billing_period:
        return None
    return price(lease.plan.pricing(), minutes_between(lease.rented_at, now)).total


def active_leases(request):
    """Who has what since when, and what it costs so far; refreshed in place every 15 seconds."""
    if not request.user.has_perm("leasing.view_lease"):
        raise PermissionDenied
    now = timezone.now()
    leases = list(
        Lease.objects.restrict(request.user)
        .filter(stage__in=[Lease.Stage.IN_USE, Lease.Stage.EJECTING])
        .select_related("order__site", "asset", "bulk_item", "customer", "plan")
        .order_by("rented_at")[:500]
    )
    rows = [
        {
            "lease": lease,
            "running": _running(lease, now),
            "overdue": bool(lease.due_at and lease.due_at < now),
            "minutes": minutes_between(lease.rented_at, now),
        }
        for lease in leases
    ]
    template = "leasing/active_rows.html" if request.GET.get("partial") else "leasing/active.html"
    return render(request, template, {"rows": rows, "now": now})


def availability_page(request):
    """What can be rented now, per store and station; refreshed in place every 15 seconds."""
    if not request.user.has_perm("leasing.view_asset"):
        raise PermissionDenied
    from leasing.services import availability

    template = "leasing/availability_rows.html" if request.GET.get("partial") else "leasing/availability.html"
    return render(request, template, {"rows": availability(request.user), "now": timezone.now()})


def customer_history(request, pk):
    """A customer's rentals, each with its receipt."""
    if not request.user.has_perm("leasing.view_lease"):
        raise PermissionDenied
    visible = Lease.objects.restrict(request.user).filter(customer_id=pk)
    customer = Customer.objects.restrict(request.user).filter(pk=pk).first()
    if customer is None and visible.exists():  # a visitor from elsewhere who rented here
        customer = Customer.objects.get(pk=pk)
    if customer is None:
        raise Http404
    leases = (
        Lease.objects.restrict(request.user)
        .filter(customer=customer)
        .select_related("order", "asset", "bulk_item", "plan", "return_station")
        .prefetch_related("charges")
    )
    return render(request, "leasing/history.html", {"customer": customer, "leases": leases})


nav_register(
    section=_("Leasing"),
    label=_("Active leases"),
    url_name="leasing:active",
    permission="leasing.view_lease",
    order=39,
)
nav_register(
    section=_("Leasing"),
    label=_("Rate plans"),
    url_name="leasing:plan-list",
    permission="leasing.view_rateplan",
    order=42,
)
nav_register(
    section=_("Leasing"), label=_("Leases"), url_name="leasing:lease-list", permission="leasing.view_lease", order=40
)
nav_register(
    section=_("Leasing"),
    label=_("Rentable assets"),
    url_name="leasing:asset-list",
    permission="leasing.view_asset",
    order=41,
)
