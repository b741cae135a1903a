"""Vending sales per second through the service layer vs the same transactions in hand-written SQL.

N worker processes (default 8) sell one item at a time from random machines (default 100, one slot
each with limited stock, so machines do sell out) for a fixed time: `vend_start` (stock taken under
a conditional update, order, line, event, vend) then `payment_collect` with cash (payment, event,
transition to paid). The baseline does the same rows with psycopg and SQL written by hand.
`oversold` counts items sold beyond a slot's stock in either run (must be 0).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_bench .venv/bin/python bench/sale.py --workers 8 --seconds 20

Prints its figures; the last line is one JSON object. Target: ratio at least 0.5.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time

from common import django_setup, report, test_database

STOCK = 40  # per slot by default; --stock raises it so neither run sells out (pure throughput)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stock", type=int, default=STOCK, help="items per slot (the baseline sells out at 40)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/sale.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    django_setup()
    from django.core.exceptions import ValidationError
    from django.db import connection, connections

    from core.models import Region, Site
    from devices.models import Device
    from inventory.models import StockLevel, StockMovement
    from inventory.services import stock_move
    from orders.services import payment_collect
    from tests.factories import ProductFactory
    from vending.services import slot_create, vend_start

    context = multiprocessing.get_context("fork")

    with test_database():
        region = Region.objects.create(name="Bench", code="bench", kind=Region.Kind.CITY)
        site = Site.objects.create(name="Bench site", code="bench-site", region=region, kind=Site.Kind.STORE)
        product = ProductFactory()

        def machines(prefix):
            slots = []
            for i in range(args.machines):
                device = Device.objects.create(
                    serial_number=f"{prefix}-{i:04d}", name=f"{prefix} {i}", kind="vending", site=site
                )
                slot = slot_create(device=device, code="A1", product=product, capacity=args.stock)
                stock_move(level=slot.level, quantity=args.stock, reason="restock")
                slots.append(slot)
            return slots

        service_slots = machines("SVC")
        sql_slots = machines("SQL")
        dsn = connection.settings_dict.copy()

        def run(target, slots):
            sold = context.Array("i", args.workers)
            refused = context.Array("i", args.workers)
            connection.close()
            processes = [context.Process(target=target, args=(w, slots, sold, refused)) for w in range(args.workers)]
            for process in processes:
                process.start()
            for process in processes:
                process.join()
            return sum(sold), sum(refused)

        def service_worker(worker, slots, sold, refused):
            connections.close_all()
            rnd = random.Random(worker)
            deadline = time.perf_counter() + args.seconds
            n = 0
            while time.perf_counter() < deadline:
                slot = rnd.choice(slots)
                n += 1
                try:
                    vend = vend_start(device=slot.device, slot_code="A1", request_id=f"w{worker}-{n}")
                    payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
                    sold[worker] += 1
                except ValidationError:
                    refused[worker] += 1
            connections.close_all()

        def sql_worker(worker, slots, sold, refused):
            import psycopg

            connections.close_all()
            rnd = random.Random(worker)
            conn = psycopg.connect(
                dbname=dsn["NAME"],
                user=dsn["USER"],
                host=dsn["HOST"],
                port=dsn["PORT"] or 5432,
                password=dsn["PASSWORD"] or None,
            )
            deadline = time.perf_counter() + args.seconds
            n = 0
            while time.perf_counter() < deadline:
                slot = rnd.choice(slots)
                n += 1
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        "UPDATE inventory_stocklevel SET quantity = quantity - 1, updated_at = now() "
                        "WHERE id = %s AND quantity >= 1",
                        [slot.level_id],
                    )
                    if cur.rowcount == 0:
                        refused[worker] += 1
                        continue
                    cur.execute(
                        "INSERT INTO orders_ordersequence (prefix, day, last) VALUES ('V', current_date, 1) "
                        "ON CONFLICT (prefix, day) DO UPDATE SET last = orders_ordersequence.last + 1 RETURNING last"
                    )
                    number = f"X{worker:02d}{n:08d}"
                    cur.fetchone()
                    cur.execute(
                        "INSERT INTO orders_order (number, kind, status, region_id, site_id, device_id, channel, "
                        "currency, subtotal, discount_total, total, paid_amount, refunded_amount, created_at, updated_at, "
                        "external_reference, note, paid_at) VALUES (%s, 'vending', 'paid', %s, %s, %s, 'machine', 'CNY', "
                        "3.00, 0, 3.00, 3.00, 0, now(), now(), '', '', now()) RETURNING id",
                        [number, region.pk, site.pk, slot.device_id],
                    )
                    (order_id,) = cur.fetchone()
                    cur.execute(
                        "INSERT INTO orders_orderline (order_id, product_id, description, quantity, unit_price, "
                        "cost_price, line_total) VALUES (%s, %s, 'item', 1, 3.00, 1.50, 3.00)",
                        [order_id, product.pk],
                    )
                    cur.execute(
                        "INSERT INTO inventory_stockmovement (level_id, delta, reason, reference, note, actor_label, at) "
                        "VALUES (%s, -1, 'sale', %s, '', 'bench', now())",
                        [slot.level_id, number],
                    )
                    cur.execute(
                        "INSERT INTO vending_vend (order_id, device_id, slot_id, request_id, stock_returned, created_at) "
                        "VALUES (%s, %s, %s, %s, false, now())",
                        [order_id, slot.device_id, slot.pk, f"s{worker}-{n}"],
                    )
                    cur.execute(
                        "INSERT INTO orders_payment (order_id, provider, amount, fee, status, reference, data, "
                        "created_at, succeeded_at, collected_at, offline) "
                        "VALUES (%s, 'cash', 3.00, 0, 'succeeded', '', '{}', now(), now(), now(), false)",
                        [order_id],
                    )
                    for action, before, after in (
                        ("created", "", "new"),
                        ("payment", "new", "new"),
                        ("status", "new", "paid"),
                    ):
                        cur.execute(
                            "INSERT INTO orders_orderevent (order_id, at, actor_kind, actor_label, action, from_status, "
                            "to_status, reason, data) VALUES (%s, now(), 'system', 'bench', %s, %s, %s, '', '{}')",
                            [order_id, action, before, after],
                        )
                    sold[worker] += 1
            conn.close()

        service_sold, service_refused = run(service_worker, service_slots)
        sql_sold, sql_refused = run(sql_worker, sql_slots)
        connection.connect()
        oversold = 0
        for slots in (service_slots, sql_slots):
            for slot in slots:
                level = StockLevel.objects.get(pk=slot.level_id)
                sales = StockMovement.objects.filter(level=level, reason="sale").count()
                oversold += max(0, sales - args.stock) + max(0, -level.quantity)

    figures = {
        "workers": args.workers,
        "machines": args.machines,
        "seconds": args.seconds,
        "service_sales": service_sold,
        "service_sold_out_refusals": service_refused,
        "service_sales_per_s": round(service_sold / args.seconds, 1),
        "sql_sales": sql_sold,
        "sql_sold_out_refusals": sql_refused,
        "sql_sales_per_s": round(sql_sold / args.seconds, 1),
        "oversold": oversold,
        "target_ratio": 0.5,
    }
    report("sale", figures, baseline_key="sql_sales_per_s", measured_key="service_sales_per_s")


if __name__ == "__main__":
    main()
