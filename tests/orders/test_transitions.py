"""The transition table is the only way an order's status changes."""

import pytest

from orders.models import Order, OrderEvent, OrderStatus
from orders.services import TRANSITIONS, TransitionNotAllowed, order_transition
from tests.factories import SiteFactory, make_order

ALL = [status for status, _label in OrderStatus.choices]
ALLOWED = [(a, b) for a in ALL for b in sorted(TRANSITIONS.get(a, ()))]
DISALLOWED = [(a, b) for a in ALL for b in ALL if b not in TRANSITIONS.get(a, ())]


def _order_in(status):
    order = make_order(site=SiteFactory())
    Order.objects.filter(pk=order.pk).update(status=status)  # test set-up only
    order.refresh_from_db()
    return order


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(ALL)
    assert ALLOWED and DISALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_each_allowed_transition_writes_exactly_one_event(from_status, to_status, django_user_model):
    order = _order_in(from_status)
    user = django_user_model.objects.create_user("actor", password="x-12345-y")
    before = OrderEvent.objects.filter(order=order).count()
    order_transition(order=order, to_status=to_status, actor=user, reason="because")
    order.refresh_from_db()
    assert order.status == to_status
    events = OrderEvent.objects.filter(order=order).order_by("pk")
    assert events.count() == before + 1
    event = events.last()
    assert (event.from_status, event.to_status, event.actor_user, event.reason) == (
        from_status,
        to_status,
        user,
        "because",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED)
def test_a_transition_outside_the_table_raises_and_writes_nothing(from_status, to_status):
    order = _order_in(from_status)
    before = OrderEvent.objects.filter(order=order).count()
    updated_at = order.updated_at
    with pytest.raises(TransitionNotAllowed) as caught:
        order_transition(order=order, to_status=to_status, actor=None)
    assert order.number in str(caught.value)
    order.refresh_from_db()
    assert order.status == from_status
    assert order.updated_at == updated_at
    assert OrderEvent.objects.filter(order=order).count() == before


@pytest.mark.django_db(transaction=True)
def test_a_caller_holding_the_lock_moves_the_order_in_its_own_transaction_and_a_refusal_leaves_it_usable():
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from orders.services import lock_order

    order = _order_in(OrderStatus.NEW)
    with pytest.raises(TransactionManagementError):
        order_transition(order=order, to_status=OrderStatus.PAID, actor=None, locked=True)
    with transaction.atomic():
        locked = lock_order(order)
        with pytest.raises(TransitionNotAllowed):
            order_transition(order=locked, to_status=OrderStatus.COMPLETED, actor=None, locked=True)
        # The refusal wrote nothing and the transaction goes on.
        order_transition(order=locked, to_status=OrderStatus.PAID, actor=None, data={"n": 1}, locked=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_at is not None
    event = OrderEvent.objects.filter(order=order).order_by("pk").last()
    assert (event.action, event.from_status, event.to_status, event.data, event.actor_kind) == (
        "status",
        "new",
        "paid",
        {"n": 1},
        "system",
    )


@pytest.mark.django_db
def test_a_chain_of_transitions_through_a_hook_writes_each_event_and_the_row_once(django_assert_num_queries):
    """A paid vending sale goes NEW → PAID → FULFILLING in one payment: two events, in order, and
    one UPDATE of the order (status is indexed, so each UPDATE rewrites every index)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from devices.models import DeviceCommand
    from inventory.services import stock_move
    from orders.services import payment_collect
    from tests.factories import DeviceFactory, ProductFactory
    from vending.services import slot_create, vend_start

    machine = DeviceFactory(kind="vending")
    slot = slot_create(device=machine, code="A1", product=ProductFactory(), capacity=5)
    stock_move(level=slot.level, quantity=5, reason="restock")
    vend = vend_start(device=machine, slot_code="A1", request_id="chain-1")
    with CaptureQueriesContext(connection) as captured:
        payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "orders_order"')]
    assert len(updates) == 1
    stored = Order.objects.get(pk=vend.order.pk)
    assert stored.status == OrderStatus.FULFILLING and stored.paid_at is not None
    assert stored.paid_amount == stored.total
    steps = list(OrderEvent.objects.filter(order=stored).order_by("pk").values_list("from_status", "to_status"))
    assert steps[-2:] == [(OrderStatus.NEW, OrderStatus.PAID), (OrderStatus.PAID, OrderStatus.FULFILLING)]
    assert DeviceCommand.objects.filter(command_id=vend.command_id, kind="dispense").exists()


@pytest.mark.django_db
def test_a_hook_that_moves_a_copy_of_the_order_is_refused_and_nothing_is_written():
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    from orders import events
    from orders.services import lock_order

    order = make_order(site=SiteFactory())

    def moves_a_copy(changed, from_status, actor):
        if changed.status == OrderStatus.PAID:
            order_transition(order=lock_order(changed.pk), to_status=OrderStatus.COMPLETED, actor=None, locked=True)

    events.transition_hook_register(moves_a_copy)
    try:
        with pytest.raises(TransactionManagementError), transaction.atomic():
            order_transition(order=order, to_status=OrderStatus.PAID, actor=None)
    finally:
        events._TRANSITION_HOOKS.remove(moves_a_copy)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.NEW
    assert not OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID).exists()
    # The failed chain left nothing behind: the same order moves normally afterwards.
    order_transition(order=Order.objects.get(pk=order.pk), to_status=OrderStatus.PAID, actor=None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
