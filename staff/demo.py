"""Demo anomaly rules for the whole country (Shanghai sets a stricter single-amount rule)."""

from decimal import Decimal

from staff.models import AnomalyRule


def seed(ctx):
    root = ctx["regions"]["demo-sh"].parent
    for kind, threshold in [
        (AnomalyRule.Kind.LARGE_AMOUNT, "500"),
        (AnomalyRule.Kind.REFUNDS_PER_HOUR, "3"),
        (AnomalyRule.Kind.REFUND_RATIO, "20"),
        (AnomalyRule.Kind.OUTSIDE_HOURS, "0"),
        (AnomalyRule.Kind.SHIFT_VARIANCE, "10"),
    ]:
        AnomalyRule.objects.create(region=root, kind=kind, threshold=Decimal(threshold))
    AnomalyRule.objects.create(
        region=ctx["regions"]["demo-sh"], kind=AnomalyRule.Kind.LARGE_AMOUNT, threshold=Decimal("300")
    )
