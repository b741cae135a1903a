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
    _history(ctx)
    _recharges(ctx)
    _feedback(ctx)


def _history(ctx):
    """Members topping their wallets up over the history (set-based, wallet.demo_history), more on
    rest days and as the fleet grows: at their city's store counter by cash or card, or in the app
    by WeChat Pay or Alipay (with the method's fee), credited with the city's bonus; now and then
    refunded the same day before any of it was spent, or rung up and never paid (expired)."""
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, demand, moment, poisson
    from orders.models import ActorKind
    from wallet.demo_history import Ledger, Recharges

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    clerk = ctx["users"]["clerk"]
    clerk_actor = HistoryActor(ActorKind.USER, clerk.get_username(), clerk.pk)
    stores = {}
    for site in sorted(ctx["sites"].values(), key=lambda s: s.code):
        if site.kind == site.Kind.STORE:
            stores.setdefault(site.region_id, site)
    regions = {r.pk: r for r in ctx["regions"].values()}
    members = [c for c in ctx["customers"] if c.home_region_id in regions]
    if not members:
        return
    history, ledger = History(), Ledger()
    recharges = Recharges(history, ledger)
    rate = ctx["orders_per_day"] * 0.035
    counted = 0
    for offset in range(ctx["days"] + 1):
        day = start + datetime.timedelta(days=offset)
        for _ in range(poisson(rnd, rate * demand(day, start=start))):
            at = moment(rnd, day)
            if at > now:
                continue
            member = rnd.choice(members)
            store = stores.get(member.home_region_id)
            at_counter = store is not None and rnd.random() < 0.55
            counted += 1
            recharges.add(
                customer=member,
                amount=rnd.choices(AMOUNTS, weights=(4, 5, 2, 1))[0],
                at=at,
                site=store if at_counter else None,
                region=regions[member.home_region_id],
                actor=clerk_actor if at_counter else HistoryActor(ActorKind.CUSTOMER, str(member), None),
                method=rnd.choice(["cash", "card"] if at_counter else ["wechat", "alipay"]),
                # One in thirty never paid, one in twenty refunded (by count, so a short demo has both).
                outcome="expired" if counted % 30 == 11 else "refunded" if counted % 20 == 3 else "paid",
            )
    sales = history.flush()
    ledger.flush()
    recharges.flush()
    ctx["stdout"].write(f"    recharge history: {len(sales)} recharges over {ctx['days']} days")


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
