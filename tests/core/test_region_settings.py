"""Settings operators edit per region (ADR 16), through the console page: set at a parent region,
inherited by its children unless they override it, refused out of range with the allowed range,
audited; and each setting changes what its service does, seen through that service's own door."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEntry, RegionSetting
from core.region_settings import region_setting
from tests.factories import DeviceFactory, ProductFactory, RegionFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _set(client, region, key, value):
    return client.post(reverse("core:region-settings", args=[region.pk]), {"key": key, "value": value, "action": "set"})


def _row(page: str, key: str) -> str:
    start = page.index(f'data-key="{key}"')
    return page[start : page.index("</tr>", start)]


def test_a_parent_value_is_inherited_until_a_child_overrides_it_and_every_change_is_audited(world, client):
    client.force_login(world.admin)
    assert _set(client, world.root, "points.earned_per_unit", "2").status_code == 302
    east_page = reverse("core:region-settings", args=[world.east.pk])
    row = _row(client.get(east_page).content.decode(), "points.earned_per_unit")
    assert ">2<" in row and "Inherited from Root" in row
    assert region_setting("points.earned_per_unit", world.east) == D("2")

    response = _set(client, world.east, "points.earned_per_unit", "3.5")
    assert response.status_code == 302
    row = _row(client.get(east_page).content.decode(), "points.earned_per_unit")
    assert ">3.5<" in row and "Set here" in row and 'value="reset"' in row
    assert region_setting("points.earned_per_unit", world.east) == D("3.5")
    assert region_setting("points.earned_per_unit", world.west) == D("2")  # the sibling still inherits
    assert region_setting("points.earned_per_unit", RegionFactory(parent=world.east)) == D("3.5")

    entries = AuditEntry.objects.filter(action="region_setting.set").order_by("pk")
    assert [(e.region, e.changes) for e in entries] == [
        (world.root, {"points.earned_per_unit": ["1", "2"]}),
        (world.east, {"points.earned_per_unit": ["2", "3.5"]}),
    ]
    assert all(e.actor == world.admin for e in entries)

    reset = client.post(east_page, {"key": "points.earned_per_unit", "action": "reset"}, follow=True)
    assert "is inherited again" in reset.content.decode()
    assert region_setting("points.earned_per_unit", world.east) == D("2")
    assert AuditEntry.objects.filter(action="region_setting.reset", region=world.east).count() == 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("points.earned_per_unit", "500", "Points earned per 1.00 spent must be a number from 0 to 100."),
        ("points.earned_per_unit", "-1", "from 0 to 100"),
        ("points.per_unit_redeemed", "0", "Points that pay 1.00 must be a number from 1 to 100000."),
        ("points.per_unit_redeemed", "ten", "from 1 to 100000"),
        ("fees.card", "0.5", "Fee rate: Card must be a number from 0 to 0.1."),
        ("fees.card", "0.00385", "at most 4 digits after the point"),
        ("stock.low_threshold", "1e9", "from 0 to 1000"),
        ("lockers.free_hours", "1000", "from 0 to 720"),
        ("rentals.default_deposit", "NaN", "from 0 to 100000"),
    ],
)
def test_a_value_out_of_range_is_refused_with_the_allowed_range_and_nothing_changes(world, client, key, value, message):
    client.force_login(world.admin)
    response = _set(client, world.east, key, value)
    assert response.status_code == 400
    assert message in _row(response.content.decode(), key)
    assert not RegionSetting.objects.exists() and not AuditEntry.objects.filter(action__startswith="region_").exists()


def test_who_may_see_and_change_which_regions_settings(world, client):
    client.force_login(world.regional)  # a change grant on East only
    index = client.get(reverse("core:region-settings-index")).content.decode()
    assert "East" in index and "West" not in index
    assert client.get(reverse("core:region-settings", args=[world.west.pk])).status_code == 404
    assert _set(client, world.west, "fees.card", "0.01").status_code == 404
    assert _set(client, world.east, "fees.card", "0.01").status_code == 302
    assert region_setting("fees.card", world.east) == D("0.01")
    client.force_login(world.service)  # sees East's devices, not its settings
    assert client.get(reverse("core:region-settings", args=[world.east.pk])).status_code == 403
    client.force_login(world.clerk)
    assert _set(client, world.east, "fees.card", "0.02").status_code == 403
    assert region_setting("fees.card", world.east) == D("0.01")


def test_a_card_payment_at_the_till_records_the_fee_at_its_regions_rate(world, client):
    from orders.models import Payment

    client.force_login(world.admin)
    assert _set(client, world.root, "fees.card", "0.01").status_code == 302
    assert _set(client, world.west, "fees.card", "0.05").status_code == 302  # elsewhere: not this store's
    client.force_login(world.clerk)
    client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": "0"})
    sale = client.post(
        reverse("staff:cashier"),
        {"form": "sale", "site": world.east_store.pk, "description": "Snacks", "amount": "123.45", "quantity": 1},
    )
    assert sale.status_code == 302
    page = sale["Location"]
    client.post(page, {"form": "collect", "method": "card", "amount": "123.45", "reference": "TERM-1"})
    payment = Payment.objects.get(provider="card")
    assert payment.status == "succeeded" and payment.fee == D("1.23")  # 123.45 × 1% (it was 0.00)


def test_points_earned_by_an_app_purchase_follow_the_regions_points_rate(
    client, world, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from devices.models import Device
    from devices.services import device_pair
    from inventory.services import stock_move
    from tests.vending.test_bought_in_the_app import _app_code, _dispense, _member, machine  # noqa: F401
    from vending.services import slot_create

    device = DeviceFactory(kind=Device.Kind.VENDING, site=world.east_store)
    slot = slot_create(device=device, code="B2", product=ProductFactory(sale_price=D("10.00")), capacity=10)
    stock_move(level=slot.level, quantity=3, reason="restock", reference="initial")
    _device, token = device_pair(serial_number=device.serial_number)
    vending = APIClient()
    vending.credentials(HTTP_AUTHORIZATION=f"Device {token}")

    client.force_login(world.regional)
    assert _set(client, world.east, "points.earned_per_unit", "5").status_code == 302
    member = _member(balance="50")
    body = {"code": _app_code(vending), "method": "wallet", "request_id": "tap-1"}
    with django_capture_on_commit_callbacks(execute=True):
        assert member.post("/api/v1/customer/machine/buy/", body, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        _dispense(vending, succeeded=True)
    member.customer.refresh_from_db()
    assert member.customer.points == 50  # 10.00 × 5 (the default earns 10)


def test_a_new_slot_without_a_threshold_takes_its_regions_default(world, client):
    from inventory.models import StockLevel
    from vending.models import Slot

    device = DeviceFactory(site=world.east_store)
    product = ProductFactory()
    client.force_login(world.regional)
    assert _set(client, world.east, "stock.low_threshold", "4").status_code == 302
    page = reverse("vending:planogram", args=[device.pk])
    client.post(page, {"code": "A1", "product": product.sku, "capacity": "10", "price": "3.00"})
    client.post(page, {"code": "A2", "product": product.sku, "capacity": "10", "low_threshold": "1"})
    thresholds = dict(Slot.objects.filter(device=device).values_list("code", "level__low_threshold"))
    assert thresholds == {"A1": 4, "A2": 1}
    assert StockLevel.objects.count() == 2


def test_a_new_rate_plan_without_a_deposit_takes_its_regions_default(world, client):
    from leasing.models import RatePlan

    client.force_login(world.admin)
    assert _set(client, world.root, "rentals.default_deposit", "99.00").status_code == 302
    create = reverse("leasing:plan-create")
    base = {"name": "Power bank", "asset_kind": "power_bank", "unit_minutes": "60", "unit_price": "2.00",
            "free_minutes": "0", "late_period_minutes": "60", "late_fee": "0", "is_active": "1"}  # fmt: skip
    assert client.post(create, {**base, "region": world.east.pk}).status_code == 302
    assert client.post(create, {**base, "name": "Own", "region": world.east.pk, "deposit": "10"}).status_code == 302
    deposits = dict(RatePlan.objects.values_list("name", "deposit"))
    assert deposits == {"Power bank": D("99.00"), "Own": D("10.00")}
