"""Vending sales per second through the service layer vs the same transactions in hand-written SQL.

N worker processes (default 8) sell one item at a time from random machines (default 100, one slot
each; every tenth holds only 20 items, so those sell out and `oversold` is tested, the rest hold
enough that the rate is throughput, not refusals) for a fixed time (after an untimed warm-up of both, the two sides take turns in `--rounds`, so both
see the same background on a shared machine), as a machine does: `vend_start`
(idempotency and slot checks, then one transaction taking stock under a conditional update and
writing the order, line, event, movement and vend), then `payment_collect` with cash (one
transaction: the order locked, the payment, paid, and through the vending transition hook the
dispense command and fulfilling). The baseline writes the same rows in the same transactions with
psycopg and SQL written by hand. `oversold` counts items sold beyond a slot's stock in either run
(must be 0). Django runs as in production (DEBUG off).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bo_bench .venv/bin/python bench/sale.py --workers 8 --seconds 20

Prints its figures; the last line is one JSON object. Target: ratio at least 0.5.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import random
import sys
import time
import uuid

from common import django_setup, report, test_database

STOCK = 5000  # items per slot: neither run sells these out, so the rate is throughput
SMALL_STOCK = 20  # every tenth machine: both runs sell these out, so `oversold` is tested for real


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--machines", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds for each side, over all rounds")
    parser.add_argument("--rounds", type=int, default=2, help="the two sides take turns this many times")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds each side sells first")
    parser.add_argument("--stock", type=int, default=STOCK, help="items per slot")
    parser.add_argument("--small-stock", type=int, default=SMALL_STOCK, help="items in every tenth machine's slot")
    args = parser.parse_args()
    if args.rounds < 1 or args.seconds <= 0 or args.workers < 1:
        parser.error("--rounds and --workers must be at least 1, --seconds more than 0")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/sale.py needs PostgreSQL: set DATABASE_URL=postgres://...")
    django_setup()
    from django.core.exceptions import ValidationError
    from django.db import connection, connections

    from core.models import Region, Site
    from devices.models import Device, DeviceCommand, DeviceCommandEvent
    from inventory.models import StockLevel, StockMovement
    from inventory.services import stock_move
    from orders.models import Order, OrderEvent, Payment
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
                stock = args.small_stock if i % 10 == 0 else args.stock
                slot = slot_create(device=device, code="A1", product=product, capacity=stock)
                stock_move(level=slot.level, quantity=stock, reason="restock")
                slots.append(slot)
            return slots

        service_slots = machines("SVC")
        sql_slots = machines("SQL")
        dsn = connection.settings_dict.copy()

        def run(target, slots, seconds, tag):
            sold = context.Array("i", args.workers)
            refused = context.Array("i", args.workers)
            connection.close()
            # Workers are forked without exec: what the parent loaded (Django, the models, the slots)
            # goes to the collector's permanent generation first, as Python's gc.freeze() documents
            # for fork, so a worker's collections neither rescan nor copy the parent's heap. Without
            # it each short-lived worker pays that once per run, a cost long-lived processes do not.
            gc.freeze()
            processes = [
                context.Process(target=target, args=(w, slots, sold, refused, seconds, tag))
                for w in range(args.workers)
            ]
            for process in processes:
                process.start()
            for process in processes:
                process.join()
            return sum(sold), sum(refused)

        def service_worker(worker, slots, sold, refused, seconds, tag):
            connections.close_all()
            rnd = random.Random(f"{tag}{worker}")
            deadline = time.perf_counter() + seconds
            n = 0
            while time.perf_counter() < deadline:
                slot = rnd.choice(slots)
                n += 1
                try:
                    vend = vend_start(device=slot.device, slot_code="A1", request_id=f"{tag}w{worker}-{n}")
                    payment_collect(order=vend.order, provider="cash", amount=vend.order.total, actor=None)
                    sold[worker] += 1
                except ValidationError:
                    refused[worker] += 1
            connections.close_all()

        def sql_worker(worker, slots, sold, refused, seconds, tag):
            import psycopg

            connections.close_all()
            rnd = random.Random(f"{tag}{worker}")
            conn = psycopg.connect(
                autocommit=True,  # outside `conn.transaction()` each statement commits, as in Django
                dbname=dsn["NAME"],
                user=dsn["USER"],
                host=dsn["HOST"],
                port=dsn["PORT"] or 5432,
                password=dsn["PASSWORD"] or None,
            )
            deadline = time.perf_counter() + seconds
            n = 0
            while time.perf_counter() < deadline:
                slot = rnd.choice(slots)
                n += 1
                request_id = f"{tag}s{worker}-{n}"
                if sql_sell(conn, worker, n, slot, request_id):
                    sold[worker] += 1
                else:
                    refused[worker] += 1
            conn.close()

        class SoldOut(Exception):
            pass

        def sql_sell(conn, worker, n, slot, request_id) -> bool:
            """What the service does for one sale, as a hand-written client would: the machine's
            request (idempotency and slot checks, the order number, then one transaction writing the order, its line
            and event, taking stock under a conditional update, the movement and the vend), then the
            cash payment (one transaction: the order locked, the payment, paid, the dispense command
            with its event, fulfilling). Locks are taken in the service's order."""
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT id FROM vending_vend WHERE device_id = %s AND request_id = %s", [slot.device_id, request_id]
                )
                if cur.fetchone():
                    return True
                cur.execute(
                    "SELECT s.level_id, EXISTS (SELECT 1 FROM devices_fault f WHERE f.device_id = s.device_id "
                    "AND f.slot = s.code AND f.resolved_at IS NULL) FROM vending_slot s "
                    "WHERE s.device_id = %s AND s.code = 'A1' AND s.is_active",
                    [slot.device_id],
                )
                level_id, faulty = cur.fetchone()
                if faulty:
                    return False
                cur.execute(  # the day's counter, committed at once like the service does
                    "INSERT INTO orders_ordersequence (prefix, day, last) VALUES ('X', current_date, 1) "
                    "ON CONFLICT (prefix, day) DO UPDATE SET last = orders_ordersequence.last + 1 RETURNING last"
                )
                number = f"X{cur.fetchone()[0]:010d}"
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        "INSERT INTO orders_order (number, kind, status, region_id, site_id, device_id, channel, "
                        "currency, subtotal, discount_total, total, paid_amount, refunded_amount, created_at, "
                        "updated_at, external_reference, note) VALUES (%s, 'vending', 'new', %s, %s, %s, 'machine', "
                        "'CNY', 3.00, 0, 3.00, 0, 0, now(), now(), '', '') RETURNING id",
                        [number, region.pk, site.pk, slot.device_id],
                    )
                    (order_id,) = cur.fetchone()
                    cur.execute(
                        "INSERT INTO orders_orderline (order_id, product_id, description, quantity, unit_price, "
                        "cost_price, line_total) VALUES (%s, %s, 'item', 1, 3.00, 1.50, 3.00)",
                        [order_id, product.pk],
                    )
                    event(cur, order_id, "created", "", "new")
                    cur.execute(
                        "UPDATE inventory_stocklevel SET quantity = quantity - 1 WHERE id = %s AND quantity >= 1",
                        [level_id],
                    )
                    if cur.rowcount == 0:
                        raise SoldOut  # rolls the transaction back: nothing written, like the service
                    cur.execute(
                        "INSERT INTO inventory_stockmovement (level_id, delta, reason, reference, note, actor_label, "
                        "at) VALUES (%s, -1, 'sale', %s, '', 'bench', now())",
                        [level_id, number],
                    )
                    cur.execute(
                        "INSERT INTO vending_vend (order_id, device_id, slot_id, request_id, stock_returned, "
                        "created_at) VALUES (%s, %s, %s, %s, false, now()) RETURNING id",
                        [order_id, slot.device_id, slot.pk, request_id],
                    )
                    (vend_id,) = cur.fetchone()
            except SoldOut:
                return False
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT status, total FROM orders_order WHERE id = %s FOR UPDATE", [order_id])
                cur.fetchone()
                cur.execute(
                    "INSERT INTO orders_payment (order_id, provider, amount, fee, status, reference, data, "
                    "created_at, succeeded_at, collected_at, offline) "
                    "VALUES (%s, 'cash', 3.00, 0, 'succeeded', '', '{}', now(), now(), now(), false)",
                    [order_id],
                )
                event(cur, order_id, "payment", "new", "new")
                event(cur, order_id, "status", "new", "paid")
                command_id = uuid.uuid4()
                cur.execute(
                    "INSERT INTO devices_devicecommand (device_id, command_id, kind, payload, reference, status, "
                    "attempts, created_at, expires_at, result, actor_label) VALUES (%s, %s, 'dispense', %s, %s, "
                    "'queued', 0, now(), now() + interval '2 minutes', '{}', 'vending') RETURNING id",
                    [slot.device_id, command_id, '{"slot": "A1"}', number],
                )
                (command_pk,) = cur.fetchone()
                cur.execute(
                    "INSERT INTO devices_devicecommandevent (command_id, at, from_status, to_status, actor_label, "
                    "data) VALUES (%s, now(), '', 'queued', 'vending', '{}')",
                    [command_pk],
                )
                cur.execute("UPDATE vending_vend SET command_id = %s WHERE id = %s", [command_id, vend_id])
                cur.execute(
                    "UPDATE orders_order SET paid_amount = 3.00, status = 'fulfilling', paid_at = now(), "
                    "updated_at = now() WHERE id = %s",
                    [order_id],
                )
                event(cur, order_id, "dispense.requested", "paid", "fulfilling")
            return True

        def event(cur, order_id, action, before, after):
            cur.execute(
                "INSERT INTO orders_orderevent (order_id, at, actor_kind, actor_label, action, from_status, "
                "to_status, reason, data) VALUES (%s, now(), 'system', 'bench', %s, %s, %s, '', '{}')",
                [order_id, action, before, after],
            )

        # Untimed warm-up of both, then the timed rounds taking turns: on a shared machine both see
        # the same background, and neither runs alone while PostgreSQL analyses freshly filled tables.
        warm_service = warm_sql = 0
        if args.warmup > 0:
            warm_service = run(service_worker, service_slots, args.warmup, "warm")[0]
            warm_sql = run(sql_worker, sql_slots, args.warmup, "warm")[0]
        service_sold = service_refused = sql_sold = sql_refused = 0
        service_rounds, sql_rounds = [], []
        per_round = args.seconds / args.rounds
        for number in range(args.rounds):
            sold, refused = run(service_worker, service_slots, per_round, f"r{number}")
            service_sold, service_refused = service_sold + sold, service_refused + refused
            service_rounds.append(round(sold / per_round, 1))
            sold, refused = run(sql_worker, sql_slots, per_round, f"r{number}")
            sql_sold, sql_refused = sql_sold + sold, sql_refused + refused
            sql_rounds.append(round(sold / per_round, 1))
        connection.connect()
        oversold = 0
        sold_out = []
        for slots in (service_slots, sql_slots):
            sold_out.append(0)
            for slot in slots:
                level = StockLevel.objects.get(pk=slot.level_id)
                sales = StockMovement.objects.filter(level=level, reason="sale").count()
                oversold += max(0, sales - level.capacity) + max(0, -level.quantity)
                sold_out[-1] += level.quantity == 0

        def rows_per_sale(slots, sold):
            """What each run wrote per sale, to show both did the same work."""
            devices = [slot.device_id for slot in slots]
            counts = {
                "orders": Order.objects.filter(device__in=devices).count(),
                "order_events": OrderEvent.objects.filter(order__device__in=devices).count(),
                "payments": Payment.objects.filter(order__device__in=devices).count(),
                "sale_movements": StockMovement.objects.filter(
                    level__in=[slot.level_id for slot in slots], reason="sale"
                ).count(),
                "commands": DeviceCommand.objects.filter(device__in=devices).count(),
                "command_events": DeviceCommandEvent.objects.filter(command__device__in=devices).count(),
            }
            return {key: round(value / sold, 2) if sold else 0 for key, value in counts.items()}

        service_rows = rows_per_sale(service_slots, warm_service + service_sold)
        sql_rows = rows_per_sale(sql_slots, warm_sql + sql_sold)

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
        "rounds": args.rounds,
        "warmup_seconds": args.warmup,
        "service_sales_per_s_by_round": service_rounds,
        "sql_sales_per_s_by_round": sql_rounds,
        "oversold": oversold,
        "service_machines_sold_out": sold_out[0],
        "sql_machines_sold_out": sold_out[1],
        "service_rows_per_sale": service_rows,
        "sql_rows_per_sale": sql_rows,
        "same_rows": service_rows == sql_rows,
        "target_ratio": 0.5,
    }
    report("sale", figures, baseline_key="sql_sales_per_s", measured_key="service_sales_per_s")


if __name__ == "__main__":
    main()
