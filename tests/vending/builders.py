"""Scoped rows of the vending app for the generated scoping tests."""

import datetime

from devices.models import Device
from tests.factories import DeviceFactory, ProductFactory, SiteFactory
from vending.models import RestockTask, Slot
from vending.services import slot_create

_codes = iter(range(10**6))


def _slot_in(region):
    machine = DeviceFactory(kind=Device.Kind.VENDING, site=SiteFactory(region=region))
    return slot_create(device=machine, code=f"S{next(_codes)}", product=ProductFactory(), capacity=10)


SCOPED_BUILDERS = {Slot: _slot_in}


def _task_in(region):
    """A restock task on a route: the driver's route API lists planned tasks only, and the restock
    pages list every task, so a planned one is in scope of both."""
    slot = _slot_in(region)
    return RestockTask.objects.create(
        device=slot.device, route_date=datetime.date(2026, 1, 5), route_vehicle=1, route_stop=1
    )


SCOPED_BUILDERS[RestockTask] = _task_in
