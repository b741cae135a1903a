"""core.sql writes and reads exactly what the ORM would, on SQLite and on PostgreSQL."""

import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError
from django.forms.models import model_to_dict
from django.utils import timezone

from core import sql
from core.models import Region
from devices.models import DeviceCommand
from inventory.models import StockMovement
from orders.models import Order, OrderLine
from orders.services import lock_order, payment_collect
from tests.factories import DeviceFactory, ProductFactory, SiteFactory, make_order
from vending.services import slot_create, vend_start

pytestmark = pytest.mark.django_db


def _row(obj):
    fresh = type(obj).objects.get(pk=obj.pk)
    return {f.attname: getattr(fresh, f.attname) for f in type(obj)._meta.concrete_fields}


def test_insert_writes_the_row_save_would_and_sets_the_key():
    device = DeviceFactory()
    command_id = uuid.uuid4()
    fields = dict(
        device=device,
        command_id=command_id,
        kind="dispense",
        payload={"slot": "A1", "nested": [1, "二"]},
        reference="V1",
        expires_at=timezone.now(),
        actor_label="vending",
    )
    ours, theirs = DeviceCommand(**fields), DeviceCommand(**{**fields, "command_id": uuid.uuid4()})
    sql.insert(ours)
    theirs.save(force_insert=True)
    assert ours.pk and not ours._state.adding
    assert ours.created_at is not None  # auto_now_add stamped, as save() does
    mine, saved = _row(ours), _row(theirs)
    assert mine["command_id"] == command_id and mine["payload"] == {"slot": "A1", "nested": [1, "二"]}
    for key in ("id", "command_id", "created_at"):
        mine.pop(key), saved.pop(key)
    assert mine == saved


def test_insert_of_several_rows_is_one_statement_and_keys_follow_the_order(django_assert_num_queries):
    order = make_order(site=SiteFactory())
    lines = [
        OrderLine(order=order, description=f"line {i}", quantity=i, unit_price=Decimal("1.10"), line_total=i * 1)
        for i in range(1, 4)
    ]
    with django_assert_num_queries(1):
        sql.insert(*lines)
    for line in lines:
        stored = OrderLine.objects.get(pk=line.pk)
        assert (stored.description, stored.quantity, stored.unit_price) == (
            line.description,
            line.quantity,
            Decimal("1.10"),
        )


def test_update_writes_the_fields_and_stamps_auto_now():
    order = make_order(site=SiteFactory())
    before = Order.objects.get(pk=order.pk).updated_at
    order.note = "changed"
    order.total = Decimal("9.99")  # not among the fields: stays as stored
    sql.update(order, ["note", "updated_at"])
    stored = Order.objects.get(pk=order.pk)
    assert stored.note == "changed" and stored.updated_at > before
    assert stored.total != Decimal("9.99")


def test_update_of_a_missing_row_is_an_error_not_silence():
    order = make_order(site=SiteFactory())
    order.pk = order.pk + 10_000
    with pytest.raises(DatabaseError):
        sql.update(order, ["note"])


def test_columns_load_what_the_orm_loads_and_defer_the_rest():
    order = make_order(site=SiteFactory())
    columns = sql.Columns(Order, ("id", "number", "total", "created_at"), alias="o")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns.sql} FROM orders_order o WHERE o.id = %s", [order.pk])
        loaded = columns.load(cursor.fetchone())
    stored = Order.objects.get(pk=order.pk)
    assert (loaded.number, loaded.total, loaded.created_at) == (stored.number, stored.total, stored.created_at)
    assert isinstance(loaded.total, Decimal)
    assert "note" in loaded.get_deferred_fields()
    assert loaded.note == stored.note  # a field not read loads on access


def test_models_with_their_own_save_are_refused():
    with pytest.raises(TypeError, match="overrides save"):
        sql.insert(Region(name="x", code="x", kind=Region.Kind.CITY))
    with pytest.raises(ValueError, match="primary key"):
        sql.Columns(Order, ("number",))


def test_no_signal_receiver_listens_to_a_model_written_here():
    """core.sql skips signals; this fails the day someone connects one to a model it writes."""
    machine = DeviceFactory(kind="vending")
    slot = slot_create(device=machine, code="A1", product=ProductFactory(), capacity=5)
    from inventory.services import stock_move

    stock_move(level=slot.level, quantity=5, reason="restock")
    vend = vend_start(device=machine, slot_code="A1", request_id="r-1")
    payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
    written = sql.written_models()
    assert {Order, OrderLine, StockMovement, DeviceCommand} <= written
    for model in written:
        assert not pre_save.has_listeners(model), model
        assert not post_save.has_listeners(model), model


def test_lock_order_reads_the_stored_row():
    order = make_order(site=SiteFactory())
    Order.objects.filter(pk=order.pk).update(note="stored")
    with transaction.atomic():
        locked = lock_order(order)
    assert model_to_dict(locked) == model_to_dict(Order.objects.get(pk=order.pk))
    with pytest.raises(Order.DoesNotExist), transaction.atomic():
        lock_order(order.pk + 10_000)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_lock_order_outside_a_transaction_is_refused_on_postgresql():
    order = make_order(site=SiteFactory())
    with pytest.raises(TransactionManagementError):
        lock_order(order)


def test_the_kept_cursor_is_reused_renewed_after_a_reconnect_and_never_hides_statements():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with sql.cursor() as first:
        first.execute("SELECT 1")
    with sql.cursor() as again:
        assert again is first  # kept: not closed at the end of the block
    with CaptureQueriesContext(connection) as captured, sql.cursor() as logged:
        assert logged is not first  # a debug cursor, so the statement is counted
        logged.execute("SELECT 2")
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT 2"]


@pytest.mark.postgres  # SQLite's in-memory test database ignores close()
@pytest.mark.django_db(transaction=True)
def test_the_kept_cursor_follows_the_connection_when_it_is_replaced():
    from django.db import connection

    with sql.cursor() as first:
        first.execute("SELECT 1")
    connection.close()
    with sql.cursor() as renewed:
        renewed.execute("SELECT 1")
        assert renewed.fetchone()[0] == 1
    assert renewed is not first
