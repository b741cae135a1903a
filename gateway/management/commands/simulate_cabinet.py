"""Run virtual cabinet boards on a pty until interrupted; prints the port to give run_gateway.

    manage.py simulate_cabinet --boards 1,2                      # our boards (addresses 1-254)
    manage.py simulate_cabinet --protocol kerong --boards 0,1    # Kerong KR-CU16 boards (0-15)

On exit (Ctrl-C) it prints how many times each lock was pulsed, so a lost reply that made a
gateway open a lock twice shows.
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError

from gateway import protocol as p
from gateway.simulator import Cabinet, KerongCabinet


class Command(BaseCommand):
    help = "Simulate a chain of cabinet boards on a pty (for tests, demos and make run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--protocol",
            choices=["frame", "kerong"],
            default="frame",
            help="The boards' protocol: ours (frame) or Kerong KR-CU16 (kerong)",
        )
        parser.add_argument("--boards", help="Comma-separated board addresses, e.g. 1,2,3 (default 1, Kerong 0)")
        parser.add_argument("--locks", type=int, default=16, help="Locks per board (1-64; a KR-CU16 has 16)")
        parser.add_argument("--directory", help="Where to put the stable port symlink (default: a temp dir)")
        parser.add_argument("--drop", type=int, default=0, help="Drop the next N replies")
        parser.add_argument(
            "--drop-unlock-replies", type=int, default=0, help="Drop the replies to the next N lock-opening requests"
        )
        parser.add_argument("--lose", type=int, default=0, help="Kerong: the next N requests never reach a board")
        parser.add_argument("--corrupt", type=int, default=0, help="Corrupt the next N replies")
        parser.add_argument("--delay", type=float, default=0.0, help="Delay every reply by this many seconds")
        parser.add_argument("--stuck", default="", help="Comma-separated board:lock pairs that never open")
        parser.add_argument(
            "--auto-close", type=float, default=0.0, help="Push an opened door shut after this many seconds"
        )
        parser.add_argument(
            "--hook-bit", choices=p.HOOK_BITS, default=p.HOOK_BIT_LOCKED, help="Kerong: what a set lock-hook bit means"
        )

    def handle(self, *args, **options):
        kerong = options["protocol"] == "kerong"
        low, high = (0, 15) if kerong else (1, 254)
        try:
            boards = options["boards"] or ("0" if kerong else "1")
            addresses = [int(a) for a in boards.split(",") if a.strip()]
            stuck = [tuple(int(x) for x in pair.split(":")) for pair in options["stuck"].split(",") if pair.strip()]
        except ValueError:
            raise CommandError("Boards and stuck locks must be numbers, e.g. --boards 1,2 --stuck 1:3") from None
        if not addresses or not all(low <= a <= high for a in addresses):
            raise CommandError(f"Give board addresses {low}-{high}.")
        if kerong:
            if options["locks"] != 16:
                raise CommandError("A KR-CU16 board has 16 locks.")
            cabinet = KerongCabinet(addresses=addresses, directory=options["directory"], hook_bit=options["hook_bit"])
            cabinet.lost_requests = options["lose"]
        else:
            if not 1 <= options["locks"] <= 64:
                raise CommandError("Give 1-64 locks per board.")
            if options["lose"] or options["hook_bit"] != p.HOOK_BIT_LOCKED:
                raise CommandError("--lose and --hook-bit are for Kerong boards (--protocol kerong).")
            cabinet = Cabinet(addresses=addresses, locks=options["locks"], directory=options["directory"])
        locks = 16 if kerong else options["locks"]
        for board, lock in stuck:
            if board not in addresses or not 1 <= lock <= locks:
                raise CommandError(f"No lock {board}:{lock} to make stuck.")
            (cabinet.stuck[board] if kerong else cabinet.boards[board].stuck).add(lock - 1)
        cabinet.drop_replies, cabinet.corrupt_replies = options["drop"], options["corrupt"]
        cabinet.drop_unlock_replies = options["drop_unlock_replies"]
        cabinet.auto_close = options["auto_close"]
        if options["delay"]:
            cabinet.delay_replies, cabinet.delay_count = options["delay"], 10**9
        # Ctrl-C or a stop (SIGTERM, as supervise and service managers send) ends it with its pulse
        # counts printed, whatever the parent left ignored or blocked for its children.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        cabinet.start()
        self.stdout.write(f"Simulated {options['protocol']} boards {addresses} on {cabinet.port}")
        self.stdout.flush()
        try:
            while True:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            cabinet.stop()
            for board in addresses:
                pulses = cabinet.pulses[board] if kerong else cabinet.boards[board].pulses
                for index, count in sorted(pulses.items()):
                    self.stdout.write(f"Pulses board {board} lock {index + 1}: {count}")
            self.stdout.flush()
