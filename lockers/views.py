"""Console pages of lockers: every compartment of the banks in scope, with its state."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.live import choice_labels
from devices.models import Device
from lockers.models import Compartment


class BankDetailView(ScopedDetailView):
    """One locker bank's compartments as a grid that follows the doors live."""

    model = Device
    template_name = "lockers/bank_detail.html"
    select_related = ("site",)

    def get_queryset(self):
        return super().get_queryset().filter(kind=Device.Kind.LOCKER)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["compartments"] = self.object.compartments.order_by("door")
        context["state_labels"] = choice_labels(Compartment.State.choices)
        return context


class CompartmentListView(ScopedListView):
    model = Compartment
    url_name = "lockers:compartment-list"
    title = _("Locker compartments")
    select_related = ("bank",)
    paginate_by = 200
    detail_url_name = ""
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
