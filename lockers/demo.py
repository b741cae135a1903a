"""Demo locker banks: sixteen compartments each, in four sizes."""

from devices.models import Device
from lockers.services import compartments_create


def seed(ctx):
    for bank in [d for d in ctx["devices"] if d.kind == Device.Kind.LOCKER]:
        compartments_create(bank=bank, sizes=["S"] * 6 + ["M"] * 5 + ["L"] * 3 + ["XL"] * 2)
