"""Console pages of devices."""

from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, nav_register
from devices.filters import DeviceFilter
from devices.models import Device


class DeviceListView(ScopedListView):
    model = Device
    url_name = "devices:device-list"
    detail_url_name = "devices:device-detail"
    title = _("Devices")
    filterset_class = DeviceFilter
    select_related = ("site", "site__region")
    columns = [
        ("name", _("Name")),
        ("serial_number", _("Serial number")),
        ("kind", _("Kind")),
        ("site", _("Site")),
        ("site__region", _("Region")),
        ("state", _("State")),
        ("last_seen_at", _("Last seen")),
    ]


class DeviceDetailView(ScopedDetailView):
    model = Device
    template_name = "devices/device_detail.html"
    select_related = ("site", "site__region")


nav_register(
    section=_("Fleet"), label=_("Devices"), url_name="devices:device-list", permission="devices.view_device", order=20
)
