from django.core.management.base import BaseCommand

from forecasts import services


class Command(BaseCommand):
    help = "Refit every machine slot's demand forecast now (the nightly job does it at 02:30)."

    def add_arguments(self, parser):
        parser.add_argument("--jobs", type=int, default=1, help="processes for the model fits")

    def handle(self, *args, jobs, **options):
        summary = services.forecasts_refit(n_jobs=jobs)
        self.stdout.write(
            f"{summary.series} slots: {summary.fitted} fitted, {summary.fallback} on a fallback, "
            f"in {summary.seconds:.1f} s"
        )
