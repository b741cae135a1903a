"""The console's product form refuses NaN/Infinity/1e309 prices with a field error and stores nothing."""

import pytest
from django.test import Client

from catalog.models import Product
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-Infinity", "1e309", "sNaN"])
def test_non_finite_price_is_a_form_error(world, price):
    client = Client()
    client.force_login(world.admin)
    supplier = SupplierFactory()
    response = client.post(
        "/catalog/products/new/",
        {"sku": "NF-FORM", "name": "Bad", "cost_price": "1.00", "sale_price": price, "supplier": supplier.pk},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "sale_price" in response.context["form"].errors
    assert not Product.objects.filter(sku="NF-FORM").exists()
