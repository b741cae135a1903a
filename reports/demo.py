"""Demo: the sales roll-ups of the demo's order history, built from the raw orders (the orders
demo backdates its history after the sales, so the roll-ups are computed once it is in place)."""

import datetime

from django.utils import timezone


def seed(ctx):
    from reports.rollups import rollup_rebuild

    today = timezone.localdate()
    checks = rollup_rebuild(date_from=today - datetime.timedelta(days=ctx.get("days", 60) + 1), date_to=today)
    ctx["stdout"].write(f"    sales roll-ups: {sum(c.orders for c in checks)} orders over {len(checks)} days")
