from devices.models import Device
from lockers.models import Compartment, LockerOrder
from lockers.services import compartments_create, locker_order_create
from tests.factories import DeviceFactory, SiteFactory


def _compartment_in(region):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=SiteFactory(region=region))
    return compartments_create(bank=bank, sizes=["M"])[0]


def _locker_order_in(region):
    bank = _compartment_in(region).bank
    locker_order, _code = locker_order_create(bank=bank, size="M", recipient_phone="13900000000", actor=None)
    return locker_order


SCOPED_BUILDERS = {Compartment: _compartment_in, LockerOrder: _locker_order_in}
