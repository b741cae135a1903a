"""Recompute the roll-ups of a range of days from the raw orders, repairing what differs."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from reports.rollups import rollup_rebuild

MAX_DAYS = 3660


class Command(BaseCommand):
    help = "Recompute the sales roll-ups of a range of days from the raw orders (YYYY-MM-DD, inclusive)."

    def add_arguments(self, parser):
        parser.add_argument("date_from")
        parser.add_argument("date_to", nargs="?")

    def handle(self, *args, date_from, date_to=None, **options):
        try:
            start = datetime.date.fromisoformat(date_from)
            end = datetime.date.fromisoformat(date_to) if date_to else start
        except ValueError as error:
            raise CommandError(f"Dates are YYYY-MM-DD: {error}") from error
        if end < start:
            raise CommandError("The range ends before it starts.")
        if (end - start).days >= MAX_DAYS:
            raise CommandError(f"At most {MAX_DAYS} days at a time.")
        checks = rollup_rebuild(date_from=start, date_to=end)
        repaired = [c for c in checks if c.differences]
        for check in repaired:
            self.stdout.write(f"{check.day}: {check.differences} rows repaired ({check.orders} orders)")
        self.stdout.write(
            f"{len(checks)} days checked, {sum(c.orders for c in checks)} orders, {len(repaired)} days repaired."
        )
