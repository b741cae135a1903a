from decimal import Decimal

import pytest

from devices.models import Device
from lockers.services import compartments_create
from orders.models import OrderKind
from tests.factories import CustomerFactory, DeviceFactory, make_order


@pytest.fixture
def bank(db):
    bank = DeviceFactory(kind=Device.Kind.LOCKER)
    compartments_create(bank=bank, sizes=["S", "S", "M", "L", "XL"])
    return bank


@pytest.fixture
def paid_order(bank):
    def make():
        return make_order(
            site=bank.site,
            kind=OrderKind.LOCKER,
            paid=True,
            total=Decimal("5.00"),
            customer=CustomerFactory(email="c@example.test"),
        )

    return make
