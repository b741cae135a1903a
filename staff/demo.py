"""Demo anomaly rules for the whole country (Shanghai sets a stricter single-amount rule), and last
month's appraisals at the demo store: the manager evaluated the clerk and recorded a training, the
regional administrator evaluated the manager, so each has a colleague's evaluation to rate."""

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
    seed_appraisals(ctx)


def seed_appraisals(ctx):
    import datetime

    from django.utils import timezone

    from staff.appraisals import evaluation_record, training_record
    from staff.models import StaffProfile, TrainingRecord

    users = ctx["users"]
    clerk, manager, regional = users.get("clerk"), users.get("store_manager"), users.get("regional_admin")
    if not (clerk and manager and regional):
        return
    end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    start = end.replace(day=1)
    clerk_profile = StaffProfile.objects.get(user=clerk)
    manager_profile = StaffProfile.objects.get(user=manager)
    training_record(
        actor=manager,
        profile=clerk_profile,
        date=start + datetime.timedelta(days=9),
        content="Refunds and their approval",
        result=TrainingRecord.Result.PASSED,
    )
    evaluation_record(actor=manager, profile=clerk_profile, period_start=start, period_end=end, score=4)
    evaluation_record(actor=regional, profile=manager_profile, period_start=start, period_end=end, score=5)


def seed_offline_sale(ctx):
    """A flagged offline sale for the manager of the demo store (ADR 20): the clerk sold by card
    while the till was offline, at the price the till had kept (the catalog's went up since) and
    more than the shelf had. Called by inventory.demo once the store shelves exist."""
    import datetime
    import uuid

    from django.utils import timezone

    from inventory.models import StockLevel
    from staff.offline import OfflineLine, offline_sale_apply

    clerk = ctx["users"].get("clerk")
    site = ctx["sites"].get("sh-store-1")
    level = StockLevel.objects.filter(location__site=site, location__kind="shelf").order_by("pk").first()
    if clerk is None or site is None or level is None:
        return
    product = level.product
    old_price = max(product.sale_price - Decimal("1.00"), Decimal("0.50"))
    quantity = level.quantity + 1
    offline_sale_apply(
        actor=clerk,
        client_id=uuid.UUID(int=ctx["random"].getrandbits(128), version=4),
        site=site,
        shift=None,
        happened_at=timezone.now() - datetime.timedelta(hours=2),
        method="card",
        lines=[OfflineLine(product=product, quantity=quantity, unit_price=old_price)],
        amount=old_price * quantity,
        reference="T-DEMO-0001",
    )
