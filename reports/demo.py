"""Demo: the sales roll-ups of the demo's order history, built from the raw orders (the orders
demo backdates its history after the sales, so the roll-ups are computed once it is in place),
and two daily summary subscribers (the regional administrator in Chinese, finance in English)."""

import datetime

from django.utils import timezone


def seed(ctx):
    from reports.rollups import rollup_rebuild

    today = timezone.localdate()
    checks = rollup_rebuild(date_from=today - datetime.timedelta(days=ctx.get("days", 60) + 1), date_to=today)
    ctx["stdout"].write(f"    sales roll-ups: {sum(c.orders for c in checks)} orders over {len(checks)} days")
    from django.contrib.auth import get_user_model

    from reports.services import summary_subscribe

    for username, language in (("regional", "zh-hans"), ("finance", "en")):
        user = get_user_model().objects.filter(username=username).first()
        if user is not None:
            summary_subscribe(user=user, language=language, hour=8)
