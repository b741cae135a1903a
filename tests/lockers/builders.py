from devices.models import Device
from lockers.models import Compartment
from lockers.services import compartments_create
from tests.factories import DeviceFactory, SiteFactory


def _compartment_in(region):
    bank = DeviceFactory(kind=Device.Kind.LOCKER, site=SiteFactory(region=region))
    return compartments_create(bank=bank, sizes=["M"])[0]


SCOPED_BUILDERS = {Compartment: _compartment_in}
