import datetime
import itertools

from django.utils import timezone

from members.models import Coupon, Promotion

_n = itertools.count(1)


def coupon_in(region, **fields):
    now = timezone.now()
    defaults = dict(
        code=f"C{next(_n):05d}",
        name="Coupon",
        kind=Coupon.Kind.FIXED,
        value=5,
        region=region,
        valid_from=now - datetime.timedelta(days=1),
        valid_until=now + datetime.timedelta(days=30),
    )
    defaults.update(fields)
    return Coupon.objects.create(**defaults)


def promotion_in(region, **fields):
    from members.models import Promotion

    now = timezone.now()
    defaults = dict(
        name=f"Promo {next(_n)}",
        kind=Promotion.Kind.PERCENT_OFF,
        percent=10,
        region=region,
        starts_at=now - datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=30),
    )
    defaults.update(fields)
    return Promotion.objects.create(**defaults)


def _promotion(region):
    return promotion_in(region)


SCOPED_BUILDERS = {Coupon: coupon_in, Promotion: _promotion}
