"""Each collection switch of a clerk (seed 004), on and off, through the API and the page: the
service refuses what the switch forbids with a clear message (and changes nothing), and the page
shows no button for it."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from members.models import Customer
from orders.models import Order, Payment
from staff.models import StaffProfile
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
SALES = "/api/v1/counter-orders/"


def _clerk(world, **switches):
    StaffProfile.objects.filter(user=world.clerk).update(**switches)
    api = APIClient()
    api.force_authenticate(world.clerk)
    return api


def _service_sale(api, world, price="30.00"):
    response = api.post(
        SALES,
        {"site": world.east_store.pk, "lines": [{"description": "Repair", "unit_price": price}]},
        format="json",
    )
    return response


@pytest.mark.parametrize("allowed", [True, False])
def test_card_collection_switch(world, client, allowed):
    methods = ["cash", "card"] if allowed else ["cash"]
    api = _clerk(world, collect_methods=methods)
    order_id = _service_sale(api, world).json()["id"]
    response = api.post(f"{SALES}{order_id}/collect/", {"method": "card", "reference": "T-1"}, format="json")
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier-order", args=[order_id])).content.decode()
    if allowed:
        assert response.status_code == 200 and Order.objects.get(pk=order_id).status == "paid"
    else:
        assert response.status_code == 403 and "You may not collect with" in response.json()["detail"]
        assert not Payment.objects.filter(order_id=order_id).exists()
        assert AuditEntry.objects.filter(action="denied.collect.method").exists()
        assert 'value="card"' not in page and 'value="cash"' in page


@pytest.mark.parametrize("limit", [None, D("20.00")])
def test_maximum_per_collection(world, client, limit):
    api = _clerk(world, collect_limit=limit)
    order_id = _service_sale(api, world).json()["id"]
    response = api.post(f"{SALES}{order_id}/collect/", {"method": "card", "reference": "T-2"}, format="json")
    if limit is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and "above your limit of 20.00" in response.json()["detail"]
        assert not Payment.objects.filter(order_id=order_id).exists()
        client.force_login(world.clerk)
        page = client.post(
            reverse("staff:cashier-order", args=[order_id]),
            {"form": "collect", "method": "card", "amount": "30.00", "reference": "T-3"},
            follow=True,
        )
        assert "above your limit of 20.00" in page.content.decode()
        assert not Payment.objects.filter(order_id=order_id).exists()


@pytest.mark.parametrize("daily", [None, D("50.00")])
def test_maximum_per_day(world, daily):
    api = _clerk(world, collect_daily_limit=daily)
    first = _service_sale(api, world).json()["id"]
    second = _service_sale(api, world).json()["id"]
    assert api.post(f"{SALES}{first}/collect/", {"method": "card", "reference": "A"}, format="json").status_code == 200
    response = api.post(f"{SALES}{second}/collect/", {"method": "card", "reference": "B"}, format="json")
    if daily is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and "20.00 left today" in response.json()["detail"]
        assert not Payment.objects.filter(order_id=second).exists()
        assert AuditEntry.objects.filter(action="denied.collect.daily_limit").exists()


@pytest.mark.parametrize("allowed", [True, False])
def test_free_text_lines_for_services(world, client, allowed):
    api = _clerk(world, can_sell_services=allowed)
    response = _service_sale(api, world)
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier")).content.decode()
    if allowed:
        assert response.status_code == 201 and 'id="sale-form"' in page
    else:
        assert response.status_code == 403
        assert "not in the catalog" in response.json()["detail"] and not Order.objects.exists()
        assert 'id="sale-form"' not in page and 'id="till-form"' in page


@pytest.mark.parametrize("allowed", [True, False])
def test_members_at_the_till(world, client, allowed):
    api = _clerk(world, can_manage_members=allowed)
    member = CustomerFactory(phone="+8613800000001", points=10)
    enrol = api.post(
        "/api/v1/till-members/enrol/", {"site": world.east_store.pk, "phone": "13912345678"}, format="json"
    )
    points = api.post(
        "/api/v1/till-members/points/",
        {"site": world.east_store.pk, "phone": member.phone, "points": 5, "reason": "Goodwill"},
        format="json",
    )
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier")).content.decode()
    member.refresh_from_db()
    if allowed:
        assert enrol.status_code == 201 and points.status_code == 201 and member.points == 15
        assert AuditEntry.objects.filter(action="member.enrol").exists()
        assert AuditEntry.objects.filter(action="member.points_adjust", changes__reason="Goodwill").exists()
        assert 'id="enrol-form"' in page and 'id="points-form"' in page
        no_reason = api.post(
            "/api/v1/till-members/points/",
            {"site": world.east_store.pk, "phone": member.phone, "points": -50, "reason": "x"},
            format="json",
        )
        assert no_reason.status_code == 400 and "only 15 points" in str(no_reason.json())
    else:
        assert enrol.status_code == 403 and "You may not manage members." in enrol.json()["detail"]
        assert points.status_code == 403 and member.points == 10
        assert not Customer.objects.filter(phone__endswith="13912345678").exists()
        assert 'id="enrol-form"' not in page and 'id="points-form"' not in page
        refused = client.post(
            reverse("staff:cashier"),
            {"form": "enrol", "site": world.east_store.pk, "phone": "13912345678"},
        )
        assert "You may not manage members." in refused.content.decode()
        assert not Customer.objects.filter(phone__endswith="13912345678").exists()


def _colleague_collects(world):
    from core.services import scope_grant
    from tests.factories import UserFactory, _profile

    colleague = UserFactory(role="clerk", first_name="Colleague", last_name="Clerk")
    scope_grant(actor=None, user=colleague, target=world.east_store, action="view")
    _profile(colleague, world.east_store)
    api = APIClient()
    api.force_authenticate(colleague)
    order_id = _service_sale(api, world, price="7.00").json()["id"]
    assert (
        api.post(f"{SALES}{order_id}/collect/", {"method": "card", "reference": "C"}, format="json").status_code == 200
    )
    return colleague


@pytest.mark.parametrize("reports", ["store", "own", "none"])
def test_report_viewing_own_or_whole_store(world, client, reports):
    colleague = _colleague_collects(world)
    api = _clerk(world, reports=reports)
    own_order = _service_sale(api, world, price="9.00").json()["id"]
    api.post(f"{SALES}{own_order}/collect/", {"method": "card", "reference": "M"}, format="json")
    response = api.get("/api/v1/clerk-performance/")
    client.force_login(world.clerk)
    page = client.get(reverse("staff:performance"))
    if reports == "none":
        assert response.status_code == 403 and "You may not view reports." in response.json()["detail"]
        assert page.status_code == 403
        return
    clerks = {row["user"]: row["collected_amount"] for row in response.json()}
    html = page.content.decode()
    if reports == "store":
        assert clerks == {world.clerk.pk: "9.00", colleague.pk: "7.00"}
        assert "Colleague Clerk" in html
    else:
        assert clerks == {world.clerk.pk: "9.00"}
        assert "Colleague Clerk" not in html


def test_the_owner_sets_the_collection_switches_and_cannot_give_what_they_lack(world, client):
    api = APIClient()
    api.force_authenticate(world.manager)
    profile = StaffProfile.objects.get(user=world.clerk)
    response = api.patch(
        f"/api/v1/staff-profiles/{profile.pk}/",
        {"collect_methods": ["cash", "qr"], "collect_limit": "100.00", "collect_daily_limit": "300.00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    profile.refresh_from_db()
    assert profile.collect_methods == ["cash", "qr"] and profile.collect_limit == D("100.00")
    StaffProfile.objects.filter(user=world.manager).update(collect_methods=["cash"])
    world.manager.__dict__.pop("_staff_profile", None)
    refused = api.patch(f"/api/v1/staff-profiles/{profile.pk}/", {"collect_methods": ["cash", "card"]}, format="json")
    assert refused.status_code in (400, 403) and "payment method" in str(refused.json())
    profile.refresh_from_db()
    assert profile.collect_methods == ["cash", "qr"]
    bad = api.patch(
        f"/api/v1/staff-profiles/{profile.pk}/",
        {"collect_limit": "500.00", "collect_daily_limit": "100.00"},
        format="json",
    )
    assert bad.status_code == 400 and "lower than the limit per collection" in str(bad.json())
    client.force_login(world.manager)
    page = client.get(reverse("staff:clerk-detail", args=[profile.pk])).content.decode()
    assert 'name="collect_methods"' in page and 'name="collect_limit"' in page


@pytest.mark.parametrize("allowed", [True, False])
def test_store_settings_switch(world, client, allowed):
    api = _clerk(world, can_change_settings=allowed)
    response = api.post(
        "/api/v1/till-settings/hours/",
        {"site": world.east_store.pk, "opening_time": "08:00", "closing_time": "21:30"},
        format="json",
    )
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier")).content.decode()
    world.east_store.refresh_from_db()
    if allowed:
        assert response.status_code == 200 and str(world.east_store.closing_time) == "21:30:00"
        assert AuditEntry.objects.filter(action="store.hours").exists()
        assert 'id="hours-form"' in page
        backwards = client.post(
            reverse("staff:cashier"),
            {"form": "hours", "site": world.east_store.pk, "opening_time": "22:00", "closing_time": "08:00"},
        )
        assert "close after it opens" in backwards.content.decode()
        world.east_store.refresh_from_db()
        assert str(world.east_store.opening_time) == "08:00:00"
    else:
        assert response.status_code == 403 and "You may not change settings." in response.json()["detail"]
        assert world.east_store.closing_time is None and 'id="hours-form"' not in page
        refused = client.post(
            reverse("staff:cashier"),
            {"form": "hours", "site": world.east_store.pk, "opening_time": "08:00", "closing_time": "20:00"},
            follow=True,
        )
        assert "You may not change settings." in refused.content.decode()
        world.east_store.refresh_from_db()
        assert world.east_store.closing_time is None


PROVIDER_OF_KIND = {"cash": "cash", "card": "card", "wallet": "wallet", "points": "points", "qr": "stripe"}


@pytest.mark.parametrize("kind", sorted(PROVIDER_OF_KIND))
@pytest.mark.parametrize("allowed", [True, False])
def test_each_method_switch_shows_and_takes_only_what_is_allowed(world, client, settings, kind, allowed):
    settings.PAYMENT_PROVIDERS = {"stripe": {"secret_key": "sk_test_x", "webhook_secret": "whsec_x"}}
    others = [k for k in PROVIDER_OF_KIND if k != kind]
    api = _clerk(world, collect_methods=[*others, kind] if allowed else others)
    order_id = _service_sale(api, world).json()["id"]
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier-order", args=[order_id])).content.decode()
    option = f'value="{PROVIDER_OF_KIND[kind]}"'
    if allowed:
        assert option in page
        return
    assert option not in page
    response = api.post(
        f"{SALES}{order_id}/collect/", {"method": PROVIDER_OF_KIND[kind], "reference": "123456"}, format="json"
    )
    assert response.status_code == 403 and "You may not collect with" in response.json()["detail"]
    assert not Payment.objects.filter(order_id=order_id).exists()


@pytest.mark.parametrize("allowed", [True, False])
def test_collect_switch(world, client, allowed):
    api = _clerk(world, can_collect=allowed)
    response = _service_sale(api, world)
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier")).content.decode()
    if allowed:
        assert response.status_code == 201 and 'id="till-form"' in page
    else:
        assert response.status_code == 403 and "You may not collect payments." in response.json()["detail"]
        assert not Order.objects.exists() and 'id="till-form"' not in page and 'id="sale-form"' not in page


@pytest.mark.parametrize("allowed", [True, False])
def test_refund_switch_covers_returns(world, client, allowed):
    from tests.factories import ProductFactory, stock_shelf

    tea = ProductFactory(name="Oolong", sale_price=D("6.00"))
    stock_shelf(world.east_store, tea, 2)
    api = _clerk(world, can_refund=True)
    order_id = api.post(SALES, {"site": world.east_store.pk, "lines": [{"product": tea.pk}]}, format="json").json()[
        "id"
    ]
    assert (
        api.post(f"{SALES}{order_id}/collect/", {"method": "card", "reference": "R"}, format="json").status_code == 200
    )
    StaffProfile.objects.filter(user=world.clerk).update(can_refund=allowed)
    world.clerk.__dict__.pop("_staff_profile", None)  # a new request reads the profile afresh
    line = Order.objects.get(pk=order_id).lines.get()
    response = api.post(
        f"{SALES}{order_id}/return/",
        {"line": line.pk, "quantity": 1, "destination": "shelf", "reason": "Wrong tea"},
        format="json",
    )
    client.force_login(world.clerk)
    page = client.get(reverse("staff:cashier-order", args=[order_id])).content.decode()
    if allowed:
        assert response.status_code == 201 and Order.objects.get(pk=order_id).refunded_amount == D("6.00")
    else:
        assert response.status_code == 403 and "You may not refund." in response.json()["detail"]
        assert Order.objects.get(pk=order_id).refunded_amount == 0
        assert "return-form" not in page and 'id="refund-form"' not in page
