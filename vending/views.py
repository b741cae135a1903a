"""Console pages of vending: the slots of every machine (the planogram) with their stock."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from vending.models import Slot


class SlotListView(ScopedListView):
    model = Slot
    url_name = "vending:slot-list"
    title = _("Slots and stock")
    select_related = ("device", "product", "level")
    paginate_by = 100
    columns = [
        ("device", _("Machine")),
        ("code", _("Slot")),
        ("product", _("Product")),
        ("sale_price", _("Price")),
        ("level__quantity", _("In stock")),
        ("level__capacity", _("Capacity")),
        ("level__par_level", _("Par level")),
    ]


nav_register(
    section=_("Fleet"),
    label=_("Slots and stock"),
    url_name="vending:slot-list",
    permission="vending.view_slot",
    order=24,
)
