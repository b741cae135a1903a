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
