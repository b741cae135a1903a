"""How accounting hears of paid and refunded orders (registered in AccountingConfig.ready()):
a paid order queues its accrual after commit; a refund of any kind queues the reversal of its
shares when (and only if) the refund's transaction commits."""

from django.db import transaction

from orders.events import OrderChanged
from orders.models import OrderKind, OrderStatus


def accrue_on_paid(change: OrderChanged) -> None:
    if change.to_status != OrderStatus.PAID or change.kind == OrderKind.RECHARGE:
        return
    from accounting.tasks import order_accrue

    order_accrue.delay(change.order_id)


def reverse_on_refund(*, order, refund, actor) -> None:
    """A refund hook: it changes nothing inside the refund; the reversal is queued for after the
    commit, so a refused or failed refund (rolled back) reverses nothing."""
    from accounting.tasks import refund_reverse

    refund_id = refund.pk
    transaction.on_commit(lambda: refund_reverse.delay(refund_id), robust=True)
