"""Service staff mark a fault fixed from the machine's page (the fault list leads there): only a
fault of a machine they may see, only with the right to change faults, and a second click changes
nothing."""

import pytest
from django.urls import reverse

from devices.models import DeviceEvent
from devices.services import fault_open
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db


def test_service_staff_resolve_a_fault_of_their_region_once(world, client):
    machine = DeviceFactory(site=world.east_store)
    fault = fault_open(device=machine, code="E42", slot="A1", message="Spiral stuck")
    client.force_login(world.service)
    faults = client.get(reverse("devices:fault-list")).content.decode()
    assert reverse("devices:device-detail", args=[machine.pk]) in faults
    resolve = reverse("devices:fault-resolve", args=[fault.pk])
    assert resolve in client.get(reverse("devices:device-detail", args=[machine.pk])).content.decode()
    response = client.post(resolve, follow=True)
    assert "Marked as resolved." in response.content.decode()
    fault.refresh_from_db()
    assert fault.resolved_at is not None and fault.resolved_by == world.service.username
    client.post(resolve)
    assert DeviceEvent.objects.filter(device=machine, kind="fault_resolved").count() == 1


def test_a_fault_out_of_scope_or_without_the_right_stays_open(world, client):
    west = fault_open(device=DeviceFactory(site=world.west_store), code="E42")
    east = fault_open(device=DeviceFactory(site=world.east_store), code="E43")
    client.force_login(world.service)
    assert client.post(reverse("devices:fault-resolve", args=[west.pk])).status_code == 404
    client.force_login(world.manager)  # sees the machines, may not change faults
    assert client.post(reverse("devices:fault-resolve", args=[east.pk])).status_code == 403
    page = client.get(reverse("devices:device-detail", args=[east.device_id])).content.decode()
    assert reverse("devices:fault-resolve", args=[east.pk]) not in page
    west.refresh_from_db()
    east.refresh_from_db()
    assert west.resolved_at is None and east.resolved_at is None
