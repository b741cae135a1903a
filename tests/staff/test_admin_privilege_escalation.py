"""A regional administrator cannot take over the platform through the Django admin: no user list,
no superuser or staff flag, no other user's password, no groups or permissions, no grants; store
staff only through the console, whose services check scope and role (issue 15, item 1; ADR 8).

The regional administrator is `is_staff`, as in the demo data, so what stops them is the
permission checks, not the admin's front door."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from core.models import AuditEntry
from staff.models import StaffProfile, User
from staff.roles import PLATFORM_ADMIN, PLATFORM_ONLY, REGIONAL_ADMIN, ROLE_PERMISSIONS, is_platform_only
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def regional(world, client):
    world.regional.is_staff = True
    world.regional.save()
    client.force_login(world.regional)
    return world.regional


def test_the_user_admin_is_closed_to_a_regional_administrator(world, regional, client):
    for url in [
        reverse("admin:staff_user_changelist"),
        reverse("admin:staff_user_add"),
        reverse("admin:staff_user_change", args=[regional.pk]),
        reverse("admin:staff_user_change", args=[world.admin.pk]),
        reverse("admin:auth_user_password_change", args=[world.admin.pk]),
        reverse("admin:auth_group_changelist"),
        reverse("admin:auth_group_change", args=[Group.objects.get(name=REGIONAL_ADMIN).pk]),
        reverse("admin:members_memberlevel_changelist"),
        reverse("admin:members_logincode_changelist"),
        reverse("admin:members_customertoken_changelist"),
        reverse("admin:otp_totp_totpdevice_changelist"),
        reverse("admin:authtoken_tokenproxy_changelist"),
    ]:
        assert client.get(url).status_code == 403, url
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/staff/user/" not in index and "/admin/auth/group/" not in index


def test_a_regional_administrator_cannot_make_themselves_superuser(regional, client):
    response = client.post(
        reverse("admin:staff_user_change", args=[regional.pk]),
        {
            "username": regional.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name=PLATFORM_ADMIN).pk],
            "user_permissions": list(Permission.objects.values_list("pk", flat=True)[:5]),
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 403
    regional.refresh_from_db()
    assert not regional.is_superuser
    assert set(regional.groups.values_list("name", flat=True)) == {REGIONAL_ADMIN}
    assert not regional.user_permissions.exists()


def test_a_regional_administrator_cannot_set_the_platform_administrators_password(world, regional, client):
    url = reverse("admin:auth_user_password_change", args=[world.admin.pk])
    response = client.post(url, {"password1": "Taken-Over-2026!", "password2": "Taken-Over-2026!"})
    assert response.status_code == 403
    world.admin.refresh_from_db()
    assert not world.admin.check_password("Taken-Over-2026!")


def test_a_regional_administrator_cannot_widen_their_role(regional, client):
    group = Group.objects.get(name=REGIONAL_ADMIN)
    before = set(group.permissions.values_list("pk", flat=True))
    response = client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": list(Permission.objects.values_list("pk", flat=True))},
    )
    assert response.status_code == 403
    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_staff_profiles_in_the_admin_are_read_only_and_scoped(world, regional, client):
    profile = world.clerk.profile
    url = reverse("admin:staff_staffprofile_change", args=[profile.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert 'name="refund_limit"' not in page.content.decode()
    response = client.post(url, {"user": regional.pk, "refund_limit": "", "can_refund": "on"})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert profile.user == world.clerk and profile.refund_limit is not None
    # A profile in another region does not exist for them.
    other = StaffProfile.objects.create(user=UserFactory(role="clerk"))
    other.sites.add(world.west_store)
    assert client.get(reverse("admin:staff_staffprofile_change", args=[other.pk])).status_code in (302, 404)
    listed = {p.pk for p in client.get(reverse("admin:staff_staffprofile_changelist")).context["cl"].result_list}
    assert profile.pk in listed and other.pk not in listed


def test_a_scoped_admin_refuses_a_save_that_leaves_the_scope(world, regional, client):
    """Sites are the regional administrator's to change, inside their regions only: the region
    choice lists only theirs, and a forged id of another region changes nothing."""
    site = world.east_store
    url = reverse("admin:core_site_change", args=[site.pk])
    form = client.get(url).context["adminform"].form
    assert set(form.fields["region"].queryset) <= {world.east, *world.east.children.all()}
    data = {
        "name": site.name,
        "code": site.code,
        "kind": site.kind,
        "region": world.west.pk,
        "address": "",
        "latitude": "31.23",
        "longitude": "121.47",
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200  # the form refuses the choice
    site.refresh_from_db()
    assert site.region == world.east


def test_a_platform_administrator_still_manages_users_and_it_is_audited(world, client):
    client.force_login(world.admin)
    target = UserFactory(role="clerk")
    assert client.get(reverse("admin:staff_user_changelist")).status_code == 200
    response = client.post(
        reverse("admin:auth_user_password_change", args=[target.pk]),
        {"password1": "Reset-By-Admin-2026!", "password2": "Reset-By-Admin-2026!"},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Reset-By-Admin-2026!")
    assert AuditEntry.objects.filter(action="admin.change", object_id=str(target.pk), actor=world.admin).exists()


@pytest.mark.parametrize("role", [role for role in ROLE_PERMISSIONS if role != PLATFORM_ADMIN])
def test_no_role_but_the_platform_administrator_holds_a_platform_only_permission(world, role):
    held = Group.objects.get(name=role).permissions.select_related("content_type")
    leaked = sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in held
        if is_platform_only(p.content_type.app_label, p.codename)
    )
    assert leaked == []
    assert PLATFORM_ONLY  # and the list is not empty


def test_the_regional_role_reaches_no_account(world):
    regional = User.objects.get(pk=world.regional.pk)
    for perm in ("staff.view_user", "staff.change_user", "staff.add_user", "auth.change_group", "core.scope_all"):
        assert not regional.has_perm(perm), perm


def test_console_services_refuse_accounts_above_the_actor(world, client, settings):
    """Through the console: a store manager cannot reset the password of, or deactivate, a
    regional administrator or another store manager who happens to have a profile at their store."""
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    world.regional.phone = "13800000001"
    world.regional.save()
    regional_profile = StaffProfile.objects.create(user=world.regional)
    regional_profile.sites.add(world.east_store)
    client.force_login(world.manager)
    url = reverse("staff:clerk-detail", args=[regional_profile.pk])
    old_password = world.regional.password
    client.post(url, {"action": "reset_password", "send_by": "sms"})
    client.post(url, {"action": "deactivate", "reason": "x"})
    world.regional.refresh_from_db()
    assert world.regional.password == old_password and world.regional.is_active
    assert AuditEntry.objects.filter(action="denied.staff.password_reset", actor=world.manager).exists()
    assert AuditEntry.objects.filter(action="denied.staff.deactivate", actor=world.manager).exists()
    # Through the API as well: a clear 400, nothing changed.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(world.manager)
    response = api.post(f"/api/v1/staff-profiles/{regional_profile.pk}/deactivate/", {"reason": "x"}, format="json")
    assert response.status_code == 400, response.content
    world.regional.refresh_from_db()
    assert world.regional.is_active


def test_changelist_filters_name_only_rows_in_scope(world, regional, client):
    """A filter on a related field (a shift's store) lists only what the scoped list refers to,
    not every store of every region."""
    from decimal import Decimal

    from staff.models import Shift

    Shift.objects.create(site=world.east_store, clerk=world.clerk, opening_float=Decimal("10"))
    Shift.objects.create(site=world.west_store, clerk=UserFactory(role="clerk"), opening_float=Decimal("10"))
    page = client.get(reverse("admin:staff_shift_changelist")).content.decode()
    assert "East store" in page
    assert "West store" not in page
