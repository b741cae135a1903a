"""Limits nobody can raise for themselves (issue 15, item 2; ADR 8): a store manager cannot lift
their own refund limit through the API or the console, cannot give a clerk more than they hold
(a higher limit, unlimited refunds, a switch they lack), and every change of a limit is in the
audit log. Refusals are 400s and form errors, and change nothing."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from staff.models import StaffProfile
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_manager_cannot_lift_their_own_limit_through_the_api(world):
    own = world.manager.profile
    api = _api(world.manager)
    for body in (
        {"refund_limit": None},
        {"refund_limit": "100000.00"},
        {"refund_daily_limit": "1.00"},
        {"can_manage_members": True},
    ):
        response = api.patch(f"/api/v1/staff-profiles/{own.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert "own" in str(response.json())
    own.refresh_from_db()
    assert own.refund_limit == D("500.00") and own.refund_daily_limit is None and not own.can_manage_members
    assert AuditEntry.objects.filter(action="denied.staff.update", actor=world.manager).count() == 4
    # So a large refund still waits for the regional administrator, and no money moves.
    order = make_order(site=world.east_store, total=D("900.00"), paid=True)
    response = api.post(
        f"/api/v1/counter-orders/{order.pk}/refund/", {"amount": "900.00", "reason": "x"}, format="json"
    )
    assert response.status_code == 202, response.content
    order.refresh_from_db()
    assert order.refunded_amount == D("0")


def test_a_manager_cannot_give_a_clerk_more_than_they_hold(world):
    clerk = world.clerk.profile
    api = _api(world.manager)
    url = f"/api/v1/staff-profiles/{clerk.pk}/"
    for body, field in [
        ({"refund_limit": "10000.00", "refund_daily_limit": "20000.00"}, "refund_limit"),
        ({"refund_limit": None}, "refund_limit"),
        ({"can_manage_members": True}, "can_manage_members"),
        ({"can_change_settings": True}, "can_change_settings"),
    ]:
        response = api.patch(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), response.json()
    clerk.refresh_from_db()
    assert clerk.refund_limit == D("50.00") and not clerk.can_manage_members and not clerk.can_change_settings
    # Up to their own limit is fine, and the change is audited with both values.
    response = api.patch(url, {"refund_limit": "80.00"}, format="json")
    assert response.status_code == 200, response.content
    clerk.refresh_from_db()
    assert clerk.refund_limit == D("80.00")
    entry = AuditEntry.objects.get(action="staff.update", object_id=str(world.clerk.pk))
    assert entry.actor == world.manager and entry.changes["refund_limit"] == ["50.00", "80.00"]
    assert entry.region == world.east  # so the regional administrator sees it in their audit list


def test_a_manager_cannot_create_a_clerk_above_their_limit(world):
    api = _api(world.manager)
    base = {"name": "Zhao Lei", "phone": "13900002222", "sites": [world.east_store.pk], "can_refund": True}
    for extra in ({"refund_limit": "600.00"}, {"refund_limit": None}):
        response = api.post("/api/v1/staff-profiles/", {**base, **extra}, format="json")
        assert response.status_code == 400, response.content
        assert "refund_limit" in response.json()
    assert not StaffProfile.objects.filter(user__username="13900002222").exists()
    # Without refunds the limits mean nothing, and within them the clerk is created.
    response = api.post("/api/v1/staff-profiles/", {**base, "refund_limit": "200.00"}, format="json")
    assert response.status_code == 201, response.content
    assert AuditEntry.objects.filter(action="staff.create", actor=world.manager).exists()


def test_turning_refunds_on_is_a_grant_of_the_limits_already_there(world):
    """A clerk without refunds and without limits: switching refunds on would make them unlimited."""
    clerk = world.clerk.profile
    StaffProfile.objects.filter(pk=clerk.pk).update(can_refund=False, refund_limit=None, refund_daily_limit=None)
    response = _api(world.manager).patch(f"/api/v1/staff-profiles/{clerk.pk}/", {"can_refund": True}, format="json")
    assert response.status_code == 400 and "refund_limit" in response.json()
    clerk.refresh_from_db()
    assert not clerk.can_refund


def test_a_regional_administrator_may_set_limits_but_not_their_own(world):
    api = _api(world.regional)
    manager = world.manager.profile
    response = api.patch(f"/api/v1/staff-profiles/{manager.pk}/", {"refund_limit": "2000.00"}, format="json")
    assert response.status_code == 200, response.content
    manager.refresh_from_db()
    assert manager.refund_limit == D("2000.00")
    assert AuditEntry.objects.filter(
        action="staff.update", actor=world.regional, object_id=str(world.manager.pk)
    ).exists()
    own = StaffProfile.objects.create(user=world.regional, refund_limit=D("10.00"))
    own.sites.add(world.east_store)
    response = api.patch(f"/api/v1/staff-profiles/{own.pk}/", {"refund_limit": None}, format="json")
    assert response.status_code == 400
    own.refresh_from_db()
    assert own.refund_limit == D("10.00")


def _switches(profile, **changes):
    data = {
        "action": "save",
        "sites": [site.pk for site in profile.sites.all()],
        "refund_limit": "" if profile.refund_limit is None else str(profile.refund_limit),
        "refund_daily_limit": "" if profile.refund_daily_limit is None else str(profile.refund_daily_limit),
        "reports": profile.reports,
    }
    for field in ("can_collect", "can_refund", "can_manage_members", "can_change_settings"):
        if getattr(profile, field):
            data[field] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_console_refuses_the_same_with_form_errors(world, client):
    client.force_login(world.manager)
    own = world.manager.profile
    own_page = reverse("staff:clerk-detail", args=[own.pk])
    assert b'name="refund_limit"' not in client.get(own_page).content  # no form on one's own page
    response = client.post(own_page, _switches(own, refund_limit=""), follow=True)
    assert response.status_code == 200
    assert "own limits" in response.content.decode()
    own.refresh_from_db()
    assert own.refund_limit == D("500.00")

    clerk = world.clerk.profile
    response = client.post(reverse("staff:clerk-detail", args=[clerk.pk]), _switches(clerk, refund_limit="9999"))
    assert response.status_code == 200
    assert "refund_limit" in response.context["form"].errors
    clerk.refresh_from_db()
    assert clerk.refund_limit == D("50.00")

    response = client.post(
        reverse("staff:clerk-create"),
        {
            "name": "Sun Li",
            "phone": "13900003333",
            "role": "clerk",
            "sites": [world.east_store.pk],
            "send_by": "sms",
            "can_collect": "on",
            "can_refund": "on",
            "refund_limit": "",
            "reports": "own",
        },
    )
    assert response.status_code == 200
    assert "refund_limit" in response.context["form"].errors
    assert not StaffProfile.objects.filter(user__username="13900003333").exists()
