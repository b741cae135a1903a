"""`make run`'s demo fleet: keeps the demo machines without a simulated cabinet alive (heartbeats,
sales now and then, commands answered, an occasional fault and its recovery). See vending.simulation."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

from devices.models import Device
from vending.simulation import DemoFleet

logger = logging.getLogger(__name__)


def cabinet_driven_devices() -> set[int]:
    """The locker banks `demo_cabinets` drives (its default limit), when `make run` starts it."""
    if "demo_cabinets" not in getattr(settings, "EMBEDDED_BACKGROUND_COMMANDS", []):
        return set()
    from gateway.management.commands.demo_cabinets import DEFAULT_LIMIT

    lockers = Device.objects.filter(kind=Device.Kind.LOCKER, is_active=True).order_by("pk")
    return set(lockers.values_list("pk", flat=True)[:DEFAULT_LIMIT])


class Command(BaseCommand):
    help = "Simulate the demo machines that have no simulated cabinet: heartbeats, sales, faults."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between two rounds")

    def handle(self, *args, **options):
        fleet = DemoFleet(skip=cabinet_driven_devices())
        if not fleet.devices().exists():
            self.stdout.write("No demo devices to simulate.")
            return
        self.stdout.write(f"Simulating {fleet.devices().count()} demo devices.")
        try:
            while True:
                close_old_connections()
                try:
                    fleet.tick(timezone.now())
                except Exception:  # the next round tries again, like a machine after a glitch
                    logger.exception("Demo fleet round failed")
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
