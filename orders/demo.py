"""Order history for the demo: a few weeks of vending and counter sales, mostly paid by cash; and
an API partner (a courier) with a known demo key, printed by `make run`'s banner."""

import datetime

from django.utils import timezone

from devices.models import Device
from orders.models import Channel, Order, OrderEvent, OrderKind, OrderStatus, PartnerClient, Payment, Refund
from orders.partners import SHOWN_PREFIX_LENGTH, key_hash, partner_client_create
from orders.services import Actor, LineSpec, order_create, order_transition, payment_collect, refund_create

# Known only because this is demo data, like the demo logins' password; a real key is random and
# shown once.
DEMO_PARTNER_KEY = "ptn_demo-courier-key-2026-not-for-production"
DEMO_PARTNER_NAME = "Demo Courier (Shanghai)"


def banner_lines() -> list[str]:
    if not PartnerClient.objects.filter(name=DEMO_PARTNER_NAME, is_active=True).exists():
        return []
    return [f"Partner API key ({DEMO_PARTNER_NAME}): Authorization: Partner {DEMO_PARTNER_KEY}"]


def _seed_partner(ctx):
    shanghai = ctx["regions"]["demo-sh"]
    sites = [s for s in ctx["sites"].values() if s.region_id == shanghai.pk and s.kind == s.Kind.STORE]
    banks = [d for d in ctx["devices"] if d.kind == Device.Kind.LOCKER and d.site.region_id == shanghai.pk]
    issued = partner_client_create(
        actor=ctx["users"]["platform_admin"],
        name=DEMO_PARTNER_NAME,
        kind=PartnerClient.Kind.COURIER,
        region=shanghai,
        sites=sites,
        banks=banks,
    )
    PartnerClient.objects.filter(pk=issued.client.pk).update(
        key_hash=key_hash(DEMO_PARTNER_KEY), key_prefix=DEMO_PARTNER_KEY[:SHOWN_PREFIX_LENGTH]
    )


def seed(ctx):
    _seed_partner(ctx)
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
            if order.kind == OrderKind.COUNTER and rnd.random() < 0.4:
                # A bank card on the store's terminal: the finance dashboard shows takings by method.
                payment_collect(
                    order=order, provider="card", amount=order.total, actor=actor, reference=f"demo-{order.number}"
                )
            else:
                payment_collect(order=order, provider="cash", amount=order.total, actor=actor)
            order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=actor)
            if rnd.random() < 0.03:
                refund_create(order=order, amount=order.total, actor=clerk, reason="Customer complaint (demo)")
            # Backdate the history so reports have something to show.
            Order.objects.filter(pk=order.pk).update(created_at=at, paid_at=at, completed_at=at)
            OrderEvent.objects.filter(order=order).update(at=at)
            Payment.objects.filter(order=order).update(created_at=at, succeeded_at=at, collected_at=at)
            Refund.objects.filter(order=order).update(created_at=at, succeeded_at=at)
    _today_at_the_store(ctx)


def _today_at_the_store(ctx):
    """What a store manager finds on opening the dashboard: the clerk's shift open since the
    morning with a few sales, a refund above the clerk's limit waiting for approval, and an alert."""
    from decimal import Decimal

    from staff.counter import refund_request, shift_open
    from staff.models import AnomalyRule, StaffAlert

    clerk = ctx["users"]["clerk"]
    store = ctx["sites"]["sh-store-1"]
    rnd = ctx["random"]
    shift = shift_open(actor=clerk, site=store, opening_float=Decimal("200.00"))
    products = ctx["products"]
    big = None
    for quantity in (1, 2, 1, 20):
        product = rnd.choice(products)
        line = LineSpec(
            description=product.name,
            unit_price=product.sale_price,
            product=product,
            cost_price=product.cost_price,
            quantity=quantity,
        )
        order = order_create(kind=OrderKind.COUNTER, actor=clerk, site=store, channel=Channel.COUNTER, lines=[line])
        payment_collect(order=order, provider="cash", amount=order.total, actor=clerk, shift=shift)
        order_transition(order=order, to_status=OrderStatus.COMPLETED, actor=Actor.of(clerk))
        big = order
    # Above the demo clerk's 50 a refund: it waits for the store manager.
    refund_request(actor=clerk, order=big, amount=big.total, reason="Whole box damaged (demo)")
    StaffAlert.objects.get_or_create(
        dedupe_key=f"demo-large-amount-{big.pk}",
        defaults={
            "kind": AnomalyRule.Kind.LARGE_AMOUNT,
            "region": store.region,
            "site": store,
            "clerk": clerk,
            "message": f"Refund of {big.total} asked for on {big.number} (demo)",
            "evidence": {"order": big.number},
        },
    )
