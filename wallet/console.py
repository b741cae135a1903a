"""Console pages of the wallet: recharges and the bonus tiers of a region."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from core.models import Region
from wallet.models import BonusTier, Recharge


class RechargeListView(ScopedListView):
    model = Recharge
    url_name = "wallet:recharge-list"
    title = _("Recharges")
    select_related = ("order", "customer", "tier")
    columns = [
        ("order__number", _("Order")),
        ("customer", _("Customer")),
        ("amount", _("Amount")),
        ("bonus", _("Bonus")),
        ("order__status", _("Status")),
        ("order__created_at", _("Created")),
    ]


class BonusTierListView(ScopedListView):
    model = BonusTier
    url_name = "wallet:tier-list"
    title = _("Recharge bonus tiers")
    select_related = ("region",)
    columns = [
        ("region", _("Region")),
        ("min_amount", _("Recharge at least")),
        ("bonus", _("Bonus")),
        ("valid_from", _("Valid from")),
        ("valid_until", _("Valid until")),
        ("is_active", _("Active")),
    ]
    actions = [(_("New bonus tier"), "wallet:tier-create", "wallet.add_bonustier")]


class BonusTierForm(forms.ModelForm):
    class Meta:
        model = BonusTier
        fields = ["region", "min_amount", "bonus", "valid_from", "valid_until", "is_active"]
        widgets = {
            "valid_from": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "valid_until": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "change")

    def clean(self):
        data = super().clean()
        if data.get("min_amount") is not None and data["min_amount"] <= 0:
            self.add_error("min_amount", _("The recharge amount must be more than zero."))
        if data.get("bonus") is not None and data["bonus"] < 0:
            self.add_error("bonus", _("The bonus cannot be negative."))
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            self.add_error("valid_until", _("The tier must end after it starts."))
        return data


def tier_create(request):
    if not request.user.has_perm("wallet.add_bonustier"):
        raise PermissionDenied
    form = BonusTierForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        tier = form.save()
        from core.services import audit_record

        audit_record(actor=request.user, action="bonus_tier.create", obj=tier, region=tier.region)
        messages.success(request, gettext("Bonus tier saved."))
        return redirect("wallet:tier-list")
    return render(request, "staff/form.html", {"form": form, "title": gettext("New bonus tier")})


nav_register(
    section=_("Customers"),
    label=_("Recharges"),
    url_name="wallet:recharge-list",
    permission="wallet.view_recharge",
    order=64,
)
nav_register(
    section=_("Customers"),
    label=_("Recharge bonus tiers"),
    url_name="wallet:tier-list",
    permission="wallet.view_bonustier",
    order=65,
)
