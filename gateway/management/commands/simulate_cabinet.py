"""Run virtual cabinet boards on a pty until interrupted; prints the port to give run_gateway."""

import time

from django.core.management.base import BaseCommand, CommandError

from gateway.simulator import Cabinet


class Command(BaseCommand):
    help = "Simulate a chain of cabinet boards on a pty (for tests, demos and make run)."

    def add_arguments(self, parser):
        parser.add_argument("--boards", default="1", help="Comma-separated board addresses, e.g. 1,2,3")
        parser.add_argument("--locks", type=int, default=16, help="Locks per board (1-64)")
        parser.add_argument("--directory", help="Where to put the stable port symlink (default: a temp dir)")
        parser.add_argument("--drop", type=int, default=0, help="Drop the next N replies")
        parser.add_argument("--corrupt", type=int, default=0, help="Corrupt the next N replies")
        parser.add_argument("--delay", type=float, default=0.0, help="Delay every reply by this many seconds")
        parser.add_argument("--stuck", default="", help="Comma-separated board:lock pairs that never open")

    def handle(self, *args, **options):
        try:
            addresses = [int(a) for a in options["boards"].split(",") if a.strip()]
            stuck = [tuple(int(x) for x in pair.split(":")) for pair in options["stuck"].split(",") if pair.strip()]
        except ValueError:
            raise CommandError("Boards and stuck locks must be numbers, e.g. --boards 1,2 --stuck 1:3") from None
        if not addresses or not all(1 <= a <= 254 for a in addresses) or not 1 <= options["locks"] <= 64:
            raise CommandError("Give board addresses 1-254 and 1-64 locks per board.")
        cabinet = Cabinet(addresses=addresses, locks=options["locks"], directory=options["directory"])
        for board, lock in stuck:
            if board not in cabinet.boards:
                raise CommandError(f"No board {board} to make a lock stuck on.")
            cabinet.boards[board].stuck.add(lock - 1)
        cabinet.drop_replies, cabinet.corrupt_replies = options["drop"], options["corrupt"]
        if options["delay"]:
            cabinet.delay_replies, cabinet.delay_count = options["delay"], 10**9
        cabinet.start()
        self.stdout.write(f"Simulated boards {addresses} on {cabinet.port}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            cabinet.stop()
