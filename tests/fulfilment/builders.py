"""Scoping builders of the fulfilment models (merged into tests.factories.SCOPED_BUILDERS)."""

from fulfilment.models import Delivery, PlatformMapping
from orders.models import OrderKind
from tests.factories import _site_in, make_order
from tests.fulfilment.shipping_builders import SHIPPING_SCOPED_BUILDERS


def _delivery_in(region):
    order = make_order(site=_site_in(region), kind=OrderKind.DELIVERY)
    return Delivery.objects.create(
        order=order, recipient_name="R", phone="13800138000", province="上海", city="上海市", address="世纪大道1号"
    )


SCOPED_BUILDERS = {Delivery: _delivery_in, **SHIPPING_SCOPED_BUILDERS}
GLOBAL_MODELS = {PlatformMapping}
