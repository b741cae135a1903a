"""Console pages of the wallet: recharges and the bonus tiers of a region."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, form_page, nav_register
from core.forms import RegionScopedModelForm, window_input
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


class BonusTierForm(RegionScopedModelForm):
    window = ("valid_from", "valid_until")
    window_message = _("The tier must end after it starts.")

    class Meta:
        model = BonusTier
        fields = ["region", "min_amount", "bonus", "valid_from", "valid_until", "is_active"]
        widgets = {"valid_from": window_input(), "valid_until": window_input()}

    def clean(self):
        data = super().clean()
        if data.get("min_amount") is not None and data["min_amount"] <= 0:
            self.add_error("min_amount", _("The recharge amount must be more than zero."))
        if data.get("bonus") is not None and data["bonus"] < 0:
            self.add_error("bonus", _("The bonus cannot be negative."))
        return data


def tier_create(request):
    return form_page(
        request,
        form=BonusTierForm(request.POST or None, user=request.user),
        permission="wallet.add_bonustier",
        title=gettext("New bonus tier"),
        success_url="wallet:tier-list",
        audit_action="bonus_tier.create",
        message=gettext("Bonus tier saved."),
    )


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
