"""Dashboard figures of the fleet: devices online, offline, in maintenance and with open faults,
and the open faults themselves for the service staff. Every figure is counted over
`Device.objects.restrict(user)` / `Fault.objects.restrict(user)`."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from core import charts
from core.dashboard import LIVE_FLEET, card_register
from devices.models import Device, Fault
from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF, STORE_MANAGER

OPEN_FAULTS_SHOWN = 5


def device_state_counts(devices) -> dict[str, int]:
    counts = dict(devices.filter(is_active=True).values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counts.get(state, 0) for state, _label in Device.State.choices}


def open_faults(faults):
    return faults.filter(resolved_at__isnull=True)


def card_devices(user, now):
    counts = device_state_counts(Device.objects.restrict(user))
    faulty = open_faults(Fault.objects.restrict(user)).values("device").distinct().count()
    total = sum(counts.values())
    labels = dict(Device.State.choices)
    fleet = reverse("devices:device-list")
    shown = [Device.State.ONLINE, Device.State.OFFLINE, Device.State.MAINTENANCE, Device.State.UNPAIRED]
    rows = [
        {"label": str(labels[state]), "value": counts[state], "url": f"{fleet}?state={state}"}
        for state in shown
        if counts[state] or state != Device.State.UNPAIRED
    ]
    rows.append({"label": _("With open faults"), "value": faulty, "url": reverse("devices:fault-list")})
    return {
        "title": _("Devices online"),
        "value": counts[Device.State.ONLINE],
        "url": fleet,
        "hint": _("of %(total)s devices") % {"total": total},
        "tone": "bad" if counts[Device.State.OFFLINE] or faulty else "",
        "rows": rows,
        "chart": charts.chart(
            "pie",
            [row["label"] for row in rows[:-1]],
            [charts.series(_("Devices"), [row["value"] for row in rows[:-1]])],
        )
        if total
        else None,
        "figures": {**counts, "faulty": faulty, "total": total},
    }


def card_open_faults(user, now):
    faults = open_faults(Fault.objects.restrict(user)).select_related("device")
    count = faults.count()
    return {
        "title": _("Open faults"),
        "value": count,
        "url": reverse("devices:fault-list"),
        "tone": "bad" if count else "ok",
        "rows": [
            {
                "label": f"{fault.device.name} · {fault.code}{' ' + fault.slot if fault.slot else ''}",
                "value": None,
                "url": reverse("devices:device-detail", args=[fault.device_id]),
            }
            for fault in faults.order_by("-opened_at")[:OPEN_FAULTS_SHOWN]
        ],
        "empty": _("No open faults.") if not count else "",
        "figures": {"open": count},
    }


card_register(
    key="devices",
    order=200,
    roles={PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF, STORE_MANAGER},
    permission="devices.view_device",
    build=card_devices,
    live=LIVE_FLEET,
)
card_register(
    key="open-faults",
    order=150,
    roles={SERVICE_STAFF},
    permission="devices.view_fault",
    build=card_open_faults,
    live=LIVE_FLEET,
)
