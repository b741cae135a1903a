"""Console pages of devices: the live fleet, a device's page with telemetry, faults, commands and
its log, and the command and fault lists."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.labels import labels_register
from devices import live, services
from devices.commands import CONSOLE_COMMANDS
from devices.filters import DeviceFilter
from devices.models import Device, DeviceCommand, Fault

COMMAND_LABELS = {
    "reboot": _("Reboot"),
    "set_temperature": _("Set temperature"),
    "open_door": _("Open door"),
    "dispense": _("Dispense slot"),
    "update_screen": _("Update screen"),
    "eject": _("Eject"),
}
labels_register("device.command", COMMAND_LABELS)
labels_register(
    "device.event",
    {
        "paired": pgettext_lazy("device event", "Paired"),
        "online": pgettext_lazy("device event", "Online"),
        "offline": pgettext_lazy("device event", "Offline"),
        "token_rotated": pgettext_lazy("device event", "Token rotated"),
        "fault_opened": pgettext_lazy("device event", "Fault reported"),
        "fault_resolved": pgettext_lazy("device event", "Fault resolved"),
        "door_opened": pgettext_lazy("device event", "Door opened"),
        "door_closed": pgettext_lazy("device event", "Door closed"),
        "asset_returned": pgettext_lazy("device event", "Item returned"),
        "sale": pgettext_lazy("device event", "Sale"),
    },
)


class DeviceListView(ScopedListView):
    model = Device
    url_name = "devices:device-list"
    detail_url_name = "devices:device-detail"
    title = _("Fleet")
    template_name = "devices/fleet.html"
    paginate_by = 200
    filterset_class = DeviceFilter
    select_related = ("site", "site__region")
    columns = [
        ("name", _("Name")),
        ("serial_number", _("Serial number")),
        ("kind", _("Kind")),
        ("site", _("Site")),
        ("state", _("State")),
        ("last_seen_at", _("Last seen")),
    ]
    sortable = ("name", "serial_number")  # the default order and the unique serial: both indexed
    essential = ("name", "state")  # the live updates (fleet.js) write the state cell

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        devices = [row["object"] for row in context["rows"]]
        context["map_devices"] = [live.device_snapshot(device) for device in devices]
        context["state_labels"] = live.state_labels()
        counts = dict(self.base_queryset().values_list("state").annotate(n=Count("pk")).order_by())
        context["state_counts"] = [(choice, counts.get(choice[0], 0)) for choice in Device.State.choices]
        return context


class DeviceDetailView(ScopedDetailView):
    model = Device
    template_name = "devices/device_detail.html"
    select_related = ("site", "site__region")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        device = self.object
        user = self.request.user
        context.update(
            telemetry_chart=telemetry_chart(device),
            state_labels=live.state_labels(),
            open_faults=device.faults.filter(resolved_at__isnull=True),
            may_resolve=user.has_perm("devices.change_fault"),
            commands=device.commands.all()[:20],
            events=device.events.all()[:30],
            command_kinds=[
                (kind, COMMAND_LABELS.get(kind, kind))
                for kind in CONSOLE_COMMANDS
                if services.console_command_allowed(user=user, device=device, kind=kind)
            ],
        )
        context["sendable"] = {kind for kind, _label in context["command_kinds"]}  # and so cancellable
        return context


TELEMETRY_SAMPLES = 200  # about four days at the machines' half-hourly sample


def telemetry_chart(device) -> dict | None:
    """The device's latest samples as a chart: temperature (°C) on the left axis, signal (dBm) on
    the right, each axis fitted to its own range; None until there are two samples."""
    from django.utils import timezone
    from django.utils.formats import date_format

    from core import charts

    rows = list(device.telemetry.order_by("-at").values("at", "temperature", "signal_dbm")[:TELEMETRY_SAMPLES])
    if len(rows) < 2:
        return None
    rows.reverse()
    return charts.chart(
        "line",
        [date_format(timezone.localtime(row["at"]), "SHORT_DATETIME_FORMAT") for row in rows],
        [
            charts.series(
                _("Temperature"), [row["temperature"] for row in rows], axis_name=_("Temperature (°C)"), unit="°C"
            ),
            charts.series(
                _("Signal"), [row["signal_dbm"] for row in rows], axis=1, axis_name=_("Signal (dBm)"), unit="dBm"
            ),
        ],
        scale=True,
        x_name=_("Time"),
    )


def _payload(kind: str, post) -> dict:
    if kind == "set_temperature":
        return {"temperature": post.get("temperature", "")}
    if kind in ("open_door", "dispense"):
        return {"slot": post.get("slot", "").strip()[:20]}
    if kind == "update_screen":
        return {"message": post.get("message", "")[:200]}
    return {}


@require_POST
def device_command(request, pk):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    from devices import commands as registry

    if not any(request.user.has_perm(permission) for permission in set(registry.CONSOLE_COMMANDS.values())):
        raise PermissionDenied  # may send no command to any device
    device = get_object_or_404(Device.objects.restrict(request.user, "view"), pk=pk)
    kind = request.POST.get("kind", "")
    if not services.console_command_allowed(user=request.user, device=device, kind=kind):
        raise PermissionDenied
    payload = _payload(kind, request.POST)
    try:
        if kind == "set_temperature":
            from decimal import Decimal, InvalidOperation

            try:
                value = Decimal(payload["temperature"])
            except InvalidOperation:
                raise ValidationError(_("Enter a temperature in °C.")) from None
            if not (Decimal(-30) <= value <= Decimal(30)):
                raise ValidationError(_("The temperature must be between -30 and 30 °C."))
            payload["temperature"] = str(value)
        if kind in ("open_door", "dispense") and not payload["slot"]:
            raise ValidationError(_("Say which slot or door."))
        if request.POST.get("confirmed") != "1":
            # Nothing is sent before the user has seen what, where, and whether the machine listens.
            return render(
                request,
                "devices/command_confirm.html",
                {
                    "device": device,
                    "kind": kind,
                    "label": COMMAND_LABELS.get(kind, kind),
                    "payload": payload,
                    "offline": device.state != Device.State.ONLINE,
                },
            )
        services.command_send(device=device, kind=kind, payload=payload, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Command %(kind)s queued for %(device)s.")
            % {"kind": COMMAND_LABELS.get(kind, kind), "device": device.name},
        )
    return redirect("devices:device-detail", pk=device.pk)


@require_POST
def command_cancel_view(request, pk):
    """Take back a command the machine has not acknowledged yet (a queued dispense to the wrong
    slot, a reboot sent by mistake): whoever may send that command to that device may cancel it."""
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not any(request.user.has_perm(permission) for permission in set(CONSOLE_COMMANDS.values())):
        raise PermissionDenied  # may send, so cancel, no command at all
    command = get_object_or_404(
        DeviceCommand.objects.select_related("device").filter(device__in=Device.objects.restrict(request.user, "view")),
        pk=pk,
    )
    if not services.console_command_allowed(user=request.user, device=command.device, kind=command.kind):
        raise PermissionDenied
    try:
        services.command_cancel(command=command, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Command %(kind)s cancelled.") % {"kind": COMMAND_LABELS.get(command.kind, command.kind)}
        )
    return redirect("devices:device-detail", pk=command.device_id)


@require_POST
def fault_resolve_view(request, pk):
    """Mark a fault fixed from the machine's page: whoever may change faults, on a machine they
    may see (service staff mend the machines of their regions)."""
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("devices.change_fault"):
        raise PermissionDenied
    fault = get_object_or_404(
        Fault.objects.select_related("device").filter(device__in=Device.objects.restrict(request.user, "view")), pk=pk
    )
    services.fault_resolve(fault=fault, actor=request.user)  # a second click changes nothing
    messages.success(request, _("Marked as resolved."))
    return redirect("devices:device-detail", pk=fault.device_id)


class CommandListView(ScopedListView):
    model = DeviceCommand
    url_name = "devices:command-list"
    title = _("Device commands")
    select_related = ("device",)
    columns = [
        ("kind", _("Command")),
        ("device", _("Device")),
        ("status", _("Status")),
        ("reference", _("Reference")),
        ("attempts", _("Deliveries")),
        ("created_at", _("Created")),
        ("actor_label", _("Who")),
    ]
    labels = {"kind": "device.command"}


class FaultListView(ScopedListView):
    model = Fault
    url_name = "devices:fault-list"
    title = _("Open faults")
    select_related = ("device",)
    columns = [
        ("device", _("Device")),
        ("code", pgettext_lazy("fault", "Code")),
        ("slot", _("Slot")),
        ("message", _("Message")),
        ("opened_at", _("Opened")),
    ]
    verbatim = ("code",)  # the machine's own fault code, shown as it reported it

    def base_queryset(self):
        return super().base_queryset().filter(resolved_at__isnull=True)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for row in context["rows"]:  # a fault is mended from its machine's page
            row["url"] = reverse("devices:device-detail", args=[row["object"].device_id])
        return context


nav_register(
    section=_("Fleet"), label=_("Fleet"), url_name="devices:device-list", permission="devices.view_device", order=20
)
nav_register(
    section=_("Fleet"), label=_("Faults"), url_name="devices:fault-list", permission="devices.view_fault", order=21
)
nav_register(
    section=_("Fleet"),
    label=_("Commands"),
    url_name="devices:command-list",
    permission="devices.view_devicecommand",
    order=22,
)
