"""Forecasts in the demo: the nightly refit, queued once the demo's sales roll-ups are committed
(`make run`'s worker runs it; seed_demo itself stays fast)."""

from django.db import transaction


def seed(ctx):
    from forecasts.tasks import forecasts_refit

    transaction.on_commit(forecasts_refit.delay)
