"""Drive the cabinets on one serial port.

Local mode (default): the gateway runs beside the platform and calls the devices services.
Edge mode (`--platform URL`): it talks to a remote platform's device API with each board's device
token and keeps a store-and-forward queue in a SQLite file while the platform is unreachable.

    manage.py run_gateway --port /dev/ttyUSB0 --board 1=LK-SH-0001 --board 2=LK-SH-0002
    manage.py run_gateway --port socket://10.0.0.5:4001 --platform https://bo.example.com \\
        --board 1=dv_token... --outbox /var/lib/gateway/outbox.sqlite3
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from gateway.driver import CabinetGateway

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the serial gateway for locally attached cabinets."

    def add_arguments(self, parser):
        parser.add_argument("--port", required=True, help="Serial port or pyserial URL (socket://, loop://)")
        parser.add_argument("--baudrate", type=int, default=19200)
        parser.add_argument(
            "--board", action="append", default=[], help="ADDRESS=SERIAL (local) or ADDRESS=TOKEN (edge); repeat"
        )
        parser.add_argument("--platform", help="Edge mode: the platform's base URL")
        parser.add_argument("--outbox", default="gateway-outbox.sqlite3", help="Edge mode: store-and-forward file")
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between polling cycles")
        parser.add_argument("--cycles", type=int, default=0, help="Stop after N cycles (0 = run until stopped)")

    def _boards(self, options) -> dict[int, str]:
        boards = {}
        for entry in options["board"]:
            address, _sep, value = entry.partition("=")
            if not address.isdigit() or not value or not 1 <= int(address) <= 254:
                raise CommandError(f"--board {entry!r}: use ADDRESS=VALUE with an address from 1 to 254.")
            boards[int(address)] = value
        if not boards:
            raise CommandError("Give at least one --board.")
        return boards

    def handle(self, *args, **options):
        boards = self._boards(options)
        if options["platform"]:
            from gateway.forward import EdgeSink, HttpTransport, Outbox

            outbox = Outbox(options["outbox"])
            transport = HttpTransport(options["platform"])
            sink = EdgeSink(outbox=outbox, transport=transport, tokens=boards)
            after_cycle = lambda: outbox.deliver(transport)  # noqa: E731
        else:
            from devices.models import Device
            from gateway.sinks import LocalSink

            devices = {a: Device.objects.filter(serial_number=s).first() for a, s in boards.items()}
            missing = [boards[a] for a, d in devices.items() if d is None]
            if missing:
                raise CommandError(f"No device with serial number {', '.join(missing)}.")
            sink = LocalSink(devices)
            after_cycle = lambda: None  # noqa: E731
        gateway = CabinetGateway(options["port"], boards, sink, baudrate=options["baudrate"])
        self.stdout.write(f"Gateway on {options['port']} for boards {sorted(boards)}")
        cycles = 0
        try:
            while not options["cycles"] or cycles < options["cycles"]:
                try:
                    close_old_connections()
                    gateway.cycle(idle=options["interval"])
                    after_cycle()
                except Exception:  # the gateway never dies of one bad cycle
                    logger.exception("Gateway cycle failed")
                    time.sleep(options["interval"])
                cycles += 1
        except KeyboardInterrupt:
            pass
        finally:
            gateway.bus.close()
