"""Hostile input is a client error, never a 500: deep JSON, non-finite numbers, non-numeric ids.

Driven through the staff API the way a client sends it: raw JSON bodies (not the test client's
encoder, which would refuse NaN itself).
"""

from __future__ import annotations

import pytest

from catalog.models import Product
from tests.factories import ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def _post_raw(client, url, body: str):
    return client.generic("POST", url, body, content_type="application/json")


@pytest.fixture
def admin_api(world, api_client):
    api_client.force_authenticate(world.admin)
    return api_client


def test_deeply_nested_json_is_a_400(admin_api):
    body = "[" * 5000 + "]" * 5000
    response = _post_raw(admin_api, "/api/v1/products/", body)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_moderate_nesting_inside_strings_is_not_counted(admin_api):
    supplier = SupplierFactory()
    body = (
        '{"sku": "DEEP-1", "name": "' + "[" * 100 + '", "cost_price": "1.00", "sale_price": "2.00", '
        f'"supplier": {supplier.pk}}}'
    )
    response = _post_raw(admin_api, "/api/v1/products/", body)
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309", "-1e309"])
def test_non_finite_price_is_a_400_and_nothing_is_stored(admin_api, literal):
    supplier = SupplierFactory()
    body = f'{{"sku": "NF-1", "name": "Bad", "cost_price": "1.00", "sale_price": {literal}, "supplier": {supplier.pk}}}'
    response = _post_raw(admin_api, "/api/v1/products/", body)
    assert response.status_code == 400, response.content
    assert literal.lstrip("-") in response.json()["detail"]
    assert not Product.objects.filter(sku="NF-1").exists()


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e309", "sNaN"])
def test_non_finite_price_as_a_string_is_a_400(admin_api, text):
    product = ProductFactory()
    response = admin_api.patch(f"/api/v1/products/{product.pk}/", {"sale_price": text}, format="json")
    assert response.status_code == 400, response.content
    assert "sale_price" in response.json()
    product.refresh_from_db()
    assert product.sale_price.is_finite()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/assets/abc/rent/",
        "/api/v1/bulk-items/abc/rent/",
        "/api/v1/device-faults/abc/resolve/",
        "/api/v1/leases/abc/extend/",
        "/api/v1/products/abc/",
    ],
)
def test_non_numeric_id_in_a_detail_route_is_a_404(admin_api, url):
    response = admin_api.post(url, {}, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("payload", ['{"\\u0000": null}', '{"door": "4\\u0000"}', '{"doors": [1, {"x": ["\\u0000"]}]}'])
def test_a_nul_character_in_a_json_string_is_a_400_and_no_command_is_queued(admin_api, world, payload):
    """PostgreSQL stores no NUL in text or jsonb: a command's free-form payload with one was a 500."""
    from devices.models import DeviceCommand
    from tests.factories import DeviceFactory

    device = DeviceFactory(site=world.east_store)
    body = '{"kind": "reboot", "payload": ' + payload + "}"
    response = _post_raw(admin_api, f"/api/v1/devices/{device.pk}/commands/", body)
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["detail"]
    assert not DeviceCommand.objects.filter(device=device).exists()


def test_an_escaped_backslash_before_u0000_is_ordinary_text(admin_api):
    supplier = SupplierFactory()
    body = (
        '{"sku": "BS-1", "name": "C:\\\\u0000 folder", "cost_price": "1.00", "sale_price": "2.00", '
        f'"supplier": {supplier.pk}}}'
    )
    response = _post_raw(admin_api, "/api/v1/products/", body)
    assert response.status_code == 201, response.content
    assert Product.objects.get(sku="BS-1").name == "C:\\u0000 folder"
