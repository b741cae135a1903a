"""Console pages of lockers: every compartment of the banks in scope, with its state."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from lockers.models import Compartment


class CompartmentListView(ScopedListView):
    model = Compartment
    url_name = "lockers:compartment-list"
    title = _("Locker compartments")
    select_related = ("bank",)
    paginate_by = 200
    columns = [
        ("bank", _("Locker bank")),
        ("door", _("Door")),
        ("size", _("Size")),
        ("state", _("State")),
        ("door_open", _("Door open")),
    ]


nav_register(
    section=_("Fleet"),
    label=_("Locker compartments"),
    url_name="lockers:compartment-list",
    permission="lockers.view_compartment",
    order=25,
)
