import datetime
import itertools

from django.utils import timezone

from members.models import Coupon

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


SCOPED_BUILDERS = {Coupon: coupon_in}
