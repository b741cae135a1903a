"""docs/adr/0035, generated over every model that says `scope_store_sees_region`: a store grant
(a store manager's, a clerk's) reads the reference rows of its store's region and of the regions
above it, never another region's, and changes none of them; a region grant still needs a change
grant to change them. Customers, per model: a store grant reads the customers who ordered at its
store, not every customer of the city."""

import pytest
from django.apps import apps
from django.test import Client

from members.models import Customer
from tests.factories import SCOPED_BUILDERS, CustomerFactory, make_order

pytestmark = pytest.mark.django_db

STORE_SEES_REGION = sorted(
    (model for model in apps.get_models() if getattr(model, "scope_store_sees_region", False)),
    key=lambda model: model._meta.label,
)


def test_the_reference_models_a_store_works_with_are_readable_by_a_store_grant():
    labels = {model._meta.label for model in STORE_SEES_REGION}
    assert {
        "members.Coupon",
        "members.Promotion",
        "wallet.BonusTier",
        "leasing.RatePlan",
        "staff.AnomalyRule",
    } <= labels


@pytest.mark.parametrize("model", STORE_SEES_REGION, ids=lambda model: model._meta.label)
@pytest.mark.parametrize("role", ["manager", "clerk"])
def test_a_store_grant_reads_its_regions_reference_rows_and_no_other(world, model, role):
    assert model in SCOPED_BUILDERS, f"no builder for {model._meta.label} in tests/*/builders.py"
    own = SCOPED_BUILDERS[model](world.east)
    above = SCOPED_BUILDERS[model](world.root)
    other = SCOPED_BUILDERS[model](world.west)
    user = getattr(world, role)

    seen = set(model._default_manager.restrict(user, "view").values_list("pk", flat=True))
    assert own.pk in seen and above.pk in seen
    assert other.pk not in seen
    changeable = set(model._default_manager.restrict(user, "change").values_list("pk", flat=True))
    assert not changeable & {own.pk, above.pk, other.pk}


@pytest.mark.parametrize("model", STORE_SEES_REGION, ids=lambda model: model._meta.label)
def test_a_region_view_grant_still_cannot_change_its_reference_rows(world, model):
    own = SCOPED_BUILDERS[model](world.east)
    assert model._default_manager.restrict(world.service, "view").filter(pk=own.pk).exists()
    assert not model._default_manager.restrict(world.service, "change").filter(pk=own.pk).exists()
    assert model._default_manager.restrict(world.regional, "change").filter(pk=own.pk).exists()


def test_a_store_grant_reads_the_customers_who_ordered_at_its_store_only(world):
    buyer = CustomerFactory(home_region=world.west, name="Buyer at east")
    make_order(site=world.east_store, customer=buyer)
    neighbour = CustomerFactory(home_region=world.east, name="Never came")
    elsewhere = CustomerFactory(home_region=world.west, name="Bought in the west")
    make_order(site=world.west_store, customer=elsewhere)

    seen = set(Customer.objects.restrict(world.manager, "view"))
    assert buyer in seen
    assert neighbour not in seen and elsewhere not in seen
    assert not Customer.objects.restrict(world.manager, "change").filter(pk=buyer.pk).exists()
    # A region grant keeps seeing its region's customers by home region.
    assert neighbour in set(Customer.objects.restrict(world.regional, "view"))


def test_the_store_managers_coupon_page_lists_its_regions_coupons_not_the_neighbours(world):
    from tests.members.builders import coupon_in

    own = coupon_in(world.east, name="East coupon")
    coupon_in(world.west, name="West coupon")
    client = Client()
    client.force_login(world.manager)

    page = client.get("/members/coupons/")

    assert page.status_code == 200
    body = page.content.decode()
    assert own.name in body
    assert "West coupon" not in body
