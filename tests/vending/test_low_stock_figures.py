"""A slot below its threshold shows wherever low stock is counted, however it got there (here: a
stock count, not a machine sale, so no alert ever stamped it): on the low-stock page, in the
supplier dashboard's count and list, and in a restock plan. The supplier's "Recent sales" lists
the machines' sales of their products."""

import pytest
from django.urls import reverse

from core.services import scope_grant
from inventory.services import stock_move
from orders.models import Channel, OrderKind, OrderStatus
from orders.services import Actor, LineSpec, order_create, order_transition, payment_collect
from tests.factories import DeviceFactory, ProductFactory
from vending.models import RestockTask
from vending.services import slot_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def low(world):
    """A slot at 1 in stock against a threshold of 3 (par 12), of the supplier's own product."""
    machine = DeviceFactory(kind="vending", site=world.east_store)
    product = ProductFactory(supplier=world.supplier, name="Lemon tea")
    slot = slot_create(device=machine, code="A1", product=product, capacity=12, par_level=12, low_threshold=3)
    stock_move(level=slot.level, quantity=1, reason="restock", actor="count")
    plenty = slot_create(device=machine, code="A2", product=product, capacity=12, par_level=12, low_threshold=3)
    stock_move(level=plenty.level, quantity=10, reason="restock", actor="count")
    return slot


def test_a_slot_below_its_threshold_is_on_the_low_stock_page(low, world, client):
    scope_grant(actor=None, user=world.service, target=world.east, action="view")
    client.force_login(world.service)
    page = client.get(reverse("vending:low-stock"))
    assert page.status_code == 200
    assert list(page.context["slots"]) == [low]
    assert f'data-pk="{low.pk}"' in page.content.decode()


def test_the_supplier_counts_and_lists_its_low_slots(low, world, client):
    client.force_login(world.supplier_user)
    page = client.get(reverse("vending:supplier-dashboard"))
    assert page.status_code == 200
    (row,) = page.context["stock"]
    assert (row.slot_count, row.in_machines, row.low) == (2, 11, 1)
    assert [slot.pk for slot in page.context["low"]] == [low.pk]


def test_a_restock_plan_refills_the_low_slot_to_par(low, world, client):
    scope_grant(actor=None, user=world.service, target=world.east, action="view")
    client.force_login(world.service)
    form = client.get(reverse("vending:restock-plan"))
    assert low.device.pk in form.context["form"].initial["devices"]  # machines with low slots come ticked
    page = client.post(reverse("vending:restock-plan"), {"devices": [low.device.pk], "route": "R1"})
    assert page.status_code == 200
    task = RestockTask.objects.get(device=low.device)
    planned = {line.slot_id: line.planned for line in task.lines.all()}
    assert planned[low.pk] == 11
    assert any(row["product"] == low.product and row["quantity"] == 13 for row in page.context["prekit"])


def test_the_supplier_sees_its_products_recent_machine_sales(low, world, client):
    other = ProductFactory(supplier=world.other_supplier, name="Someone else's cola")
    for product in (low.product, other):
        order = order_create(
            kind=OrderKind.VENDING,
            actor=low.device,
            device=low.device,
            channel=Channel.MACHINE,
            lines=[LineSpec(description=product.name, unit_price=product.sale_price, product=product)],
        )
        actor = Actor.of(low.device)
        payment_collect(order=order, provider="cash", amount=order.total, actor=actor)
        order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor)
    client.force_login(world.supplier_user)
    page = client.get(reverse("vending:supplier-dashboard"))
    sales = list(page.context["sales"])
    assert [line.product for line in sales] == [low.product]
    html = page.content.decode()
    assert "Lemon tea" in html.split('id="supplier-sales"')[1] and "Someone else" not in html
