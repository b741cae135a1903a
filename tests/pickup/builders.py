from pickup.models import PickupCode
from pickup.services import pickup_order_create
from tests.factories import SiteFactory


def _pickup_code_in(region):
    _order, row = pickup_order_create(site=SiteFactory(region=region), recipient_phone="13900000000", actor=None)
    return row


SCOPED_BUILDERS = {PickupCode: _pickup_code_in}
