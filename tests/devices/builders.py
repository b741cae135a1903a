"""Scoped rows of the devices app for the generated scoping tests."""

from devices.models import DeviceCommand, Fault, Telemetry
from devices.services import command_send, fault_open
from tests.factories import DeviceFactory, SiteFactory


def _device(region):
    return DeviceFactory(site=SiteFactory(region=region))


def _telemetry(region):
    from django.utils import timezone

    return Telemetry.objects.create(device=_device(region), at=timezone.now(), signal_dbm=-70)


SCOPED_BUILDERS = {
    DeviceCommand: lambda region: command_send(device=_device(region), kind="reboot"),
    Fault: lambda region: fault_open(device=_device(region), code="E1", slot="11"),
    Telemetry: _telemetry,
}
