"""The nightly check and the rebuild, set-based on PostgreSQL (docs/adr/0028-set-based-roll-up-rebuild.md).

The same figures as `reports.rollups.order_cells` (ADR 0023), computed over a range of local days
by a few INSERT ... SELECT ... GROUP BY statements into temporary tables, compared with the stored
roll-up rows by a FULL JOIN, written back only for the days that differ, and with every order's
stored contribution (`OrderRollup.cells`) rewritten for the days of the range in one upsert. No
order passes through Python, so a year of ten million orders is rebuilt in minutes, not hours.

Python keeps the rules in `order_cells` (the per-order task, the batches and SQLite); this module
restates them in SQL, and tests/reports/test_rollup_rebuild_sql.py holds the two equal.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection

from reports.models import OrderRollup, OrderStatusDay, ProductSalesDay, SalesDay, SalesHour

MONEY = "numeric(16,2)"
DETAILS_PER_DAY = 200

# table name in the cells -> (model, facts table, key columns after `day`, {figure: SQL over the facts})
SALES_SUMS = {
    "orders": "count(*)",
    "quantity": "sum(quantity)",
    "gross": "sum(gross)",
    "discounts": "sum(discounts)",
    "refunds": "sum(refunds)",
    "net": "sum(net)",
    "cost": "sum(cost)",
    "fees": "sum(fees)",
}
SALES_KEY = ("region_id", "site_id", "device_id", "kind", "channel", "method")
TABLES = {
    "day": (SalesDay, "rollup_sales", SALES_KEY, SALES_SUMS),
    "hour": (SalesHour, "rollup_sales", (*SALES_KEY, "hour"), SALES_SUMS),
    "product": (ProductSalesDay, "rollup_product_sales", (*SALES_KEY, "product_id"), SALES_SUMS),
    "status": (
        OrderStatusDay,
        "rollup_status",
        ("region_id", "site_id", "device_id", "kind", "channel", "status"),
        {"orders": "count(*)", "completed": "sum(completed)", "completion_seconds": "sum(seconds)"},
    ),
}
INTEGER_FIGURES = {"orders", "quantity", "completed", "completion_seconds", "one", "seconds"}


def _figures_json(alias: str, figures) -> str:
    """A JSON array of the figures as `order_cells` writes them: counts as numbers, money as text."""
    parts = [f"{alias}.{f}" if f in INTEGER_FIGURES else f"({alias}.{f})::{MONEY}::text" for f in figures]
    return f"jsonb_build_array({', '.join(parts)})"


def _key_text(alias: str, columns) -> str:
    return "concat_ws('|', " + ", ".join(f"{alias}.{c}" for c in columns) + ")"


def _facts(cursor, start: datetime.datetime, end: datetime.datetime, date_from, date_to) -> None:
    """Temporary tables (dropped at commit) of what each order of the range contributes."""
    from reports.rollups import NOT_SALES

    params = {"tz": settings.TIME_ZONE, "start": start, "end": end, "from": date_from, "to": date_to}
    cursor.execute(
        """
        CREATE TEMP TABLE rollup_orders ON COMMIT DROP AS
        SELECT o.id, o.region_id, COALESCE(o.site_id, 0) AS site_id, COALESCE(o.device_id, 0) AS device_id,
               o.kind, o.channel, o.status, o.subtotal, o.discount_total, o.refunded_amount, o.paid_at,
               o.completed_at, (o.created_at AT TIME ZONE %(tz)s)::date AS created_day,
               (o.paid_at AT TIME ZONE %(tz)s) AS local_paid
          FROM orders_order o
         WHERE (o.created_at >= %(start)s AND o.created_at < %(end)s)
            OR (o.paid_at >= %(start)s AND o.paid_at < %(end)s)
        """,
        params,
    )
    cursor.execute("CREATE INDEX ON rollup_orders (id)")
    cursor.execute("ANALYZE rollup_orders")
    # Sales: paid in the range, not a recharge. Method: the first succeeded payment's provider.
    cursor.execute(
        """
        CREATE TEMP TABLE rollup_sales ON COMMIT DROP AS
        SELECT o.id, o.local_paid::date AS day, extract(hour FROM o.local_paid)::int AS hour,
               o.region_id, o.site_id, o.device_id, o.kind, o.channel, COALESCE(p.method, '') AS method,
               COALESCE(l.quantity, 0) AS quantity, o.subtotal AS gross, o.discount_total AS discounts,
               o.refunded_amount AS refunds, o.subtotal - o.discount_total - o.refunded_amount AS net,
               COALESCE(l.cost, 0) AS cost, COALESCE(p.fees, 0) AS fees
          FROM rollup_orders o
          LEFT JOIN (SELECT l.order_id, sum(l.quantity) AS quantity, sum(l.cost_price * l.quantity) AS cost
                       FROM orders_orderline l JOIN rollup_orders r ON r.id = l.order_id
                      GROUP BY l.order_id) l ON l.order_id = o.id
          LEFT JOIN (SELECT p.order_id, sum(p.fee) AS fees, (array_agg(p.provider ORDER BY p.id))[1] AS method
                       FROM orders_payment p JOIN rollup_orders r ON r.id = p.order_id
                      WHERE p.status = 'succeeded'
                      GROUP BY p.order_id) p ON p.order_id = o.id
         WHERE o.paid_at >= %(start)s AND o.paid_at < %(end)s AND o.kind <> ALL(%(not_sales)s)
        """,
        {**params, "not_sales": list(NOT_SALES)},
    )
    cursor.execute("CREATE INDEX ON rollup_sales (id)")
    cursor.execute("ANALYZE rollup_sales")
    # Per product: the order's discount, refunds and fees shared by line value, rounded to the
    # cent (half up), the product with the highest id taking the remainder (rollups.shares).
    cursor.execute(
        """
        CREATE TEMP TABLE rollup_product_sales ON COMMIT DROP AS
        WITH per_product AS (
            SELECT l.order_id, COALESCE(l.product_id, 0) AS product_id, sum(l.quantity) AS quantity,
                   sum(l.line_total) AS gross, sum(l.cost_price * l.quantity) AS cost
              FROM orders_orderline l JOIN rollup_sales s ON s.id = l.order_id
             GROUP BY l.order_id, COALESCE(l.product_id, 0)),
        weighed AS (
            SELECT pp.*, s.discounts AS o_discounts, s.refunds AS o_refunds, s.fees AS o_fees,
                   sum(pp.gross) OVER (PARTITION BY pp.order_id) AS sub,
                   row_number() OVER (PARTITION BY pp.order_id ORDER BY pp.product_id DESC) = 1 AS last
              FROM per_product pp JOIN rollup_sales s ON s.id = pp.order_id),
        rounded AS (
            SELECT weighed.*,
                   CASE WHEN sub = 0 THEN 0 ELSE round(o_discounts * gross / sub, 2) END AS r_discounts,
                   CASE WHEN sub = 0 THEN 0 ELSE round(o_refunds * gross / sub, 2) END AS r_refunds,
                   CASE WHEN sub = 0 THEN 0 ELSE round(o_fees * gross / sub, 2) END AS r_fees
              FROM weighed),
        shared AS (
            SELECT order_id, product_id, quantity, gross, cost,
                   CASE WHEN last THEN o_discounts - (sum(r_discounts) OVER o - r_discounts) ELSE r_discounts END
                     AS discounts,
                   CASE WHEN last THEN o_refunds - (sum(r_refunds) OVER o - r_refunds) ELSE r_refunds END AS refunds,
                   CASE WHEN last THEN o_fees - (sum(r_fees) OVER o - r_fees) ELSE r_fees END AS fees
              FROM rounded WINDOW o AS (PARTITION BY order_id))
        SELECT sh.order_id AS id, s.day, s.region_id, s.site_id, s.device_id, s.kind, s.channel, s.method,
               sh.product_id, sh.quantity, sh.gross, sh.discounts, sh.refunds,
               sh.gross - sh.discounts - sh.refunds AS net, sh.cost, sh.fees
          FROM shared sh JOIN rollup_sales s ON s.id = sh.order_id
        """
    )
    # Orders by the day they were created and their status now.
    cursor.execute(
        """
        CREATE TEMP TABLE rollup_status ON COMMIT DROP AS
        SELECT id, created_day AS day, region_id, site_id, device_id, kind, channel, status,
               CASE WHEN paid_at IS NOT NULL AND completed_at IS NOT NULL THEN 1 ELSE 0 END AS completed,
               CASE WHEN paid_at IS NOT NULL AND completed_at IS NOT NULL
                    THEN floor(extract(epoch FROM completed_at - paid_at))::bigint ELSE 0 END AS seconds
          FROM rollup_orders
         WHERE created_day BETWEEN %(from)s AND %(to)s
        """,
        params,
    )


def _compare(cursor, date_from, date_to) -> tuple[dict, dict]:
    """The roll-up rows the range should hold (`rollup_want_<table>`) against the stored ones:
    ({day: differing rows}, {day: [first details]})."""
    counts: dict = {}
    details: dict = {}
    for name, (model, facts, key_columns, sums) in TABLES.items():
        table = model._meta.db_table
        figures = list(sums)
        cursor.execute(
            f"CREATE TEMP TABLE rollup_want_{name} ON COMMIT DROP AS "
            f"SELECT day, {', '.join(key_columns)}, "
            + ", ".join(f"{sql} AS {figure}" for figure, sql in sums.items())
            + f" FROM {facts} GROUP BY day, {', '.join(key_columns)}"
        )
        on = " AND ".join(f"w.{c} = h.{c}" for c in ("day", *key_columns))
        nonzero = " OR ".join(f"{f} <> 0" for f in figures)
        key = "concat_ws('|', " + ", ".join(f"COALESCE(w.{c}, h.{c})" for c in key_columns) + ")"
        differs = f"({', '.join('w.' + f for f in figures)}) IS DISTINCT FROM ({', '.join('h.' + f for f in figures)})"
        cursor.execute(
            f"""
            SELECT day, differing, number, key, expected, stored
              FROM (SELECT day, count(*) OVER (PARTITION BY day) AS differing,
                           row_number() OVER (PARTITION BY day ORDER BY key) AS number, key, expected, stored
              FROM (SELECT COALESCE(w.day, h.day) AS day, {key} AS key,
                           CASE WHEN w.day IS NULL THEN NULL ELSE {_figures_json("w", figures)} END AS expected,
                           CASE WHEN h.day IS NULL THEN NULL ELSE {_figures_json("h", figures)} END AS stored
                      FROM rollup_want_{name} w
                      FULL JOIN (SELECT * FROM {table} WHERE day BETWEEN %s AND %s AND ({nonzero})) h ON {on}
                     WHERE w.day IS NULL OR h.day IS NULL OR {differs}) d) n
             WHERE number <= %s
            """,
            [date_from, date_to, DETAILS_PER_DAY],
        )
        # Only the first rows of each day are fetched whole; the rest are counted.
        for day, count, number, key_text, expected, stored in cursor.fetchall():
            if number == 1:
                counts[day] = counts.get(day, 0) + count
            bucket = details.setdefault(day, [])
            if len(bucket) < DETAILS_PER_DAY:
                bucket.append({"table": name, "key": key_text, "expected": expected, "stored": stored})
    return counts, details


def _replace(cursor, days: list[datetime.date]) -> None:
    for name, (model, _facts_table, key_columns, sums) in TABLES.items():
        table = model._meta.db_table
        columns = ", ".join(["day", *key_columns, *sums])
        cursor.execute(f"DELETE FROM {table} WHERE day = ANY(%s)", [days])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM rollup_want_{name} WHERE day = ANY(%s)", [days]
        )


def _remember(cursor, date_from, date_to) -> None:
    """Each order's stored contribution to the days of the range becomes what was just computed;
    its other days stay as they were (one upsert; the days' exclusive locks keep the batches out)."""
    sales = TABLES["day"][3]
    status = TABLES["status"][3]
    days = [(date_from + datetime.timedelta(days=n)).isoformat() for n in range((date_to - date_from).days + 1)]
    cursor.execute(
        f"""
        WITH products AS (
            SELECT id, jsonb_object_agg({_key_text("p", (*SALES_KEY, "product_id"))},
                                        jsonb_build_array(1, p.quantity, (p.gross)::{MONEY}::text,
                                            (p.discounts)::{MONEY}::text, (p.refunds)::{MONEY}::text,
                                            (p.net)::{MONEY}::text, (p.cost)::{MONEY}::text,
                                            (p.fees)::{MONEY}::text)) AS cells
              FROM rollup_product_sales p GROUP BY id),
        sold AS (
            SELECT s.id, s.day,
                   jsonb_build_object('day', jsonb_build_object({_key_text("s", SALES_KEY)}, {_figures_json("s", [f if f != "orders" else "one" for f in sales])}),
                                      'hour', jsonb_build_object({_key_text("s", (*SALES_KEY, "hour"))}, {_figures_json("s", [f if f != "orders" else "one" for f in sales])}))
                   || CASE WHEN p.id IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object('product', p.cells) END AS cells
              FROM (SELECT 1 AS one, * FROM rollup_sales) s LEFT JOIN products p ON p.id = s.id),
        counted AS (
            SELECT t.id, t.day, jsonb_build_object('status', jsonb_build_object(
                       {_key_text("t", TABLES["status"][2])}, {_figures_json("t", ["one", "completed", "seconds"])})) AS cells
              FROM (SELECT 1 AS one, * FROM rollup_status) t),
        fresh AS (
            SELECT o.id,
                   CASE WHEN c.id IS NOT NULL AND s.id IS NOT NULL AND c.day = s.day
                        THEN jsonb_build_object(c.day::text, c.cells || s.cells)
                        ELSE CASE WHEN c.id IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object(c.day::text, c.cells) END
                          || CASE WHEN s.id IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object(s.day::text, s.cells) END
                   END AS cells
              FROM rollup_orders o LEFT JOIN sold s ON s.id = o.id LEFT JOIN counted c ON c.id = o.id)
        INSERT INTO {OrderRollup._meta.db_table} AS r (order_id, cells, updated_at)
        SELECT f.id, (COALESCE(old.cells, '{{}}'::jsonb) - %s::text[]) || f.cells, now()
          FROM fresh f LEFT JOIN {OrderRollup._meta.db_table} old ON old.order_id = f.id
        ON CONFLICT (order_id) DO UPDATE SET cells = excluded.cells, updated_at = excluded.updated_at
         WHERE r.cells IS DISTINCT FROM excluded.cells
        """,
        [days],
    )
    assert status  # the status figures are written above as [1, completed, seconds]


def _orders_per_day(cursor, date_from, date_to) -> dict:
    cursor.execute(
        """
        SELECT day, count(*) FROM (
            SELECT id, created_day AS day FROM rollup_orders WHERE created_day BETWEEN %(from)s AND %(to)s
            UNION SELECT id, local_paid::date FROM rollup_orders WHERE local_paid::date BETWEEN %(from)s AND %(to)s
        ) touched GROUP BY day
        """,
        {"from": date_from, "to": date_to},
    )
    return dict(cursor.fetchall())


def check_range(*, date_from: datetime.date, date_to: datetime.date) -> list[dict]:
    """Recompute the days of a range from the raw tables and repair those that differ. Runs in the
    caller's transaction, which holds the days' exclusive locks. Returns, per day, the fields of
    its RollupCheck (orders, differences, details)."""
    from reports.rollups import day_bounds

    start, _ = day_bounds(date_from)
    _, end = day_bounds(date_to)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        _facts(cursor, start, end, date_from, date_to)
        counts, details = _compare(cursor, date_from, date_to)
        if counts:
            _replace(cursor, sorted(counts))
        _remember(cursor, date_from, date_to)
        orders = _orders_per_day(cursor, date_from, date_to)
        cursor.execute(
            "DROP TABLE rollup_orders, rollup_sales, rollup_product_sales, rollup_status, "
            + ", ".join(f"rollup_want_{name}" for name in TABLES)
        )
    result = []
    day = date_from
    while day <= date_to:
        result.append(
            {
                "day": day,
                "orders": orders.get(day, 0),
                "differences": counts.get(day, 0),
                "details": details.get(day, []),
            }
        )
        day += datetime.timedelta(days=1)
    return result
