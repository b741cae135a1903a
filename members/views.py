"""Console pages of members."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from members.models import Customer


class CustomerListView(ScopedListView):
    model = Customer
    url_name = "members:customer-list"
    title = _("Customers")
    columns = [
        ("phone", _("Phone")),
        ("name", _("Name")),
        ("home_region", _("Home region")),
        ("created_at", _("Registered")),
    ]
    select_related = ("home_region",)


nav_register(
    section=_("Customers"),
    label=_("Customers"),
    url_name="members:customer-list",
    permission="members.view_customer",
    order=60,
)
