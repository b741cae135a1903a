"""`make run`'s simulated cabinets: virtual boards on a pty for the demo locker banks, driven by a
gateway in local mode, so door commands from the console really travel over a serial line."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from devices.models import Device
from gateway.driver import CabinetGateway
from gateway.simulator import Cabinet
from gateway.sinks import LocalSink

logger = logging.getLogger(__name__)
DEFAULT_LIMIT = 4  # locker banks with a virtual board (vending.simulation stands in for the rest)


class Command(BaseCommand):
    help = "Simulate cabinets for the demo locker banks and drive them through the gateway."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=DEFAULT_LIMIT, help="How many locker banks get a virtual board"
        )
        parser.add_argument("--interval", type=float, default=1.0)

    def handle(self, *args, **options):
        lockers = list(
            Device.objects.filter(kind=Device.Kind.LOCKER, is_active=True).order_by("pk")[: options["limit"]]
        )
        if not lockers:
            self.stdout.write("No locker banks to simulate.")
            return
        devices = {address: device for address, device in enumerate(lockers, start=1)}
        cabinet = Cabinet(addresses=list(devices), locks=16).start()
        gateway = CabinetGateway(cabinet.port, list(devices), LocalSink(devices))
        self.stdout.write(f"Simulated cabinets for {', '.join(d.name for d in lockers)} on {cabinet.port}")
        try:
            while True:
                close_old_connections()
                try:
                    gateway.cycle(idle=options["interval"])
                except Exception:
                    logger.exception("Demo gateway cycle failed")
                    time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
        finally:
            gateway.bus.close()
            cabinet.stop()
