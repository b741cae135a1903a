"""Demo recharges: members of every city topped their wallets up over the history, at a store's
counter (with the city's bonus where it has tiers), one never paid (expired);
and the feedback members left on their sales, so the feedback page has something to answer."""

import datetime
from decimal import Decimal

from django.utils import timezone

from orders.models import Channel, Order, OrderEvent, OrderStatus, Payment
from orders.services import Actor, order_transition, payment_collect
from wallet.recharges import recharge_start

AMOUNTS = (Decimal("50.00"), Decimal("100.00"), Decimal("200.00"), Decimal("300.00"))


def seed(ctx):
    _recharges(ctx)
    _feedback(ctx)


def _recharges(ctx):
    rnd = ctx["random"]
    clerk = ctx["users"]["clerk"]
    store = ctx["sites"]["sh-store-1"]
    now = timezone.now()
    stores = {}
    for site in ctx["sites"].values():
        if site.kind == site.Kind.STORE:
            stores.setdefault(site.region_id, site)
    for index, member in enumerate(c for c in ctx["customers"][40:64] if c.home_region_id in stores):
        # At a store's counter, by cash or bank card (the demo has no online provider configured).
        site = store if member.home_region_id == store.region_id else stores[member.home_region_id]
        recharge = recharge_start(
            customer=member,
            amount=rnd.choice(AMOUNTS),
            actor=clerk,
            site=site,
            channel=Channel.COUNTER,
        )
        order = recharge.order
        if index == 5:  # rung up, never paid: expired
            order_transition(order=order, to_status=OrderStatus.EXPIRED, actor=Actor.system("expiry"))
        else:
            method = rnd.choice(["cash", "card"])
            payment_collect(
                order=order,
                provider=method,
                amount=order.total,
                actor=clerk,
                reference="" if method == "cash" else f"demo-{order.number}",
            )
        # Spread over the history: the wallet credit itself follows on commit (recharge_on_paid).
        at = now - datetime.timedelta(days=rnd.randrange(1, max(ctx["days"], 2)), minutes=rnd.randrange(600))
        Order.objects.filter(pk=order.pk).update(created_at=at, paid_at=at if order.paid_at else None, updated_at=at)
        OrderEvent.objects.filter(order=order).update(at=at)
        Payment.objects.filter(order=order).update(created_at=at, succeeded_at=at, collected_at=at)


def _feedback(ctx):
    from members.services import feedback_submit

    rnd = ctx["random"]
    comments = [
        (5, "Quick and friendly at the counter."),
        (4, "Cold drinks, as it should be."),
        (2, "The machine took my coins twice before it worked."),
        (3, "Could you stock more sugar-free drinks?"),
        (1, "The item I wanted was sold out again."),
    ]
    orders = (
        Order.objects.filter(customer__isnull=False, status=OrderStatus.COMPLETED)
        .select_related("customer", "site")
        .order_by("-created_at")
    )
    wanted = {site.pk for site in ctx["sites"].values() if site.kind != site.Kind.WAREHOUSE}
    for order in orders[:400]:
        if order.site_id not in wanted:
            continue
        wanted.discard(order.site_id)
        rating, comment = rnd.choice(comments)
        feedback_submit(customer=order.customer, rating=rating, comment=comment, order=order)
        if not wanted:
            break
