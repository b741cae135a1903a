"""Order history for the demo: the stores' counter sales over the demo's days (the machines' are
vending/demo.py's), the demo store's day so far; and an API partner (a courier) with a known demo key, printed by `make run`'s banner."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_noop

from devices.models import Device
from orders.models import Channel, OrderKind, OrderStatus, PartnerClient
from orders.partners import SHOWN_PREFIX_LENGTH, key_hash, partner_client_create
from orders.services import Actor, LineSpec, order_create, order_transition, payment_collect

# Known only because this is demo data, like the demo logins' password; a real key is random and
# shown once.
DEMO_PARTNER_KEY = "ptn_demo-courier-key-2026-not-for-production"
DEMO_PARTNER_NAME = "Demo Courier (Shanghai)"


# The large-amount rule's sentence (staff/anomalies.py), for the demo's alert.
LARGE_REFUND = gettext_noop("%(what)s of %(amount)s on %(number)s is over %(threshold)s.")


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
    _counter_history(ctx)
    # A flagged offline sale needs a shelf to have run out of (ADR 20).
    from staff.demo import seed_offline_sale

    seed_offline_sale(ctx)
    _today_at_the_store(ctx)


SHELF_REFILL_TO = 24
SHELF_REFILL_BELOW = 8


def _counter_history(ctx):
    """The stores' counter sales over the history (orders.demo_history): shelves filled on the
    first day and on each store's weekly delivery day, one to three products a sale while the
    shelf has them, paid by cash, card, WeChat Pay or Alipay (with the method's fee); now and then
    a sale the customer did not pay for (cancelled) and refunds, whole or of one line."""
    from decimal import Decimal

    from inventory.models import StockLevel, StockMovement
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, demand, levels_settle, moment, movement, poisson, stamps_kept
    from orders.models import ActorKind

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    users = ctx["users"]
    clerk, admin = users["clerk"], users["platform_admin"]
    history = History()
    restocks, level_ids = [], []
    stores = [s for s in ctx["sites"].values() if s.kind == s.Kind.STORE]
    for index, store in enumerate(sorted(stores, key=lambda s: s.code)):
        levels = list(
            StockLevel.objects.filter(location__site=store, location__kind="shelf").select_related("product__category")
        )
        if not levels:
            continue
        level_ids += [level.pk for level in levels]
        seller = clerk if store.code == "sh-store-1" else admin
        actor = HistoryActor(ActorKind.USER, seller.get_username(), seller.pk)
        stock = {level.pk: 0 for level in levels}
        weights = [3 if level.product.pk % 5 else 0.3 for level in levels]  # slow movers sell seldom
        busy = ctx["orders_per_day"] * 0.22 / max(len(stores), 1) * rnd.uniform(0.8, 1.2)
        for offset in range(ctx["days"] + 1):
            day = start + datetime.timedelta(days=offset)
            if offset == 0 or (offset + index) % 7 == 0:  # the weekly delivery
                at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, rnd.randrange(60))))
                for level in levels:
                    if stock[level.pk] < SHELF_REFILL_BELOW and at <= now:
                        restocks.append(movement(level, SHELF_REFILL_TO - stock[level.pk], "restock", at, "warehouse"))
                        stock[level.pk] = SHELF_REFILL_TO
            count = poisson(rnd, busy * demand(day, start=start))
            for at in sorted(moment(rnd, day) for _ in range(count)):
                if at > now:
                    continue
                picked = {}
                for level in rnd.choices(levels, weights=weights, k=rnd.choice((1, 1, 1, 2, 3))):
                    quantity = 1 if rnd.random() < 0.8 else 2
                    if stock[level.pk] - picked.get(level, 0) >= quantity:
                        picked[level] = picked.get(level, 0) + quantity
                if not picked:
                    continue  # what they wanted was sold out
                lines = [(level.product, quantity, level.product.sale_price) for level, quantity in picked.items()]
                sale = history.sale(
                    kind=OrderKind.COUNTER,
                    at=at,
                    region_id=store.region_id,
                    site_id=store.pk,
                    channel=Channel.COUNTER,
                    actor=actor,
                    lines=lines,
                    customer_id=rnd.choice(ctx["customers"]).pk if rnd.random() < 0.25 else None,
                )
                roll = rnd.random()
                if roll < 0.01:  # rung up, never paid: cancelled, nothing left the shelf
                    history.move(sale, OrderStatus.CANCELLED, at=at, actor=actor, reason="Customer left (demo)")
                    continue
                for level, quantity in picked.items():
                    stock[level.pk] -= quantity
                    sale.movements.append(movement(level, -quantity, "sale", at, seller.get_username()))
                method = rnd.choices(["cash", "card", "wechat", "alipay"], weights=[40, 25, 20, 15])[0]
                reference = "" if method == "cash" else f"demo-{sale.order.number}"
                history.pay(sale, at=at, method=method, actor=actor, reference=reference, collected_by_id=seller.pk)
                history.move(sale, OrderStatus.COMPLETED, at=at, actor=actor)
                if roll > 0.97:  # returned: the whole sale, or its first line, refunded the same day
                    later = at + datetime.timedelta(minutes=rnd.randrange(5, 120))
                    whole = roll > 0.985 or len(lines) == 1
                    amount = None if whole else Decimal(lines[0][2] * lines[0][1])
                    history.refund(sale, at=later, actor=actor, reason="Customer complaint (demo)", amount=amount)
    with stamps_kept(StockMovement):
        StockMovement.objects.bulk_create(restocks, batch_size=1000)
    sales = history.flush()
    levels_settle(level_ids)
    ctx["stdout"].write(f"    counter history: {len(sales)} sales over {ctx['days']} days")


def _today_at_the_store(ctx):
    """What a store manager finds on opening the dashboard: the clerk's shift open since the
    morning with a few sales, a refund above the clerk's limit waiting for approval, and an alert."""
    from decimal import Decimal

    from staff.counter import refund_request, shift_open
    from staff.models import MESSAGE_KEY, AnomalyRule, StaffAlert, alert_text

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
    # Told the way the anomaly rules tell it, so each reader sees it in their language.
    large = {"what": "refund", "amount": str(big.total), "number": big.number, "threshold": "50.00"}
    StaffAlert.objects.get_or_create(
        dedupe_key=f"demo-large-amount-{big.pk}",
        defaults={
            "kind": AnomalyRule.Kind.LARGE_AMOUNT,
            "region": store.region,
            "site": store,
            "clerk": clerk,
            "message": alert_text(LARGE_REFUND, large),
            "evidence": {"order": big.number, MESSAGE_KEY: {"text": LARGE_REFUND, "params": large}},
        },
    )
