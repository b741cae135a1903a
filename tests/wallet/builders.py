from decimal import Decimal

from tests.factories import CustomerFactory
from wallet.models import BonusTier, Recharge
from wallet.recharges import recharge_start


def _recharge_in(region):
    return recharge_start(
        customer=CustomerFactory(home_region=region), amount=Decimal("50.00"), actor=None, region=region
    )


SCOPED_BUILDERS = {
    BonusTier: lambda region: BonusTier.objects.create(region=region, min_amount=Decimal("100"), bonus=Decimal("10")),
    Recharge: _recharge_in,
}
