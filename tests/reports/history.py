"""A small sales history built through the order services at chosen moments, and the same
figures computed by hand-written SQL over the raw order tables (PostgreSQL)."""

from __future__ import annotations

import datetime
from contextlib import contextmanager
from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog.models import Brand, Category
from orders.services import LineSpec, order_create, order_transition, payment_collect, refund_create
from reports.tasks import rollup_pending
from tests.factories import DeviceFactory, ProductFactory


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def local(day: datetime.date, hour: int, minute: int = 0):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def build_history(world, capture) -> SimpleNamespace:
    """Orders on days d1, d2 and d4 (d3 has none), in both regions, with discounts, card fees,
    a partial and a full refund, an unpaid order and one completed."""
    today = timezone.localdate()
    d1, d2, d3, d4 = (today - datetime.timedelta(days=n) for n in (10, 9, 8, 7))
    drinks = Category.objects.create(name="Drinks", code="drinks")
    snacks = Category.objects.create(name="Snacks", code="snacks")
    acme = Brand.objects.create(name="Acme")
    bravo = Brand.objects.create(name="Bravo")
    cola = ProductFactory(name="Cola", category=drinks, brand=acme, supplier=world.supplier)
    chips = ProductFactory(name="Chips", category=snacks, brand=bravo, supplier=world.other_supplier)
    gift = ProductFactory(name="Gift card", category=None, brand=None, supplier=world.supplier)
    east_machine = DeviceFactory(site=world.east_store, name="East machine")
    west_machine = DeviceFactory(site=world.west_store, name="West machine")

    def sale(moment, *, site, lines, device=None, method="cash", channel="counter", discount="0", kind="counter"):
        with at(moment), capture(execute=True):
            order = order_create(
                kind=kind,
                actor=None,
                site=site,
                device=device,
                channel=channel,
                lines=lines,
                discount=Decimal(discount),
            )
            if method:
                order.refresh_from_db()
                payment_collect(order=order, provider=method, amount=order.total, actor=None, reference="T-1")
        order.refresh_from_db()
        return order

    def line(product, price, quantity=1, cost="1.20"):
        return LineSpec(product.name, Decimal(price), quantity, product, Decimal(cost))

    o1 = sale(
        local(d1, 10, 15),
        site=world.east_store,
        device=east_machine,
        lines=[line(cola, "3.50", 2), line(chips, "5.00", 1, "2.00")],
        method="card",
        discount="1.00",
    )
    with at(local(d1, 10, 47)), capture(execute=True):
        order_transition(order=o1, to_status="completed", actor=None)
    o2 = sale(local(d1, 14, 40), site=world.east_store, lines=[line(gift, "10.00", 1, "7.00")])
    with at(local(d2, 8, 0)), capture(execute=True):
        refund_create(order=o2, amount=Decimal("2.50"), actor=None, reason="damaged box")
    o3 = sale(local(d2, 9, 5), site=world.west_store, device=west_machine, lines=[line(cola, "3.50", 3)], method="card")
    with at(local(d2, 9, 30)), capture(execute=True):
        refund_create(order=o3, amount=o3.total, actor=None, reason="machine jammed")
    o4 = sale(local(d2, 23, 30), site=world.east_store, lines=[line(chips, "5.00", 2, "2.00")])
    o5 = sale(local(d4, 12, 0), site=world.east_store, lines=[line(cola, "3.50")], method=None)
    o6 = sale(
        local(d4, 18, 20),
        site=world.east_store,
        device=east_machine,
        channel="app",
        lines=[line(cola, "3.50", 1), line(chips, "5.00", 1, "2.00"), line(gift, "10.00", 1, "7.00")],
        method="card",
        discount="0.99",
    )
    rollup_pending.apply()  # the beat's batch: every order above changed and waits for it
    return SimpleNamespace(
        d1=d1,
        d2=d2,
        d3=d3,
        d4=d4,
        orders=[o1, o2, o3, o4, o5, o6],
        cola=cola,
        chips=chips,
        gift=gift,
        east_machine=east_machine,
        west_machine=west_machine,
        drinks=drinks,
        acme=acme,
    )


# --- Hand-written SQL over orders_order, orders_orderline, orders_payment --------------------
PAID = """
    SELECT o.id, o.region_id, COALESCE(o.site_id, 0) AS site_id, COALESCE(o.device_id, 0) AS device_id,
           o.kind, o.channel, (o.paid_at AT TIME ZONE %(tz)s) AS local_paid,
           o.subtotal AS gross, o.discount_total AS discounts, o.refunded_amount AS refunds,
           o.subtotal - o.discount_total - o.refunded_amount AS net,
           (SELECT COALESCE(SUM(l.quantity), 0) FROM orders_orderline l WHERE l.order_id = o.id) AS quantity,
           (SELECT COALESCE(SUM(l.cost_price * l.quantity), 0) FROM orders_orderline l WHERE l.order_id = o.id) AS cost,
           (SELECT COALESCE(SUM(p.fee), 0) FROM orders_payment p
             WHERE p.order_id = o.id AND p.status = 'succeeded') AS fees,
           COALESCE((SELECT p.provider FROM orders_payment p WHERE p.order_id = o.id AND p.status = 'succeeded'
                     ORDER BY p.id LIMIT 1), '') AS method
      FROM orders_order o
     WHERE o.paid_at IS NOT NULL AND o.kind <> 'recharge'
       AND (o.paid_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
"""

# Per order and product, the order's discount, refunds and fees shared by line value, rounded to
# the cent, the product with the highest id taking the remainder.
PRODUCT = (
    """
    WITH paid AS ("""
    + PAID
    + """),
    per_product AS (
        SELECT l.order_id, COALESCE(l.product_id, 0) AS product_id, SUM(l.quantity) AS quantity,
               SUM(l.line_total) AS gross, SUM(l.cost_price * l.quantity) AS cost
          FROM orders_orderline l JOIN paid ON paid.id = l.order_id
         GROUP BY l.order_id, COALESCE(l.product_id, 0)),
    weighed AS (
        SELECT pp.*, paid.region_id, paid.site_id, paid.device_id, paid.kind, paid.channel, paid.method,
               paid.local_paid, paid.discounts AS o_discounts, paid.refunds AS o_refunds, paid.fees AS o_fees,
               SUM(pp.gross) OVER w AS sub,
               ROW_NUMBER() OVER (PARTITION BY pp.order_id ORDER BY pp.product_id DESC) = 1 AS last
          FROM per_product pp JOIN paid ON paid.id = pp.order_id
        WINDOW w AS (PARTITION BY pp.order_id)),
    rounded AS (
        SELECT weighed.*,
               CASE WHEN sub = 0 THEN 0 ELSE ROUND(o_discounts * gross / sub, 2) END AS r_discounts,
               CASE WHEN sub = 0 THEN 0 ELSE ROUND(o_refunds * gross / sub, 2) END AS r_refunds,
               CASE WHEN sub = 0 THEN 0 ELSE ROUND(o_fees * gross / sub, 2) END AS r_fees
          FROM weighed),
    shared AS (
        SELECT rounded.*,
               CASE WHEN last THEN o_discounts - (SUM(r_discounts) OVER o - r_discounts) ELSE r_discounts END
                 AS discounts,
               CASE WHEN last THEN o_refunds - (SUM(r_refunds) OVER o - r_refunds) ELSE r_refunds END AS refunds,
               CASE WHEN last THEN o_fees - (SUM(r_fees) OVER o - r_fees) ELSE r_fees END AS fees
          FROM rounded
        WINDOW o AS (PARTITION BY order_id))
    SELECT shared.*, shared.gross - shared.discounts - shared.refunds AS net FROM shared
"""
)

GROUP = {
    "day": "to_char(local_paid::date, 'YYYY-MM-DD')",
    "week": "'Week of ' || to_char(date_trunc('week', local_paid)::date, 'YYYY-MM-DD')",
    "month": "to_char(local_paid, 'YYYY-MM')",
    "year": "to_char(local_paid, 'YYYY')",
    "hour": "to_char(local_paid, 'HH24') || ':00'",
    "site": "COALESCE((SELECT name FROM core_site WHERE id = site_id), '(none)')",
    "machine": "COALESCE((SELECT name FROM devices_device WHERE id = device_id), '(none)')",
    "region": "(SELECT name FROM core_region WHERE id = region_id)",
    "kind": "kind",
    "channel": "channel",
    "method": "method",
    "product": "COALESCE((SELECT name FROM catalog_product WHERE id = product_id), '(none)')",
    "category": "COALESCE((SELECT c.name FROM catalog_product p JOIN catalog_category c ON c.id = p.category_id"
    " WHERE p.id = product_id), '(none)')",
    "brand": "COALESCE((SELECT b.name FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id"
    " WHERE p.id = product_id), '(none)')",
}
PRODUCT_DIMENSIONS = {"product", "category", "brand"}


def sql_sales(by: tuple[str, ...], start, end, *, region_path: str | None = None, measures=None) -> dict:
    """{tuple of labels: [orders, units, gross, discounts, refunds, net]} by hand-written SQL."""
    base = PRODUCT if set(by) & PRODUCT_DIMENSIONS else "WITH paid AS (" + PAID + ") SELECT * FROM paid"
    groups = ", ".join(GROUP[d] for d in by)
    where = ""
    if region_path:
        where = "WHERE region_id IN (SELECT id FROM core_region WHERE path LIKE %(path)s)"
    measures = measures or "COUNT(*), SUM(quantity), SUM(gross), SUM(discounts), SUM(refunds), SUM(net)"
    query = f"SELECT {groups}, {measures} FROM ({base}) facts {where} GROUP BY {groups}"
    params = {"tz": settings.TIME_ZONE, "start": start, "end": end, "path": f"{region_path}%"}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        n = len(by)
        return {tuple(row[:n]): [_num(v) for v in row[n:]] for row in cursor.fetchall()}


def _num(value):
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def sql_profit(by, start, end) -> dict:
    return sql_sales(by, start, end, measures="SUM(net), SUM(cost), SUM(fees), SUM(net) - SUM(cost) - SUM(fees)")


def sql_statuses(start, end) -> dict:
    """{(day, status): (orders, seconds paid → completed, completed)} by the local creation day."""
    query = """
        SELECT to_char((created_at AT TIME ZONE %(tz)s)::date, 'YYYY-MM-DD'), status, COUNT(*),
               COALESCE(SUM(FLOOR(EXTRACT(EPOCH FROM completed_at - paid_at))), 0),
               COUNT(*) FILTER (WHERE completed_at IS NOT NULL AND paid_at IS NOT NULL)
          FROM orders_order
         WHERE (created_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
         GROUP BY 1, 2"""
    with connection.cursor() as cursor:
        cursor.execute(query, {"tz": settings.TIME_ZONE, "start": start, "end": end})
        return {(row[0], row[1]): (row[2], int(row[3]), row[4]) for row in cursor.fetchall()}
