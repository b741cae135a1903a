"""The driver's route API (`/api/v1/restock-route/`) lists planned stops only: a restock task
without a route date is not a stop, for any role, and the caller's region scope still holds."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import DeviceFactory, SiteFactory
from vending.models import RestockTask

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 7)


@pytest.fixture
def tasks(world):
    east_site = SiteFactory(region=world.east)
    west_site = SiteFactory(region=world.west)
    return {
        "planned": RestockTask.objects.create(
            device=DeviceFactory(site=east_site), route_date=DAY, route_vehicle=1, route_stop=1
        ),
        "unplanned": RestockTask.objects.create(device=DeviceFactory(site=east_site)),
        "west": RestockTask.objects.create(
            device=DeviceFactory(site=west_site), route_date=DAY, route_vehicle=1, route_stop=1
        ),
        "west_unplanned": RestockTask.objects.create(device=DeviceFactory(site=west_site)),
    }


def _listed(client, **query):
    response = client.get(reverse("restock-route-list"), query)
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


@pytest.mark.parametrize("role", ["service", "regional"])
def test_a_regional_user_sees_the_planned_stops_of_their_region_only(world, tasks, client, role):
    client.force_login(getattr(world, role))
    assert _listed(client) == {tasks["planned"].pk}
    assert _listed(client, route_date=DAY.isoformat()) == {tasks["planned"].pk}
    assert client.get(reverse("restock-route-detail", args=[tasks["planned"].pk])).status_code == 200
    for hidden in ("unplanned", "west", "west_unplanned"):
        assert client.get(reverse("restock-route-detail", args=[tasks[hidden].pk])).status_code == 404


def test_the_platform_administrator_sees_every_planned_stop_and_no_unplanned_task(world, tasks, client):
    client.force_login(world.admin)
    assert _listed(client) == {tasks["planned"].pk, tasks["west"].pk}
    assert client.get(reverse("restock-route-detail", args=[tasks["unplanned"].pk])).status_code == 404
