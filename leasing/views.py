"""Console pages of leasing: assets with their state and place, and leases."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from leasing.models import Asset, Lease


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
