"""On PostgreSQL, with real concurrent transactions: a clerk's daily refund limit holds when
several tills refund at once, and an approval decided twice at the same moment moves money once."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from orders.models import Refund
from staff.counter import (
    SaleLine,
    counter_collect,
    counter_sale_create,
    refund_approval_decide,
    refund_request,
    shift_open,
)
from staff.models import RefundApproval

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal


def _run_together(functions):
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def worker(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _paid_orders(world, count, amount="40.00"):
    orders = []
    for _ in range(count):
        order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "x", D(amount))])
        counter_collect(actor=world.clerk, order=order, method="cash", tendered=D(amount))
        orders.append(order)
    return orders


def test_the_daily_limit_holds_under_concurrent_refunds(world):
    assert connection.vendor == "postgresql"
    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    orders = _paid_orders(world, 6)  # clerk: 50 per refund, 100 per day

    def refund(order):
        from staff.models import User

        clerk = User.objects.get(pk=world.clerk.pk)
        return refund_request(actor=clerk, order=order, amount=D("40.00"), reason="concurrent")

    results, errors = _run_together([lambda o=o: refund(o) for o in orders])
    assert errors == []
    immediate = [r for r in results if not r.needs_approval]
    waiting = [r for r in results if r.needs_approval]
    assert len(immediate) == 2 and len(waiting) == 4  # 40 + 40 ≤ 100; a third would be 120
    total = sum(r.amount for r in Refund.objects.filter(requested_by=world.clerk, status="succeeded"))
    assert total == D("80.00")
    assert RefundApproval.objects.filter(status="pending").count() == 4


def test_an_approval_decided_twice_at_once_moves_money_once(world):
    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    (order,) = _paid_orders(world, 1, amount="90.00")
    approval = refund_request(actor=world.clerk, order=order, amount=D("80.00"), reason="big").approval

    def decide(user_pk):
        from staff.models import User

        approver = User.objects.get(pk=user_pk)
        fresh = RefundApproval.objects.get(pk=approval.pk)
        return refund_approval_decide(actor=approver, approval=fresh, approve=True, reason="ok")

    results, errors = _run_together([lambda: decide(world.manager.pk), lambda: decide(world.regional.pk)])
    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 1 and "already approved" in str(errors[0])
    assert Refund.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.refunded_amount == D("80.00")
