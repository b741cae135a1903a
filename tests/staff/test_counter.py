"""The counter: shifts with their cash, collections, refunds within limits and approvals above them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import AuditEntry
from orders.models import Order, OrderEvent, Payment, Refund
from staff.counter import (
    SaleLine,
    counter_collect,
    counter_sale_create,
    refund_approval_decide,
    refund_request,
    shift_close,
    shift_open,
)
from staff.models import RefundApproval, StaffProfile
from staff.policies import StaffPermissionDenied
from tests.factories import ProductFactory, UserFactory, stock_shelf

pytestmark = pytest.mark.django_db
D = Decimal


def _cash_sale(world, total="80.00", tendered="100.00"):
    order = counter_sale_create(
        actor=world.clerk,
        site=world.east_store,
        lines=[SaleLine(product=None, description="Goods", unit_price=D(total))],
    )
    collection = counter_collect(actor=world.clerk, order=order, method="cash", tendered=D(tendered))
    order.refresh_from_db()
    return order, collection


@pytest.fixture
def shift(world):
    return shift_open(actor=world.clerk, site=world.east_store, opening_float=D("200.00"))


def test_cash_collection_records_change_and_pays_the_order(world, shift):
    order, collection = _cash_sale(world, total="80.00", tendered="100.00")
    assert collection.change == D("20.00")
    assert order.status == "paid"
    payment = collection.payment
    assert payment.shift == shift and payment.data == {"tendered": "100.00", "change": "20.00", "till": True}
    assert payment.collected_by == world.clerk


def test_cash_needs_an_open_shift_and_enough_tendered(world):
    order = counter_sale_create(
        actor=world.clerk, site=world.east_store, lines=[SaleLine(product=None, description="Goods", unit_price=D("5"))]
    )
    with pytest.raises(ValidationError, match="Open a shift"):
        counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("10"))
    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    with pytest.raises(ValidationError, match="less than"):
        counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("4.99"))
    assert not Payment.objects.filter(order=order).exists()


def test_card_needs_the_terminal_reference(world):
    product = ProductFactory(sale_price=D("3.50"))
    stock_shelf(world.east_store, product, 2)
    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(product=product, quantity=2)])
    assert order.total == D("7.00")
    with pytest.raises(ValidationError, match="reference"):
        counter_collect(actor=world.clerk, order=order, method="card")
    counter_collect(actor=world.clerk, order=order, method="card", reference="TERM-0042")
    assert Payment.objects.get(order=order).reference == "TERM-0042"


def test_shift_close_records_expected_variance_and_closer(world, shift):
    _cash_sale(world, total="80.00", tendered="100.00")
    order, _ = _cash_sale(world, total="30.00", tendered="30.00")
    refund_request(actor=world.clerk, order=order, amount=D("10.00"), reason="damaged")
    closed = shift_close(actor=world.clerk, shift=shift, counted_amount=D("295.00"))
    assert closed.expected_amount == D("300.00")  # 200 float + 80 + 30 − 10
    assert closed.variance == D("-5.00")
    assert closed.closed_by == world.clerk
    with pytest.raises(ValidationError, match="already closed"):
        shift_close(actor=world.clerk, shift=shift, counted_amount=D("1"))


def test_one_open_shift_per_clerk(world, shift):
    with pytest.raises(ValidationError, match="already have an open shift"):
        shift_open(actor=world.clerk, site=world.east_store, opening_float=D("10"))


def test_offline_collection_keeps_its_original_time_and_flag(world, shift):
    order = counter_sale_create(
        actor=world.clerk,
        site=world.east_store,
        lines=[SaleLine(product=None, description="Goods", unit_price=D("12"))],
    )
    when = timezone.now() - datetime.timedelta(hours=3)
    collection = counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("12"), offline_at=when)
    assert collection.payment.offline is True
    assert collection.payment.collected_at == when
    with pytest.raises(ValidationError, match="future"):
        counter_collect(
            actor=world.clerk, order=order, method="cash", offline_at=timezone.now() + datetime.timedelta(hours=1)
        )


def test_refund_within_limit_is_done_at_once(world, shift):
    order, _ = _cash_sale(world, total="40.00", tendered="40.00")
    outcome = refund_request(actor=world.clerk, order=order, amount=D("40.00"), reason="wrong item")
    assert outcome.refund is not None and outcome.approval is None
    order.refresh_from_db()
    assert order.refunded_amount == D("40.00") and order.status == "refunded"


def test_refund_above_limit_waits_for_approval_and_moves_no_money(world, shift):
    order, _ = _cash_sale(world, total="80.00", tendered="80.00")
    outcome = refund_request(actor=world.clerk, order=order, amount=D("60.00"), reason="customer complaint")
    assert outcome.needs_approval and outcome.refund is None
    order.refresh_from_db()
    assert order.refunded_amount == 0 and not Refund.objects.filter(order=order).exists()
    approval = outcome.approval
    assert approval.level == RefundApproval.Level.MANAGER
    assert OrderEvent.objects.filter(order=order, action="refund.requested").exists()

    decided = refund_approval_decide(actor=world.manager, approval=approval, approve=True, reason="ok")
    order.refresh_from_db()
    assert decided.status == "approved" and decided.refund.amount == D("60.00")
    assert order.refunded_amount == D("60.00")
    assert list(OrderEvent.objects.filter(order=order).values_list("action", flat=True))[-2:] == [
        "refund",
        "refund.approved",
    ]
    with pytest.raises(ValidationError, match="already approved"):
        refund_approval_decide(actor=world.manager, approval=decided, approve=True)
    assert Refund.objects.filter(order=order).count() == 1


def test_rejected_refund_never_moves_money(world, shift):
    order, _ = _cash_sale(world, total="80.00", tendered="80.00")
    approval = refund_request(actor=world.clerk, order=order, amount=D("70.00"), reason="complaint").approval
    with pytest.raises(ValidationError, match="Say why"):
        refund_approval_decide(actor=world.manager, approval=approval, approve=False, reason="")
    refund_approval_decide(actor=world.manager, approval=approval, approve=False, reason="used item")
    approval.refresh_from_db()
    with pytest.raises(ValidationError, match="already rejected"):
        refund_approval_decide(actor=world.manager, approval=approval, approve=True)
    order.refresh_from_db()
    assert order.refunded_amount == 0 and not Refund.objects.filter(order=order).exists()
    assert OrderEvent.objects.filter(order=order, action="refund.rejected", reason="used item").exists()


def test_daily_limit_turns_the_third_refund_into_a_request(world, shift):
    outcomes = []
    for _ in range(3):
        order, _ = _cash_sale(world, total="40.00", tendered="40.00")
        outcomes.append(refund_request(actor=world.clerk, order=order, amount=D("40.00"), reason="return"))
    assert [o.needs_approval for o in outcomes] == [False, False, True]  # 40 + 40 ≤ 100 < 120


def test_own_request_cannot_be_approved_and_the_attempt_is_logged(world, shift):
    order, _ = _cash_sale(world, total="80.00", tendered="80.00")
    world.manager.profile.sites.add(world.east_store)
    approval = refund_request(actor=world.clerk, order=order, amount=D("60.00"), reason="x").approval
    with pytest.raises(StaffPermissionDenied):
        refund_approval_decide(actor=world.clerk, approval=approval, approve=True)
    assert AuditEntry.objects.filter(actor=world.clerk, action="denied.refund.approve").exists()
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_above_the_managers_limit_goes_to_the_regional_administrator(world, shift):
    order, _ = _cash_sale(world, total="800.00", tendered="800.00")
    approval = refund_request(actor=world.clerk, order=order, amount=D("700.00"), reason="faulty").approval
    assert approval.level == RefundApproval.Level.REGIONAL
    with pytest.raises(StaffPermissionDenied):
        refund_approval_decide(actor=world.manager, approval=approval, approve=True)
    refund_approval_decide(actor=world.regional, approval=approval, approve=True)
    order.refresh_from_db()
    assert order.refunded_amount == D("700.00")


def test_clerk_without_refund_switch_or_outside_store_is_refused_and_logged(world, shift):
    order, _ = _cash_sale(world, total="10.00", tendered="10.00")
    StaffProfile.objects.filter(user=world.clerk).update(can_refund=False)
    world.clerk.__dict__.pop("_staff_profile", None)
    with pytest.raises(StaffPermissionDenied, match="may not refund"):
        refund_request(actor=world.clerk, order=order, amount=D("1.00"), reason="x")
    stranger = UserFactory(role="clerk")
    StaffProfile.objects.create(user=stranger, can_refund=True).sites.add(world.west_store)
    with pytest.raises(StaffPermissionDenied, match="do not work at"):
        refund_request(actor=stranger, order=order, amount=D("1.00"), reason="x")
    assert AuditEntry.objects.filter(action="denied.refund").count() == 2
    assert Order.objects.get(pk=order.pk).refunded_amount == 0


def test_pending_requests_count_against_what_is_refundable(world, shift):
    order, _ = _cash_sale(world, total="80.00", tendered="80.00")
    refund_request(actor=world.clerk, order=order, amount=D("60.00"), reason="a")
    with pytest.raises(ValidationError, match="already waits"):
        refund_request(actor=world.clerk, order=order, amount=D("30.00"), reason="b")
