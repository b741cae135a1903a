"""A catalog and two warehouses (Shanghai and Beijing) in the East region, stocked through the
inventory services, for the delivery order tests."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from core.models import Site
from inventory.models import StockLevel, StockLocation
from inventory.services import level_for, stock_move
from tests.factories import ProductFactory, SiteFactory


def warehouse(region, name, lat, lon):
    site = SiteFactory(
        region=region, name=name, kind=Site.Kind.WAREHOUSE, latitude=Decimal(lat), longitude=Decimal(lon)
    )
    location = StockLocation.objects.create(site=site, kind=StockLocation.Kind.WAREHOUSE, name=f"{name} main")
    return site, location


def stock(location, product, quantity) -> StockLevel:
    level = level_for(location=location, product=product)
    if quantity:
        stock_move(level=level, quantity=quantity, reason="restock", actor="test")
    level.refresh_from_db()
    return level


@pytest.fixture
def shop(world):
    tea = ProductFactory(
        sku="TEA-500", name="东方树叶 茉莉花茶 500ml", barcode="6901234567892", sale_price=Decimal("3.50")
    )
    snack = ProductFactory(sku="SNACK-01", name="坚果礼包 每日坚果 25g", sale_price=Decimal("5.00"))
    shanghai, sh_loc = warehouse(world.east, "Shanghai DC", "31.200000", "121.500000")
    beijing, bj_loc = warehouse(world.east, "Beijing DC", "39.900000", "116.400000")
    west, west_loc = warehouse(world.west, "West DC", "31.200000", "121.500000")
    return SimpleNamespace(
        tea=tea,
        snack=snack,
        shanghai=shanghai,
        sh_loc=sh_loc,
        beijing=beijing,
        bj_loc=bj_loc,
        west=west,
        west_loc=west_loc,
    )


@pytest.fixture
def browser_of():
    def make(user) -> Client:
        browser = Client()
        browser.force_login(user)
        return browser

    return make
