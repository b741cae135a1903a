"""API partner keys: created by an administrator in the console, shown once, stored hashed,
revocable; a key reaches only its own orders and the stores and banks it was given."""

import hashlib

import pytest
from django.test import Client

from core.models import AuditEntry
from devices.models import Device
from orders.models import Channel, OrderKind, PartnerClient
from orders.services import LineSpec, order_create
from tests.factories import DeviceFactory, SiteFactory
from tests.orders.partner_helpers import KEY, create_partner, partner_api

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.216.34/hooks/orders"


def _bank(site):
    return DeviceFactory(kind=Device.Kind.LOCKER, site=site)


def _partner_order(partner, site, reference="PARCEL-1"):
    # Set-up: the lockers and pickup apps create partner orders through their own endpoints.
    return order_create(
        kind=OrderKind.LOCKER,
        actor=partner,
        site=site,
        channel=Channel.PARTNER,
        partner=partner,
        external_reference=reference,
        lines=[LineSpec(description="Parcel storage", unit_price=0)],
    )


def test_key_is_shown_once_and_only_its_hash_is_stored(world):
    bank = _bank(world.east_store)
    partner, key, secret = create_partner(
        world.regional, region=world.east, sites=[world.east_store], banks=[bank], webhook_url=PUBLIC_URL
    )
    assert partner.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(partner.key_prefix) and len(key) > 40
    stored = " ".join(str(v) for v in PartnerClient.objects.filter(pk=partner.pk).values().first().values())
    assert key not in stored
    assert not any(key in str(entry.changes) for entry in AuditEntry.objects.all())
    assert partner.webhook_secret == secret  # needed in clear to sign webhooks

    browser = Client()
    browser.force_login(world.regional)
    detail = browser.get(f"/orders/partners/{partner.pk}/").content.decode()
    assert partner.key_prefix in detail
    assert key not in detail and secret not in detail

    me = partner_api(key).get("/api/v1/partner/me/")
    assert me.status_code == 200
    body = me.json()
    assert body["name"] == "Speedy Couriers"
    assert [s["id"] for s in body["sites"]] == [world.east_store.pk]
    assert [b["id"] for b in body["banks"]] == [bank.pk]


def test_a_revoked_key_is_refused_with_401(world):
    partner, key, _secret = create_partner(world.regional, region=world.east)
    assert partner_api(key).get("/api/v1/partner/me/").status_code == 200
    browser = Client()
    browser.force_login(world.regional)
    confirm = browser.get(f"/orders/partners/{partner.pk}/revoke/")
    assert confirm.status_code == 200 and "Revoke the API key" in confirm.content.decode()
    assert partner_api(key).get("/api/v1/partner/me/").status_code == 200  # asking is not revoking
    assert browser.post(f"/orders/partners/{partner.pk}/revoke/").status_code == 302
    partner.refresh_from_db()
    assert not partner.is_active and partner.revoked_by == world.regional
    response = partner_api(key).get("/api/v1/partner/orders/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Unknown or revoked API key."
    assert partner_api("ptn_made-up").get("/api/v1/partner/me/").status_code == 401


def test_a_partner_sees_only_its_own_orders(world):
    own, key, _s = create_partner(world.admin, region=world.east, name="Own shop", sites=[world.east_store])
    other, _k, _s2 = create_partner(world.admin, region=world.east, name="Other shop", sites=[world.east_store])
    mine = _partner_order(own, world.east_store, "MINE-1")
    theirs = _partner_order(other, world.east_store, "THEIRS-1")
    walk_in = order_create(kind=OrderKind.COUNTER, actor=None, site=world.east_store, lines=[])

    api = partner_api(key)
    listed = api.get("/api/v1/partner/orders/").json()
    assert [row["number"] for row in listed["results"]] == [mine.number]
    detail = api.get(f"/api/v1/partner/orders/{mine.pk}/")
    assert detail.status_code == 200
    assert detail.json()["external_reference"] == "MINE-1"
    assert [e["to_status"] for e in detail.json()["events"]] == ["new"]
    assert "cost_price" not in str(detail.json())
    assert api.get(f"/api/v1/partner/orders/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/partner/orders/{walk_in.pk}/").status_code == 404
    assert api.get("/api/v1/partner/orders/", {"external_reference": "THEIRS-1"}).json()["count"] == 0


def test_a_bank_or_store_not_given_is_refused_with_a_clear_message(world):
    given = _bank(world.east_store)
    not_given = _bank(SiteFactory(region=world.east))
    _partner, key, _s = create_partner(world.admin, region=world.east, sites=[world.east_store], banks=[given])
    api = partner_api(key)
    assert api.get("/api/v1/partner/orders/", {"bank": given.pk}).status_code == 200
    refused = api.get("/api/v1/partner/orders/", {"bank": not_given.pk})
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"This API key may not use the locker bank {not_given.pk}."
    refused = api.get("/api/v1/partner/orders/", {"site": world.west_store.pk})
    assert refused.status_code == 403
    assert "may not use the store or site" in refused.json()["detail"]
    assert api.get("/api/v1/partner/orders/", {"site": "x"}).status_code == 400


def test_staff_sessions_and_customer_tokens_do_not_reach_the_partner_api(world, api_client):
    api_client.force_login(world.admin)
    assert api_client.get("/api/v1/partner/orders/").status_code in (401, 403)
    assert api_client.get("/api/v1/partner/me/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/hooks", "Webhook URLs must use https:// in production."),
        ("https://127.0.0.1/hooks", "Webhooks cannot be sent to a local or private address."),
        ("https://10.1.2.3/hooks", "Webhooks cannot be sent to a local or private address."),
        ("https://localhost/hooks", "Webhooks cannot be sent to a local or private address."),
        ("https://user:pw@93.184.216.34/hooks", "A webhook URL cannot carry a user name or password."),
    ],
)
def test_a_webhook_url_that_is_not_https_or_is_private_is_refused_in_production(world, settings, url, message):
    settings.DEBUG = False
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = False
    browser = Client()
    browser.force_login(world.regional)
    response = browser.post(
        "/orders/partners/new/", {"name": "Shop", "kind": "shop", "region": world.east.pk, "webhook_url": url}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PartnerClient.objects.exists()
    assert not AuditEntry.objects.filter(action="partner.create").exists()


def test_editing_a_partner_refuses_an_insecure_url_and_keeps_the_old_one(world, settings):
    partner, _key, _secret = create_partner(world.regional, region=world.east, webhook_url=PUBLIC_URL)
    settings.PARTNER_WEBHOOK_ALLOW_LOCAL = False
    browser = Client()
    browser.force_login(world.regional)
    response = browser.post(f"/orders/partners/{partner.pk}/edit/", {"webhook_url": "http://93.184.216.34/x"})
    assert "Webhook URLs must use https:// in production." in response.content.decode()
    partner.refresh_from_db()
    assert partner.webhook_url == PUBLIC_URL
    bank = _bank(world.east_store)
    response = browser.post(f"/orders/partners/{partner.pk}/edit/", {"webhook_url": PUBLIC_URL, "banks": [bank.pk]})
    assert response.status_code == 302
    assert list(partner.banks.all()) == [bank]


def test_regional_admin_manages_only_partners_of_their_region(world):
    east, _k, _s = create_partner(world.admin, region=world.east, name="East courier")
    west, _k2, _s2 = create_partner(world.admin, region=world.west, name="West courier")
    browser = Client()
    browser.force_login(world.regional)
    page = browser.get("/orders/partners/").content.decode()
    assert "East courier" in page and "West courier" not in page
    assert browser.get(f"/orders/partners/{west.pk}/").status_code == 404
    assert browser.post(f"/orders/partners/{west.pk}/revoke/").status_code == 404
    west.refresh_from_db()
    assert west.is_active
    # The form offers and accepts only the regional administrator's region, stores and banks.
    west_bank = _bank(world.west_store)
    response = browser.post(
        "/orders/partners/new/",
        {"name": "Sneaky", "kind": "shop", "region": world.west.pk, "banks": [west_bank.pk]},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not PartnerClient.objects.filter(name="Sneaky").exists()
    # A store outside the partner's region is refused even for a platform administrator.
    admin = Client()
    admin.force_login(world.admin)
    response = admin.post(
        "/orders/partners/new/",
        {"name": "Mixed", "kind": "shop", "region": world.east.pk, "sites": [world.west_store.pk]},
    )
    assert "not in the partner&#x27;s region" in response.content.decode()
    assert not PartnerClient.objects.filter(name="Mixed").exists()
    assert east.is_active


def test_clerks_cannot_create_partners(world):
    browser = Client()
    browser.force_login(world.clerk)
    assert browser.get("/orders/partners/new/").status_code == 403


def test_the_order_inquiry_filters_by_api_partner(world):
    partner, _key, _s = create_partner(world.admin, region=world.east, sites=[world.east_store])
    mine = _partner_order(partner, world.east_store, "P-1")
    other = order_create(kind=OrderKind.COUNTER, actor=None, site=world.east_store, lines=[])
    browser = Client()
    browser.force_login(world.regional)
    page = browser.get("/orders/", {"partner": partner.pk}).content.decode()
    assert f'data-pk="{mine.pk}"' in page and f'data-pk="{other.pk}"' not in page
    detail = browser.get(f"/orders/{mine.pk}/").content.decode()
    assert partner.name in detail


def test_administrators_are_pointed_at_the_partner_pages_and_clerks_are_not(world):
    for user, shown in ((world.admin, True), (world.regional, True), (world.clerk, False), (world.manager, False)):
        browser = Client()
        browser.force_login(user)
        page = browser.get("/orders/").content.decode()
        assert ('href="/orders/partners/"' in page) is shown, user
        assert ('href="/orders/webhooks/"' in page) is shown, user


def test_a_new_key_replaces_the_old_one_and_keeps_the_orders(world):
    partner, old_key, _secret = create_partner(world.regional, region=world.east, sites=[world.east_store])
    order = _partner_order(partner, world.east_store)
    browser = Client()
    browser.force_login(world.regional)
    assert "Issue a new API key" in browser.get(f"/orders/partners/{partner.pk}/new-key/").content.decode()
    assert partner_api(old_key).get("/api/v1/partner/me/").status_code == 200  # asking changes nothing
    response = browser.post(f"/orders/partners/{partner.pk}/new-key/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new_key = KEY.search(response.content.decode()).group(1)
    assert new_key != old_key
    assert partner_api(old_key).get("/api/v1/partner/me/").status_code == 401
    listed = partner_api(new_key).get("/api/v1/partner/orders/").json()
    assert [row["id"] for row in listed["results"]] == [order.pk]
    partner.refresh_from_db()
    assert partner.key_hash == hashlib.sha256(new_key.encode()).hexdigest()
    # A revoked partner gets no new key.
    browser.post(f"/orders/partners/{partner.pk}/revoke/")
    refused = browser.post(f"/orders/partners/{partner.pk}/new-key/", follow=True)
    assert "This key is revoked; create a new API partner instead." in refused.content.decode()
    assert partner_api(new_key).get("/api/v1/partner/me/").status_code == 401
