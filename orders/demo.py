"""Order history for the demo: a few weeks of vending and counter sales, mostly paid by cash."""

import datetime

from django.utils import timezone

from devices.models import Device
from orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus, Payment
from orders.services import Actor, LineSpec, order_create, order_transition, payment_collect, refund_create


def seed(ctx):
    rnd = ctx["random"]
    products = ctx["products"]
    vending = [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]
    stores = [s for s in ctx["sites"].values() if s.kind == s.Kind.STORE]
    clerk = ctx["users"]["clerk"]
    today = timezone.localdate()
    for days_ago in range(ctx["days"], -1, -1):
        day = today - datetime.timedelta(days=days_ago)
        for _ in range(rnd.randint(ctx["orders_per_day"] // 2, ctx["orders_per_day"])):
            product = rnd.choice(products)
            at = timezone.make_aware(
                datetime.datetime.combine(day, datetime.time(rnd.randint(7, 22), rnd.randint(0, 59)))
            )
            if at > timezone.now():
                continue
            line = LineSpec(
                description=product.name,
                unit_price=product.sale_price,
                product=product,
                cost_price=product.cost_price,
                quantity=1 if rnd.random() < 0.8 else 2,
            )
            if rnd.random() < 0.7:
                device = rnd.choice(vending)
                order = order_create(
                    kind=OrderKind.VENDING,
                    actor=device,
                    device=device,
                    channel=Channel.MACHINE,
                    lines=[line],
                    customer=rnd.choice(ctx["customers"]) if rnd.random() < 0.4 else None,
                )
                actor = Actor.of(device)
            else:
                order = order_create(
                    kind=OrderKind.COUNTER, actor=clerk, site=rnd.choice(stores), channel=Channel.COUNTER, lines=[line]
                )
                actor = Actor.of(clerk)
            payment_collect(order=order, provider="cash", amount=order.total, actor=actor)
            order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor)
            if rnd.random() < 0.03:
                refund_create(order=order, amount=order.total, actor=clerk, reason="Customer complaint (demo)")
            # Backdate the history so reports have something to show.
            Order.objects.filter(pk=order.pk).update(created_at=at, paid_at=at, completed_at=at)
            OrderEvent.objects.filter(order=order).update(at=at)
            Payment.objects.filter(order=order).update(created_at=at, succeeded_at=at)
