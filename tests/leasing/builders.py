from decimal import Decimal

from leasing.models import Asset, BulkItem, Lease, RatePlan
from leasing.services import lease_start
from tests.factories import CustomerFactory, SiteFactory

_n = iter(range(10**6))


def _asset_in(region):
    site = SiteFactory(region=region)
    return Asset.objects.create(serial=f"AS-{next(_n)}", kind="umbrella", site=site)


def _lease_in(region):
    asset = _asset_in(region)
    RatePlan.objects.get_or_create(
        name="Umbrella", asset_kind="umbrella", region=region, defaults={"unit_price": Decimal("1.00")}
    )
    return lease_start(customer=CustomerFactory(), asset=asset)


def _plan_in(region):
    return RatePlan.objects.create(
        name=f"Plan {next(_n)}", asset_kind="umbrella", region=region, unit_price=Decimal("1.00")
    )


def _bulk_in(region):
    return BulkItem.objects.create(site=SiteFactory(region=region), kind="chair", total=5, available=5)


SCOPED_BUILDERS = {Asset: _asset_in, Lease: _lease_in, RatePlan: _plan_in, BulkItem: _bulk_in}
