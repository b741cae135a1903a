"""A regional administrator cannot rent an asset to a customer of another region through the
API: the customer reference is restricted to the caller's scope, so the request is refused like
an unknown id, no deposit is held and the customer's balance is not revealed."""

from decimal import Decimal as D

import pytest

from leasing.models import Asset, BulkItem, Lease, RatePlan
from tests.factories import CustomerFactory
from wallet.services import balances, recharge_credit

pytestmark = pytest.mark.django_db


def _plan(region, kind):
    return RatePlan.objects.create(
        name=kind,
        asset_kind=kind,
        region=region,
        unit_minutes=60,
        unit_price=D("5.00"),
        daily_cap=D("40.00"),
        deposit=D("200.00"),
    )


@pytest.mark.parametrize("what", ["asset", "bulk"])
def test_regional_admin_cannot_rent_to_a_customer_of_another_region(world, api_client, what):
    east_store = world.east_store
    _plan(east_store.region, "drill")
    _plan(east_store.region, "chair")
    stranger = CustomerFactory(home_region=world.west_store.region)
    recharge_credit(customer=stranger, amount="500.00", provider="cash", key=f"seed-{stranger.pk}")
    if what == "asset":
        target = Asset.objects.create(serial="DR-X", kind="drill", site=east_store)
        url = f"/api/v1/assets/{target.pk}/rent/"
    else:
        target = BulkItem.objects.create(site=east_store, kind="chair", total=2, available=2)
        url = f"/api/v1/bulk-items/{target.pk}/rent/"
    api_client.force_authenticate(world.regional)

    response = api_client.post(url, {"customer": stranger.pk}, format="json")

    assert response.status_code == 400, response.content
    assert "customer" in response.json()
    assert "500" not in response.content.decode() and "balance" not in response.content.decode()
    assert balances(customer=stranger).held == D("0.00")
    assert not Lease.objects.filter(customer=stranger).exists()


def test_regional_admin_still_rents_to_a_customer_of_their_region(world, api_client):
    east_store = world.east_store
    _plan(east_store.region, "drill")
    neighbour = CustomerFactory(home_region=east_store.region)
    recharge_credit(customer=neighbour, amount="500.00", provider="cash", key=f"seed-{neighbour.pk}")
    asset = Asset.objects.create(serial="DR-Y", kind="drill", site=east_store)
    api_client.force_authenticate(world.regional)

    response = api_client.post(f"/api/v1/assets/{asset.pk}/rent/", {"customer": neighbour.pk}, format="json")

    assert response.status_code == 201, response.content
    assert balances(customer=neighbour).held == D("200.00")
