"""Roll up the orders changed since the last batch now, instead of waiting for the beat."""

from django.core.management.base import BaseCommand

from reports.models import RollupPending
from reports.rollups import PENDING_BATCH, rollup_pending


class Command(BaseCommand):
    help = "Roll up the orders waiting for the sales roll-ups now (the beat does it every 30 s)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=PENDING_BATCH, help="orders per transaction")

    def handle(self, *args, batch, **options):
        taken = rollup_pending(limit=max(1, batch))
        self.stdout.write(f"{taken} orders rolled up, {RollupPending.objects.count()} waiting.")
