"""Drive the cabinets on one serial port.

Local mode (default): the gateway runs beside the platform and calls the devices services.
Edge mode (`--platform URL`): it talks to a remote platform's device API with each board's device
token and keeps a store-and-forward queue in a SQLite file while the platform is unreachable.

    manage.py run_gateway --port /dev/ttyUSB0 --board 1=LK-SH-0001 --board 2=LK-SH-0002
    manage.py run_gateway --port socket://10.0.0.5:4001 --platform https://bo.example.com \\
        --board 1=dv_token... --outbox /var/lib/gateway/outbox.sqlite3

Kerong KR-CU16 boards (`--protocol kerong`, addresses 0-15) report each lock hook as a bit; what a
set bit means is per board: `--hook-bit ADDRESS=open` for one board, else the device's lock board
setting (`gateway.LockBoard.hook_bit`, local mode), else `--hook-bit open|locked` for all, else
"locked" (docs/gateway-protocol.md).

    manage.py run_gateway --protocol kerong --port /dev/ttyUSB0 --board 0=LK-SH-0003 --hook-bit 0=open
"""

import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from gateway import protocol as p
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
        parser.add_argument(
            "--protocol",
            choices=["frame", "kerong"],
            default="frame",
            help="The boards' protocol: ours (frame) or Kerong KR-CU16 (kerong)",
        )
        parser.add_argument(
            "--hook-bit",
            action="append",
            default=[],
            metavar="[ADDRESS=]{locked,open}",
            help="Kerong: what a set lock-hook bit means, for all boards or ADDRESS=… for one; repeat",
        )

    def _boards(self, options) -> dict[int, str]:
        boards = {}
        low, high = (0, 15) if options["protocol"] == "kerong" else (1, 254)
        for entry in options["board"]:
            address, _sep, value = entry.partition("=")
            if not address.isdigit() or not value or not low <= int(address) <= high:
                raise CommandError(f"--board {entry!r}: use ADDRESS=VALUE with an address from {low} to {high}.")
            boards[int(address)] = value
        if not boards:
            raise CommandError("Give at least one --board.")
        return boards

    def _hook_bits(self, options, boards) -> tuple[str | None, dict[int, str]]:
        """(the value for all boards or None, {address: value} given per board)."""
        every, each = None, {}
        for entry in options["hook_bit"]:
            address, sep, value = entry.rpartition("=")
            if value not in p.HOOK_BITS or (sep and (not address.isdigit() or int(address) not in boards)):
                raise CommandError(
                    f"--hook-bit {entry!r}: use locked or open, or ADDRESS=locked|open for a board given with --board."
                )
            if sep:
                each[int(address)] = value
            else:
                every = value
        return every, each

    def handle(self, *args, **options):
        boards = self._boards(options)
        if options["hook_bit"] and options["protocol"] != "kerong":
            raise CommandError("--hook-bit is for Kerong boards (--protocol kerong).")
        every, each = self._hook_bits(options, boards)
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
            from gateway.models import LockBoard

            settings = dict(LockBoard.objects.filter(device__in=devices.values()).values_list("device", "hook_bit"))
            for address, device in devices.items():  # the board's own setting, unless given per board here
                if address not in each and device.pk in settings:
                    each[address] = settings[device.pk]
        if options["protocol"] == "kerong":
            from gateway.kerong import KerongGateway

            hook_bits = {a: each.get(a) or every or p.HOOK_BIT_LOCKED for a in boards}
            gateway = KerongGateway(options["port"], boards, sink, hook_bits=hook_bits, baudrate=options["baudrate"])
            self.stdout.write(f"Kerong lock-hook bits: {hook_bits}")
        else:
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
            gateway.close()
