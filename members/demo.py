"""Demo customers."""

from members.models import Customer

SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]
GIVEN = ["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Jie", "Tao", "Xin"]


def seed(ctx):
    rnd = ctx["random"]
    regions = list(ctx["regions"].values())
    ctx["customers"] = [
        Customer.objects.create(
            phone=f"139{index:08d}", name=f"{rnd.choice(SURNAMES)} {rnd.choice(GIVEN)}", home_region=rnd.choice(regions)
        )
        for index in range(1, 81)
    ]
    _loyalty(ctx)


def _loyalty(ctx):
    """Member levels, a coupon and a promotion in Shanghai, so the till and the pages show them."""
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from members.models import Coupon, MemberLevel, Promotion

    for level, name, spend, discount, multiplier in [
        (1, "Silver", "200", "0", "1.5"),
        (2, "Gold", "1000", "5", "2"),
    ]:
        MemberLevel.objects.get_or_create(
            level=level,
            defaults={
                "name": name,
                "min_spend": Decimal(spend),
                "discount_percent": Decimal(discount),
                "points_multiplier": Decimal(multiplier),
            },
        )
    now = timezone.now()
    shanghai = ctx["regions"]["demo-sh"]
    Coupon.objects.create(
        code="WELCOME5",
        name="Welcome 5 off 30",
        kind=Coupon.Kind.THRESHOLD,
        value=Decimal("5"),
        min_spend=Decimal("30"),
        region=shanghai,
        valid_from=now - datetime.timedelta(days=1),
        valid_until=now + datetime.timedelta(days=90),
        total_quantity=500,
    )
    from wallet.models import BonusTier

    BonusTier.objects.create(region=shanghai, min_amount=Decimal("100"), bonus=Decimal("10"))
    BonusTier.objects.create(region=shanghai, min_amount=Decimal("300"), bonus=Decimal("40"))
    Promotion.objects.create(
        name="Shanghai weekday 5% off",
        kind=Promotion.Kind.PERCENT_OFF,
        percent=Decimal("5"),
        region=shanghai,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=30),
    )
