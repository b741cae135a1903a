"""Scoping, generated over every registered API viewset, console list page and admin: a user
granted one region sees that region's rows and never another region's. A new endpoint or page
whose model has no builder in tests/factories.py fails here until it gets one."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import get_resolver, reverse
from django.utils import timezone

from core.admin import ScopedModelAdmin
from core.api import ScopedMixin, router
from core.console import LIST_PAGES
from core.services import scope_grant
from tests.factories import (
    GLOBAL_MODELS,
    PARTNER_BUILDERS,
    SCOPED_BUILDERS,
    SUPPLIER_BUILDERS,
    UserFactory,
    make_order,
)

# Load every URLconf so every app's api.py and views.py has registered its endpoints and pages.
_ALL_URLS = get_resolver().url_patterns

# Endpoints that are not lists of scoped rows, with the reason.
UNSCOPED_ENDPOINTS = {
    "my-notification": "the caller's own notifications, filtered by recipient",
    "device-self": "the machines' own API: token authenticated, a device sees only itself (tests/devices)",
    "device-dex": "a machine sends its own DEX audit: token authenticated (tests/gateway)",
    "device-vends": "a machine starts its own sales: token authenticated (tests/vending)",
    "device-pickup": "a locker bank checks a code entered at it: token authenticated (tests/lockers)",
    "customer-sign-in": "a customer asks for and exchanges a one-time SMS code (tests/members)",
    "customer-me": "a customer's own profile: customer token (tests/members)",
    "customer-recharge": "a customer tops up their own wallet: customer token (tests/wallet)",
    "customer-statement": "a customer's own statement: customer token (tests/members)",
    "customer-points": "a customer's own points: customer token (tests/members)",
    "customer-coupons": "coupons a customer can use: customer token (tests/members)",
    "customer-orders": "a customer's own orders: customer token (tests/members)",
    "customer-feedback": "a customer's own feedback: customer token (tests/members)",
    "customer-pickups": "orders waiting for the customer, and a fresh code to their phone: customer token (tests/pickup)",
    "customer-pay-code": "a customer's own payment code for the till: customer token (tests/staff)",
    "customer-machine": "a customer buys at the machine whose signed code they scanned: customer token (tests/vending)",
    "customer-rentals": "a customer's own rentals, at the station whose signed code they scanned (tests/leasing)",
    "customer-locker-bookings": "a customer's own locker bookings, at banks of their region: customer token (tests/lockers)",
    "customer-recharges": "a customer's own recharges and their refunds: customer token (tests/wallet)",
    "customer-shipments": "a customer's own parcels and their tracking: customer token "
    "(tests/fulfilment/test_shipping.py)",
    "customer-returns": "a customer's own returns, of their own orders: customer token (tests/fulfilment/test_returns.py)",
    "clerk-performance": "rows the viewer's reports switch allows, built per viewer (tests/staff/test_till_switches.py)",
    "till-member": "members enrolled and points adjusted at the clerk's own till, by phone (tests/staff/test_till_switches.py)",
    "till-settings": "opening hours of the clerk's own store, with the settings switch (tests/staff/test_till_switches.py)",
    "restock-plan": "a plan computed for the caller from their own warehouses and machines (restrict()); "
    "scoping proven in tests/vending/test_replenishment.py",
    "device-slots": "a machine lists its own planogram: token authenticated (tests/vending)",
    "partner-me": "an API partner's own key and scope: partner key (tests/orders/test_partner_api.py)",
    "partner-orders": "the orders an API partner created: partner key (tests/orders/test_partner_api.py)",
    "partner-webhook-test": "an API partner pings its own webhook: partner key (tests/orders/test_partner_api.py)",
    "partner-webhook-deliveries": "an API partner's own webhook log: partner key (tests/orders/test_partner_api.py)",
    "partner-locker-orders": "locker orders an API partner placed, at banks it was given: partner key "
    "(tests/lockers/test_operator_orders.py)",
    "partner-delivery-orders": "delivery orders an API partner sent, in its region: partner key "
    "(tests/fulfilment/test_delivery_orders.py)",
    "partner-pickup-orders": "pickup orders an API partner placed, at stores it was given: partner key "
    "(tests/lockers/test_operator_orders.py)",
}

pytestmark = pytest.mark.django_db


def _viewsets():
    return [(prefix, viewset, basename) for prefix, viewset, basename in router.registry]


def _scoped_user(model, region, *, staff=False):
    user = UserFactory(is_staff=staff)
    meta = model._meta
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=meta.app_label, codename=f"view_{meta.model_name}")
    )
    scope_grant(actor=None, user=user, target=region, action="view")
    return user


def _ids_from_api(client, url):
    ids, next_url = set(), url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        payload = response.json()
        rows = payload["results"] if isinstance(payload, dict) else payload
        ids |= {row["id"] for row in rows}
        next_url = payload.get("next") if isinstance(payload, dict) else None
    return ids


def test_every_viewset_is_scoped_or_explained():
    for prefix, viewset, basename in _viewsets():
        if basename in UNSCOPED_ENDPOINTS:
            continue
        assert issubclass(viewset, ScopedMixin), f"/api/v1/{prefix}/ does not derive from ScopedMixin"
        model = viewset.queryset.model
        assert model in SCOPED_BUILDERS or model in GLOBAL_MODELS or model in SUPPLIER_BUILDERS, (
            f"/api/v1/{prefix}/ lists {model.__name__}, which has no builder in tests/factories.py"
        )


def _scoped_viewsets():
    return [entry for entry in _viewsets() if entry[2] not in UNSCOPED_ENDPOINTS]


@pytest.mark.parametrize("prefix,viewset,basename", _scoped_viewsets(), ids=[b for _p, _v, b in _scoped_viewsets()])
def test_api_list_and_detail_are_scoped(prefix, viewset, basename, world, api_client):
    model = viewset.queryset.model
    list_url = reverse(f"{basename}-list")
    if model in SCOPED_BUILDERS:
        inside = SCOPED_BUILDERS[model](world.east)
        outside = SCOPED_BUILDERS[model](world.west)
        api_client.force_authenticate(_scoped_user(model, world.east))
        ids = _ids_from_api(api_client, list_url)
        assert inside.pk in ids
        assert outside.pk not in ids
        assert api_client.get(reverse(f"{basename}-detail", args=[outside.pk])).status_code == 404
    elif model in SUPPLIER_BUILDERS:
        own = SUPPLIER_BUILDERS[model](world.supplier)
        other = SUPPLIER_BUILDERS[model](world.other_supplier)
        api_client.force_authenticate(world.supplier_user)
        ids = _ids_from_api(api_client, list_url)
        assert own.pk in ids
        assert other.pk not in ids
        assert api_client.get(reverse(f"{basename}-detail", args=[other.pk])).status_code == 404
    else:
        api_client.force_authenticate(_scoped_user(model, world.east))
        assert api_client.get(list_url).status_code == 200


# The one endpoint a stranger may call: a newly installed machine pairing by its serial number.
ANONYMOUS_ALLOWED = {"device-self-pair", "customer-sign-in-list", "customer-sign-in-verify"}


def test_anonymous_api_calls_are_refused(api_client):
    from django.urls import NoReverseMatch

    checked = 0
    for _prefix, _viewset, basename in _viewsets():
        for pattern in router.urls:
            name = getattr(pattern, "name", None) or ""
            if not name.startswith(f"{basename}-") or name in ANONYMOUS_ALLOWED:
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue  # needs an id; the list routes cover access
            assert api_client.get(url).status_code in (401, 403), url
            checked += 1
    assert checked >= len(_viewsets())


@pytest.mark.parametrize("page", LIST_PAGES, ids=[p.url_name for p in LIST_PAGES])
def test_console_list_page_is_scoped(page, world, client):
    model = page.model
    if getattr(page, "platform_only", False):
        # Not region-scoped: nobody but a platform administrator opens it, even holding the
        # view permission inside one region.
        client.force_login(_scoped_user(model, world.east))
        assert client.get(reverse(page.url_name)).status_code == 403
        client.force_login(world.admin)
        assert client.get(reverse(page.url_name)).status_code == 200
        return
    if model in SCOPED_BUILDERS:
        inside = SCOPED_BUILDERS[model](world.east)
        outside = SCOPED_BUILDERS[model](world.west)
        client.force_login(_scoped_user(model, world.east))
    elif model in SUPPLIER_BUILDERS:
        inside = SUPPLIER_BUILDERS[model](world.supplier)
        outside = SUPPLIER_BUILDERS[model](world.other_supplier)
        client.force_login(world.supplier_user)
    else:
        pytest.fail(f"{page.url_name} lists {model.__name__}, which has no builder in tests/factories.py")
    response = client.get(reverse(page.url_name), {"limit": 500})
    assert response.status_code == 200
    shown = {int(pk) for pk in re.findall(r'data-pk="(\d+)"', response.content.decode())}
    assert inside.pk in shown
    assert outside.pk not in shown
    if page.detail_url_name:
        assert client.get(reverse(page.detail_url_name, args=[outside.pk])).status_code == 404
        assert client.get(reverse(page.detail_url_name, args=[inside.pk])).status_code == 200


def _scoped_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ScopedModelAdmin) and model in SCOPED_BUILDERS
    ]


@pytest.mark.parametrize("model,model_admin", _scoped_admins(), ids=[m.__name__ for m, _a in _scoped_admins()])
def test_admin_changelist_is_scoped(model, model_admin, world, client):
    inside = SCOPED_BUILDERS[model](world.east)
    outside = SCOPED_BUILDERS[model](world.west)
    client.force_login(_scoped_user(model, world.east, staff=True))
    meta = model._meta
    response = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert inside.pk in shown
    assert outside.pk not in shown
    detail = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[outside.pk]))
    assert detail.status_code in (302, 404)


# --- Dashboard cards (core.dashboard): generated over every registered card -------------------
def _dashboard_specs():
    from core.dashboard import CARDS, autodiscover

    autodiscover()
    return sorted(CARDS.values(), key=lambda spec: spec.key)


def _everything_in(world, region_store, supplier):
    """One of everything a card counts, in one store: a sale of the supplier's product (paid,
    partly refunded), devices online and offline with a fault, a low slot and a restock task, an
    open shift, a pending approval and an unacknowledged alert."""
    from decimal import Decimal

    from django.utils import timezone

    from devices.models import Device, Fault
    from inventory.models import StockLevel
    from orders.models import OrderKind
    from orders.services import LineSpec, order_create, payment_collect, refund_create
    from staff.counter import shift_open
    from staff.models import RefundApproval, StaffAlert, StaffProfile
    from tests.factories import DeviceFactory, ProductFactory
    from vending.models import RestockTask
    from vending.services import slot_create

    product = ProductFactory(supplier=supplier)
    order = order_create(
        kind=OrderKind.COUNTER,
        actor=None,
        site=region_store,
        lines=[LineSpec(description="x", unit_price=Decimal("7.00"), product=product, quantity=2)],
    )
    clerk = UserFactory(role="clerk")
    scope_grant(actor=None, user=clerk, target=region_store, action="view")
    StaffProfile.objects.create(user=clerk).sites.add(region_store)
    shift = shift_open(actor=clerk, site=region_store, opening_float=Decimal("10.00"))
    payment_collect(order=order, provider="cash", amount=order.total, actor=clerk, shift=shift)
    refund_create(order=order, amount=Decimal("1.00"), actor=None, reason="test")
    machine = DeviceFactory(site=region_store, state=Device.State.ONLINE, name=f"Machine of {region_store.name}")
    DeviceFactory(site=region_store, state=Device.State.OFFLINE)
    Fault.objects.create(device=machine, code="JAM")
    slot = slot_create(device=machine, code="A1", product=product, capacity=10, par_level=10, low_threshold=3)
    StockLevel.objects.filter(pk=slot.level_id).update(low_since=timezone.now())
    RestockTask.objects.create(device=machine, route=f"route {region_store.name}")
    RefundApproval.objects.create(
        order=order,
        region=region_store.region,
        site=region_store,
        amount=Decimal("3.00"),
        reason="r",
        level="manager",
        requested_by=clerk,
    )
    StaffAlert.objects.create(
        kind="large_amount",
        region=region_store.region,
        site=region_store,
        clerk=clerk,
        message=f"alert in {region_store.name}",
        dedupe_key=f"scoping-{region_store.pk}",
    )
    return clerk


def _card_viewer(spec, world):
    """A user of a role the card is for, granted the east region (or its store), or the supplier."""
    from staff.roles import CLERK, FINANCE, PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF, STORE_MANAGER, SUPPLIER

    roles = spec.roles or {REGIONAL_ADMIN}
    for role in (REGIONAL_ADMIN, STORE_MANAGER, SERVICE_STAFF, FINANCE, CLERK, SUPPLIER):
        if role not in roles:
            continue
        if role == SUPPLIER:
            return world.supplier_user
        user = UserFactory(role=role)
        target = world.east_store if role in (STORE_MANAGER, CLERK) else world.east
        scope_grant(actor=None, user=user, target=target, action="view")
        return user
    assert roles == {PLATFORM_ADMIN}, f"card {spec.key}: no scoped role to test it with"
    return None


@pytest.mark.parametrize("spec", _dashboard_specs(), ids=lambda spec: spec.key)
def test_dashboard_card_shows_nothing_from_outside_the_users_grants(spec, world, client):
    """With everything happening in the west (and to another supplier's products), a card seen by
    an east user (or by the supplier) shows zero, names nothing of the west, and charts zeros."""
    import json

    _everything_in(world, world.west_store, world.other_supplier)
    viewer = _card_viewer(spec, world)
    if viewer is None:
        return  # the platform administrator's alone: every region is theirs
    client.force_login(viewer)
    response = client.get(reverse("core:dashboard-cards"), {"keys": spec.key})
    assert response.status_code == 200
    html = response.json()["cards"].get(spec.key)
    if html is None:
        return  # not this user's card after all (the role holds no permission for it)
    assert "West" not in html, f"{spec.key} names something of the west"
    for value in re.findall(r'data-value="([^"]*)"', html):
        assert float(value) == 0, f"{spec.key} counts {value} from the west"
    for number in re.findall(r'<span class="num">([^<]*)<', html):
        assert number.strip() in ("0", "0.00"), f"{spec.key} lists {number} from the west"
    for payload in re.findall(r'type="application/json">(.*?)</script>', html, re.S):
        chart = json.loads(payload)
        assert all(not v for s in chart["series"] for v in s["data"]), f"{spec.key} charts the west"


def test_dashboard_cards_count_what_is_inside_the_grants(world, client):
    """The same world seen from the east: the region's own activity does show."""
    _everything_in(world, world.east_store, world.supplier)
    client.force_login(world.regional)
    html = client.get(reverse("core:dashboard")).content.decode()
    values = {
        key: value
        for key, card in re.findall(r'data-card="([^"]+)"(.*?)</section>', html, re.S)
        for value in re.findall(r'data-value="([^"]*)"', card)
    }
    assert float(values["sales-today"]) == 14.0
    assert float(values["devices"]) == 1 and float(values["approvals"]) == 1 and float(values["staff-alerts"]) == 1
    assert float(values["low-stock"]) == 1


def _portal_pages():
    from accounting.views import PORTAL_PAGES

    return sorted(PORTAL_PAGES.items())


@pytest.mark.parametrize("url_name,model", _portal_pages(), ids=[name for name, _m in _portal_pages()])
def test_partner_portal_page_shows_only_the_partners_own_rows(url_name, model, world, client):
    """A revenue partner's user sees its own partner's rows and never another partner's, even one
    in the same region; staff pages of accounting stay closed to them."""
    assert model in PARTNER_BUILDERS, f"{url_name} lists {model.__name__}, which has no partner builder"
    own = PARTNER_BUILDERS[model](world.partner)
    other = PARTNER_BUILDERS[model](world.other_partner)
    client.force_login(world.partner_user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    shown = {int(pk) for pk in re.findall(r'data-pk="(\d+)"', response.content.decode())}
    assert own.pk in shown
    assert other.pk not in shown
    for page in LIST_PAGES:
        if page.model._meta.app_label == "accounting":
            assert client.get(reverse(page.url_name)).status_code == 403, page.url_name


# --- Report pages (reports.pages.REPORT_PAGES): figures, exports and chart data -------------
def _report_pages():
    from reports.pages import REPORT_PAGES

    return REPORT_PAGES


def _report_json(client, user, page, **params):
    client.force_login(user)
    response = client.get(reverse(page.url_name), {"format": "json", **params}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, (page.slug, response.content[:300])
    return [section["rows"] for section in response.json()["sections"]]


@pytest.mark.parametrize("page", _report_pages(), ids=lambda p: p.slug)
def test_report_figures_of_a_regional_admin_are_their_regions_alone(
    page, world, client, django_capture_on_commit_callbacks
):
    """Sales in both regions; the regional administrator's report (its JSON, what its charts and
    exports are built from) equals the platform's report filtered to the east region, and differs
    from the platform's unfiltered one."""
    from tests.factories import DeviceFactory

    with django_capture_on_commit_callbacks(execute=True):
        make_order(
            site=world.east_store, total=Decimal("12.00"), paid=True, device=DeviceFactory(site=world.east_store)
        )
        make_order(
            site=world.west_store, total=Decimal("30.00"), paid=True, device=DeviceFactory(site=world.west_store)
        )
    from reports.tasks import rollup_pending

    rollup_pending.apply()  # the beat's batch rolls up the orders the listener marked
    today = timezone.localdate().isoformat()
    params = {"date_from": today, "date_to": today}
    regional = _report_json(client, world.regional, page, **params)
    east_only = _report_json(client, world.admin, page, region=world.east.pk, **params)
    everything = _report_json(client, world.admin, page, **params)
    assert regional == east_only
    if page.slug != "turnover":
        assert regional != everything, page.slug
    if page.slug != "turnover":
        for blob in (str(regional),):
            assert "West" not in blob
    client.force_login(world.regional)
    export = client.get(reverse(page.url_name), {"export": "csv", **params})
    assert export.status_code == 200
    assert "West store" not in export.content.decode("utf-8-sig")
