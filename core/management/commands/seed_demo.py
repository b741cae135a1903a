"""Load the demo data once: regions, sites, users per role, products, devices, customers and
order history. Each app contributes a `demo.py` with `seed(ctx)`; they run in INSTALLED_APPS
order (which is the dependency order), sharing `ctx`. Running it again changes nothing."""

import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.models import Region

DEMO_ROOT_CODE = "demo-cn"


class Command(BaseCommand):
    help = "Load demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="Days of order history to create.")
        parser.add_argument(
            "--orders-per-day", type=int, default=100, help="Machine and counter sales a day on average, in all."
        )

    def handle(self, *args, **options):
        if Region.objects.filter(code=DEMO_ROOT_CODE).exists():
            self.stdout.write("Demo data already loaded; nothing to do.")
            return
        ctx = {
            "random": random.Random(20261122),
            "days": options["days"],
            "orders_per_day": options["orders_per_day"],
            "stdout": self.stdout,
        }
        with transaction.atomic():
            # The apps' module names, in INSTALLED_APPS order (which may name AppConfig classes).
            for app_name in (app_config.name for app_config in apps.get_app_configs()):
                try:
                    module = importlib.import_module(f"{app_name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app_name}.demo":
                        raise
                    continue
                module.seed(ctx)
                self.stdout.write(f"  {app_name}: demo data loaded")
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
