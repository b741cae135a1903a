"""Coupons: the kinds, the checks that refuse them with nothing written, written off when paid,
given back when the order is cancelled, and a single-use coupon used once under concurrency."""

import datetime
import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connections
from django.utils import timezone

from members.coupons import coupon_apply
from members.models import Coupon, CouponRedemption
from orders.models import Order
from orders.services import order_transition, payment_collect
from tests.factories import CustomerFactory, SiteFactory, make_order
from tests.members.builders import coupon_in


def _order(site, total="50.00", customer=None):
    return make_order(site=site, total=D(total), customer=customer)


@pytest.mark.django_db
def test_kinds_and_write_off_when_paid(django_capture_on_commit_callbacks):
    site = SiteFactory()
    fixed = coupon_in(site.region, value=D("5.00"))
    percent = coupon_in(site.region, kind=Coupon.Kind.PERCENT, value=D("15"))
    threshold = coupon_in(site.region, kind=Coupon.Kind.THRESHOLD, value=D("10.00"), min_spend=D("40.00"))
    orders = [_order(site) for _ in range(3)]
    amounts = [
        coupon_apply(order=o, code=c.code.lower(), actor=None).amount
        for o, c in zip(orders, [fixed, percent, threshold], strict=True)
    ]
    assert amounts == [D("5.00"), D("7.50"), D("10.00")]
    order = Order.objects.get(pk=orders[1].pk)
    assert (order.total, order.discount_total) == (D("42.50"), D("7.50"))
    with django_capture_on_commit_callbacks(execute=True):
        payment_collect(order=order, provider="cash", amount=order.total, actor=None)
    assert CouponRedemption.objects.get(order=order).status == "redeemed"


@pytest.mark.django_db
def test_refusals_write_nothing():
    site = SiteFactory()
    other_region_site = SiteFactory()
    now = timezone.now()
    customer = CustomerFactory()
    expired = coupon_in(
        site.region, valid_from=now - datetime.timedelta(days=9), valid_until=now - datetime.timedelta(days=1)
    )
    elsewhere = coupon_in(other_region_site.region)
    threshold = coupon_in(site.region, kind=Coupon.Kind.THRESHOLD, value=D("10"), min_spend=D("100"))
    once = coupon_in(site.region, per_customer_limit=1)
    order = _order(site, customer=customer)
    for code, message in [
        ("NOPE", "no such coupon"),
        (expired.code, "not valid now"),
        (elsewhere.code, "not valid in this region"),
        (threshold.code, "at least 100"),
    ]:
        with pytest.raises(ValidationError, match=message):
            coupon_apply(order=order, code=code, actor=None)
    coupon_apply(order=order, code=once.code, actor=None)
    with pytest.raises(ValidationError, match="already has a coupon"):
        coupon_apply(order=order, code=once.code, actor=None)
    with pytest.raises(ValidationError, match="already used this coupon"):
        coupon_apply(order=_order(site, customer=customer), code=once.code, actor=None)
    paid = make_order(site=site, paid=True)
    with pytest.raises(ValidationError, match="not paid yet"):
        coupon_apply(order=paid, code=once.code, actor=None)
    assert CouponRedemption.objects.count() == 1
    order.refresh_from_db()
    assert order.total == D("45.00")


@pytest.mark.django_db
def test_a_cancelled_order_gives_the_coupon_back(django_capture_on_commit_callbacks):
    site = SiteFactory()
    single = coupon_in(site.region, total_quantity=1)
    order = _order(site)
    coupon_apply(order=order, code=single.code, actor=None)
    with pytest.raises(ValidationError, match="used up"):
        coupon_apply(order=_order(site), code=single.code, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        order_transition(order=order, to_status="cancelled", actor=None, reason="customer left")
    single.refresh_from_db()
    assert single.used_count == 0
    coupon_apply(order=_order(site), code=single.code, actor=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_single_use_coupon_redeemed_by_ten_concurrent_orders_is_used_once():
    site = SiteFactory()
    single = coupon_in(site.region, total_quantity=1, per_customer_limit=1)
    orders = [_order(site, customer=CustomerFactory()) for _ in range(10)]
    barrier, outcomes = threading.Barrier(10), []

    def apply(order):
        try:
            barrier.wait()
            coupon_apply(order=order, code=single.code, actor=None)
            outcomes.append("applied")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=apply, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("applied") == 1
    assert all("used up" in o for o in outcomes if o != "applied")
    single.refresh_from_db()
    assert single.used_count == 1 and CouponRedemption.objects.filter(coupon=single).count() == 1
    assert sum(1 for o in Order.objects.filter(pk__in=[o.pk for o in orders]) if o.discount_total) == 1


@pytest.mark.django_db
def test_promotions_apply_at_the_till_and_are_counted_when_paid(world, django_capture_on_commit_callbacks):
    from members.models import Promotion
    from staff.counter import SaleLine, counter_sale_create
    from tests.factories import ProductFactory
    from tests.members.builders import promotion_in

    water = ProductFactory(sale_price=D("2.00"))
    bxgy = promotion_in(
        world.east, kind=Promotion.Kind.BUY_X_GET_Y, product=water, buy_quantity=2, free_quantity=1, percent=0
    )
    percent = promotion_in(world.root, percent=D("10"))  # set on the parent region, applies below
    promotion_in(world.west, percent=D("50"))  # another region's: not applied
    from tests.factories import stock_shelf

    stock_shelf(world.east_store, water, 7)
    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(product=water, quantity=7)])
    # 7 bottles at 2.00 = 14.00; buy 2 get 1: two bundles → 4.00 off; then 10 % of 10.00 → 1.00 off.
    assert (order.subtotal, order.discount_total, order.total) == (D("14.00"), D("5.00"), D("9.00"))
    with django_capture_on_commit_callbacks(execute=True):
        payment_collect(order=order, provider="card", amount=order.total, actor=None, reference="T-9")
    bxgy.refresh_from_db()
    percent.refresh_from_db()
    assert (bxgy.given_count, bxgy.given_value) == (1, D("4.00"))
    assert (percent.given_count, percent.given_value) == (1, D("1.00"))


@pytest.mark.django_db
def test_coupon_promotion_and_tier_pages_create_in_scope_and_refuse_bad_windows(world, client):
    from core.models import AuditEntry
    from members.models import Promotion
    from wallet.models import BonusTier

    client.force_login(world.regional)
    window = {"valid_from": "2026-12-01T00:00", "valid_until": "2026-11-01T00:00"}
    bad = client.post(
        "/members/coupons/new/",
        {
            "code": "x1",
            "name": "X",
            "kind": "fixed",
            "value": "5",
            "min_spend": "0",
            "region": world.east.pk,
            "per_customer_limit": 1,
            "is_active": "on",
            **window,
        },
    )
    assert bad.status_code == 200 and "must end after it starts" in bad.content.decode()
    window = {"valid_from": "2026-11-01T00:00", "valid_until": "2026-12-01T00:00"}
    other_region = client.post(
        "/members/coupons/new/",
        {
            "code": "x2",
            "name": "X",
            "kind": "fixed",
            "value": "5",
            "min_spend": "0",
            "region": world.west.pk,
            "per_customer_limit": 1,
            **window,
        },
    )
    assert other_region.status_code == 200 and not Coupon.objects.filter(code="X2").exists()
    good = client.post(
        "/members/coupons/new/",
        {
            "code": "x3",
            "name": "X",
            "kind": "percent",
            "value": "10",
            "min_spend": "0",
            "region": world.east.pk,
            "per_customer_limit": 1,
            "is_active": "on",
            **window,
        },
    )
    assert good.status_code == 302 and Coupon.objects.get(code="X3").region == world.east
    assert AuditEntry.objects.filter(action="coupon.create", region=world.east).exists()
    promo = client.post(
        "/members/promotions/new/",
        {
            "name": "Winter",
            "kind": "percent_off",
            "region": world.east.pk,
            "starts_at": "2026-11-01T00:00",
            "ends_at": "2026-12-01T00:00",
            "percent": "5",
            "buy_quantity": 0,
            "free_quantity": 0,
            "is_active": "on",
        },
    )
    assert promo.status_code == 302 and Promotion.objects.filter(name="Winter").exists()
    tier = client.post(
        "/wallet/bonus-tiers/new/", {"region": world.east.pk, "min_amount": "200", "bonus": "25", "is_active": "on"}
    )
    assert tier.status_code == 302 and BonusTier.objects.get(region=world.east).bonus == D("25")
    client.force_login(world.clerk)
    assert client.get("/members/coupons/new/").status_code == 403
