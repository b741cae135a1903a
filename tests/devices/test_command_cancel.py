"""A command sent from the console by mistake can be taken back from the device's page until the
machine acknowledges it; only by someone who may send that command to that device."""

import pytest
from django.urls import reverse

from devices.models import Device, DeviceCommand
from devices.services import command_acknowledge
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def _send(client, device, kind="reboot"):
    client.post(reverse("devices:device-command", args=[device.pk]), {"kind": kind, "confirmed": "1"})
    return DeviceCommand.objects.filter(device=device).latest("pk")


def test_a_queued_command_is_cancelled_from_the_device_page(world, client):
    machine = DeviceFactory(site=world.east_store, kind=Device.Kind.VENDING, state=Device.State.OFFLINE)
    client.force_login(world.regional)
    command = _send(client, machine)
    page = client.get(reverse("devices:device-detail", args=[machine.pk])).content.decode()
    cancel = reverse("devices:command-cancel", args=[command.pk])
    assert cancel in page
    response = client.post(cancel, follow=True)
    assert "cancelled" in response.content.decode()
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.CANCELLED
    assert cancel not in client.get(reverse("devices:device-detail", args=[machine.pk])).content.decode()


def test_an_acknowledged_command_cannot_be_taken_back(world, client):
    machine = DeviceFactory(site=world.east_store, kind=Device.Kind.VENDING, state=Device.State.ONLINE)
    client.force_login(world.regional)
    command = _send(client, machine)
    command_acknowledge(command_id=command.command_id, device=machine)
    response = client.post(reverse("devices:command-cancel", args=[command.pk]), follow=True)
    assert "Only a command that has not been acknowledged can be cancelled." in response.content.decode()
    command.refresh_from_db()
    assert command.status == DeviceCommand.Status.ACKNOWLEDGED


def test_others_cannot_cancel(world, client):
    east = DeviceFactory(site=world.east_store, kind=Device.Kind.VENDING)
    west = DeviceFactory(site=world.west_store, kind=Device.Kind.VENDING)
    client.force_login(world.admin)
    east_command, west_command = _send(client, east), _send(client, west)
    client.force_login(world.clerk)  # sends no command at all
    assert client.post(reverse("devices:command-cancel", args=[east_command.pk])).status_code == 403
    client.force_login(world.regional)  # the east's administrator: not the west's machines
    assert client.post(reverse("devices:command-cancel", args=[west_command.pk])).status_code == 404
    assert DeviceCommand.objects.filter(status=DeviceCommand.Status.CANCELLED).count() == 0
