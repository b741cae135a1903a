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
from tests.factories import GLOBAL_MODELS, SCOPED_BUILDERS, SUPPLIER_BUILDERS, UserFactory, make_order

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
    "customer-recharges": "a customer's own recharges and their refunds: customer token (tests/wallet)",
    "clerk-performance": "rows the viewer's reports switch allows, built per viewer (tests/staff/test_till_switches.py)",
    "till-member": "members enrolled and points adjusted at the clerk's own till, by phone (tests/staff/test_till_switches.py)",
    "till-settings": "opening hours of the clerk's own store, with the settings switch (tests/staff/test_till_switches.py)",
    "device-slots": "a machine lists its own planogram: token authenticated (tests/vending)",
    "partner-me": "an API partner's own key and scope: partner key (tests/orders/test_partner_api.py)",
    "partner-orders": "the orders an API partner created: partner key (tests/orders/test_partner_api.py)",
    "partner-webhook-test": "an API partner pings its own webhook: partner key (tests/orders/test_partner_api.py)",
    "partner-webhook-deliveries": "an API partner's own webhook log: partner key (tests/orders/test_partner_api.py)",
    "partner-locker-orders": "locker orders an API partner placed, at banks it was given: partner key "
    "(tests/lockers/test_operator_orders.py)",
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
