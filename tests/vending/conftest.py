import pytest

from devices.models import Device
from tests.factories import DeviceFactory, ProductFactory
from tests.wallet.test_online_providers import keys  # noqa: F401  (payment providers with local keys)
from vending.services import slot_create


@pytest.fixture
def machine(db):
    return DeviceFactory(kind=Device.Kind.VENDING)


@pytest.fixture
def slot(machine):
    from inventory.services import stock_move

    slot = slot_create(device=machine, code="A1", product=ProductFactory(), capacity=20, low_threshold=2)
    stock_move(level=slot.level, quantity=10, reason="restock", reference="initial")
    slot.level.refresh_from_db()
    return slot
