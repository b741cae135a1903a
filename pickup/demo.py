"""Demo pickup-code orders over the history (set-based, orders.demo_history): orders bought in the
demo courier's shop or entered by a clerk, collected at a store's counter with their code, with
the demand's patterns. The live ones (waiting, handed over today) come from the lockers' demo,
through the services."""

import datetime

from django.conf import settings
from django.utils import timezone


def seed(ctx):
    _history(ctx)


def _history(ctx):
    """Paid elsewhere (`pickup.paid_elsewhere`), ready at the counter with a code sent to the
    recipient (`pickup.ready`), handed over by the store's clerk when the code is typed
    (`pickup.handed_over`) a few hours to two days later; one in twenty-five never came: its
    code expired, and once the region's grace hours were over the expiry job ended the order as not
    collected (`pickup.not_collected`, failed), as pickup.services.uncollected_expire does; within
    them it still waits at the counter for a new code. Written as pickup.services writes them:
    order, events, codes."""
    from core.region_settings import region_setting
    from orders.demo import DEMO_PARTNER_NAME
    from orders.demo_history import Actor as HistoryActor
    from orders.demo_history import History, demand, moment, poisson, stamps_kept
    from orders.models import ActorKind, Channel, OrderKind, PartnerClient
    from orders.models import OrderStatus as S
    from pickup.models import PickupCode
    from pickup.services import NOT_COLLECTED, NOT_COLLECTED_REASON, code_hmac

    rnd = ctx["random"]
    now = timezone.now()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=ctx["days"])
    stores = sorted((s for s in ctx["sites"].values() if s.kind == s.Kind.STORE), key=lambda s: s.code)
    if not stores:
        return
    users = ctx["users"]
    clerk, admin = users["clerk"], users["platform_admin"]
    partner = PartnerClient.objects.filter(name=DEMO_PARTNER_NAME).first()
    partner_sites = set(partner.sites.values_list("pk", flat=True)) if partner else set()
    ttl = datetime.timedelta(hours=settings.PICKUP_CODE_TTL_HOURS)
    expiry = HistoryActor(ActorKind.SYSTEM, "expiry", None)
    history = History()
    codes = []
    rate = ctx["orders_per_day"] * 0.03 / len(stores)
    counted = 0
    for store in stores:
        hander = clerk if store.code == "sh-store-1" else admin
        hander_actor = HistoryActor(ActorKind.USER, hander.get_username(), hander.pk)
        grace = datetime.timedelta(hours=region_setting("pickup.uncollected_grace_hours", store.region_id))
        locals_ = [c for c in ctx["customers"] if c.home_region_id == store.region_id] or ctx["customers"]
        for offset in range(ctx["days"] + 1):
            day = start + datetime.timedelta(days=offset)
            for _ in range(poisson(rnd, rate * demand(day, start=start, category="daily"))):
                at = moment(rnd, day)
                counted += 1
                never_came = counted % 25 == 12  # by count, so a short demo has some
                handed = at + datetime.timedelta(hours=rnd.uniform(0.5, 48))
                if (at + ttl if never_came else handed) > now:
                    continue  # still waiting: the services' demo has today's
                if partner is not None and store.pk in partner_sites and rnd.random() < 0.7:
                    actor = HistoryActor(ActorKind.PARTNER, partner.name, None)
                    channel = Channel.PARTNER
                    fields = {"partner_id": partner.pk, "external_reference": f"SHOP-{rnd.randrange(10**8):08d}"}
                else:
                    actor, channel, fields = hander_actor, Channel.CONSOLE, {}
                sale = history.sale(
                    kind=OrderKind.PICKUP,
                    at=at,
                    region_id=store.region_id,
                    site_id=store.pk,
                    channel=channel,
                    actor=actor,
                    lines=[],
                    customer_id=rnd.choice(locals_).pk,
                    **fields,
                )
                history.move(sale, S.PAID, at=at, actor=actor, action="pickup.paid_elsewhere")
                history.move(sale, S.FULFILLING, at=at, actor=actor, action="pickup.ready")
                row = PickupCode(
                    purpose=PickupCode.Purpose.PICKUP,
                    code_hmac=code_hmac("".join(rnd.choice("0123456789") for _ in range(8))),
                    status=PickupCode.Status.EXPIRED if never_came else PickupCode.Status.USED,
                    created_at=at,
                    expires_at=at + ttl,
                    used_at=None if never_came else handed,
                    used_at_site=None if never_came else store,
                )
                codes.append((row, sale))
                if not never_came:
                    history.move(sale, S.COMPLETED, at=handed, actor=hander_actor, action="pickup.handed_over")
                elif at + ttl + grace <= now:
                    history.move(
                        sale,
                        S.FAILED,
                        at=at + ttl + grace,
                        actor=expiry,
                        action=NOT_COLLECTED,
                        reason=str(NOT_COLLECTED_REASON),
                        data={
                            "code_expired_at": (at + ttl).isoformat(),
                            "grace_hours": int(grace.total_seconds() // 3600),
                        },
                    )
    history.flush()
    for row, sale in codes:
        row.order = sale.order
    with stamps_kept(PickupCode):
        PickupCode.objects.bulk_create([row for row, _sale in codes], batch_size=1000)
    ctx["stdout"].write(f"    pickup history: {len(codes)} pickup-code orders over {ctx['days']} days")
