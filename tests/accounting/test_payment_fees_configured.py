"""Every method's fee comes from its configured rate when the payment settles (issue 18, item 5):
a card taken at the till records the card rate (docs/deploy.md's PAYMENT_FEE_RATES default, or
the region's own setting), cash its own rate, and an online payment confirmed by its notice the
provider's rate of the order's region."""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from core.region_settings import region_setting_set
from orders.models import Payment
from orders.services import Actor, payment_confirm
from tests.factories import make_order

pytestmark = pytest.mark.django_db
SALES = "/api/v1/counter-orders/"


def _collect(world, method, reference=""):
    api = APIClient()
    api.force_authenticate(world.clerk)
    order_id = api.post(
        SALES, {"site": world.east_store.pk, "lines": [{"description": "Repair", "unit_price": "30.00"}]}, format="json"
    ).json()["id"]
    response = api.post(f"{SALES}{order_id}/collect/", {"method": method, "reference": reference}, format="json")
    assert response.status_code == 200, response.content
    return Payment.objects.get(order_id=order_id)


def test_a_card_payment_at_the_till_records_the_default_card_rate(world):
    # PAYMENT_FEE_RATES' default card rate is 0.0038 (docs/deploy.md): 30.00 × 0.38 % = 0.114 → 0.11.
    assert _collect(world, "card", "T-100").fee == D("0.11")


def test_the_regions_own_rates_apply_to_card_and_cash(world):
    region_setting_set(actor=world.admin, region=world.east, key="fees.card", raw="0.006")
    region_setting_set(actor=world.admin, region=world.root, key="fees.cash", raw="0.001")
    assert _collect(world, "card", "T-101").fee == D("0.18")
    from staff.counter import shift_open

    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("100.00"))
    assert _collect(world, "cash").fee == D("0.03")  # inherited from the root region


@pytest.mark.parametrize(
    "method,rate,fee", [("wechat", "0.0060", "0.12"), ("alipay", "0.0055", "0.11"), ("stripe", "0.0290", "0.58")]
)
def test_an_online_payment_confirmed_by_its_notice_records_its_rate(world, method, rate, fee):
    region_setting_set(actor=world.admin, region=world.east, key=f"fees.{method}", raw=rate)
    order = make_order(site=world.east_store, total=D("20.00"))
    payment = Payment.objects.create(order=order, provider=method, amount=D("20.00"), reference=f"{method}-1")
    assert payment_confirm(payment=payment, actor=Actor.system("notify")).fee == D(fee)
