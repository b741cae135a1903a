"""Reads on the order spine, scoped to the caller."""

from orders.models import Order


def order_detail(*, user, pk):
    return (
        Order.objects.restrict(user, "view")
        .select_related("customer", "site", "device", "region", "created_by", "partner")
        .prefetch_related("lines__product", "payments", "refunds", "events__actor_user")
        .get(pk=pk)
    )
