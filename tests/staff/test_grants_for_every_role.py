"""Grants of regions and stores through the console pages: the platform administrator gives any
staff account regions or stores, a regional administrator only store and service staff inside
their regions and never themselves; every grant, revocation and refusal is in the audit log and
takes effect on the next request."""

import pytest
from django.urls import reverse

from core.models import AuditEntry
from core.scoping import forget_grants, user_can_reach, user_grants
from devices.models import Device
from staff.models import StaffProfile
from tests.factories import DeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


def _grant(client, user, **data):
    return client.post(reverse("staff:grant-user", args=[user.pk]), {"form": "grant", "action": "view", **data})


def _revoke(client, user, kind, target):
    return client.post(
        reverse("staff:grant-user", args=[user.pk]), {"form": "revoke", "kind": kind, "target": target.pk}
    )


def _fresh(user):
    forget_grants(user)
    return user


def test_platform_admin_gives_a_service_user_a_region_and_takes_it_back(world, client):
    west_device = DeviceFactory(site=world.west_store, name="West cooler")
    client.force_login(world.admin)
    response = _grant(client, world.service, region=world.west.pk)
    assert response.status_code == 302
    assert Device.objects.restrict(_fresh(world.service)).filter(pk=west_device.pk).exists()
    entry = AuditEntry.objects.get(action="scope.grant", actor=world.admin, object_id=str(world.west.pk))
    assert entry.changes["user"] == world.service.username
    page = client.get(reverse("staff:grant-user", args=[world.service.pk])).content.decode()
    assert "West" in page and "Take back" in page

    response = _revoke(client, world.service, "region", world.west)
    assert response.status_code == 302
    assert not Device.objects.restrict(_fresh(world.service)).filter(pk=west_device.pk).exists()
    assert AuditEntry.objects.filter(action="scope.revoke", actor=world.admin, object_id=str(world.west.pk)).exists()


@pytest.mark.parametrize("role", ["regional", "finance", "supplier_user"])
def test_platform_admin_gives_any_staff_role_a_region_or_a_site(world, client, role):
    user = getattr(world, role)
    client.force_login(world.admin)
    assert _grant(client, user, site=world.west_store.pk, action="change").status_code == 302
    assert user_can_reach(_fresh(user), world.west_store, "change")
    assert (
        AuditEntry.objects.filter(action="scope.grant", actor=world.admin, object_id=str(world.west_store.pk)).count()
        == 1
    )
    listing = client.get(reverse("staff:grant-users")).content.decode()
    assert user.username in listing


def test_regional_admin_gives_service_staff_and_clerks_stores_in_their_region(world, client):
    other_service = UserFactory(role="service_staff")
    client.force_login(world.regional)
    listing = client.get(reverse("staff:grant-users")).content.decode()
    assert other_service.username in listing and world.clerk.username in listing
    assert world.finance.username not in listing and world.admin.username not in listing
    assert _grant(client, other_service, region=world.east.pk).status_code == 302
    assert user_grants(_fresh(other_service)).region_paths == (world.east.path,)
    # A clerk's new store joins their profile's stores too, so the till lets them work there.
    second = type(world.east_store).objects.create(region=world.east, name="East kiosk", code="east-kiosk")
    clerk_page = client.get(reverse("staff:clerk-detail", args=[world.clerk.profile.pk])).content.decode()
    assert reverse("staff:grant-user", args=[world.clerk.pk]) in clerk_page
    assert _grant(client, world.clerk, site=second.pk).status_code == 302
    assert set(StaffProfile.objects.get(user=world.clerk).sites.all()) == {world.east_store, second}
    assert _revoke(client, world.clerk, "site", second).status_code == 302
    assert set(StaffProfile.objects.get(user=world.clerk).sites.all()) == {world.east_store}
    assert not user_can_reach(_fresh(world.clerk), second)
    assert AuditEntry.objects.filter(actor=world.regional, action="scope.grant").count() == 2
    assert AuditEntry.objects.filter(actor=world.regional, action="scope.revoke").count() == 1


def test_regional_admin_cannot_grant_outside_their_region(world, client):
    client.force_login(world.regional)
    for data in ({"region": world.west.pk}, {"site": world.west_store.pk}, {"region": world.root.pk}):
        response = _grant(client, world.service, **data)
        assert response.status_code == 400
        assert "is outside your regions" in response.content.decode()
    assert user_grants(_fresh(world.service)).region_paths == (world.east.path,)
    assert AuditEntry.objects.filter(actor=world.regional, action="denied.scope.grant").count() == 3
    # Taking back what lies outside their regions is refused the same way.
    client.force_login(world.admin)
    _grant(client, world.service, site=world.west_store.pk)
    client.force_login(world.regional)
    response = _revoke(client, world.service, "site", world.west_store)
    assert response.status_code == 302
    assert user_can_reach(_fresh(world.service), world.west_store)
    assert AuditEntry.objects.filter(actor=world.regional, action="denied.scope.revoke").count() == 1


@pytest.mark.parametrize("role", ["admin", "regional", "finance", "supplier_user"])
def test_regional_admin_cannot_grant_to_roles_they_do_not_manage(world, client, role):
    user = getattr(world, role)
    client.force_login(world.regional)
    before = user_grants(_fresh(user))
    response = _grant(client, user, site=world.east_store.pk)
    assert response.status_code == 400
    assert user_grants(_fresh(user)) == before
    assert AuditEntry.objects.filter(actor=world.regional, action="denied.scope.grant").count() == 1
    assert not AuditEntry.objects.filter(action="scope.grant", actor=world.regional).exists()
    # Their page is not offered either.
    response = client.get(reverse("staff:grant-user", args=[user.pk]))
    assert response.status_code == 302


def test_nobody_grants_themselves_anything(world, client):
    region_before = user_grants(_fresh(world.regional))
    client.force_login(world.regional)
    response = _grant(client, world.regional, region=world.west.pk, action="change")
    assert response.status_code == 400 and "Nobody gives themselves" in response.content.decode()
    response = _grant(client, world.regional, site=world.east_store.pk)
    assert response.status_code == 400
    assert user_grants(_fresh(world.regional)) == region_before
    assert AuditEntry.objects.filter(actor=world.regional, action="denied.scope.grant").count() == 2
    client.force_login(world.admin)
    assert _grant(client, world.admin, region=world.west.pk).status_code == 400


def test_store_staff_get_stores_not_regions_and_others_cannot_open_the_pages(world, client):
    client.force_login(world.regional)
    response = _grant(client, world.clerk, region=world.east.pk)
    assert response.status_code == 400 and "give them a store, not a region" in response.content.decode()
    for user in (world.manager, world.clerk, world.service, world.finance):
        client.force_login(user)
        assert client.get(reverse("staff:grant-users")).status_code == 403
        assert _grant(client, world.service, region=world.west.pk).status_code == 403
    assert user_grants(_fresh(world.service)).region_paths == (world.east.path,)


def test_a_choice_that_is_neither_or_both_is_refused_clearly(world, client):
    client.force_login(world.admin)
    response = _grant(client, world.service)
    assert response.status_code == 400 and "Choose a region or a store" in response.content.decode()
    response = _grant(client, world.service, region=world.west.pk, site=world.west_store.pk)
    assert response.status_code == 400
    response = _grant(client, world.service, region=999999)
    assert response.status_code == 400
