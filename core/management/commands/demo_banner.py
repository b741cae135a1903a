"""Print the console URL and the demo logins (used by `make run`), and any demo credentials an
app's `demo.py` lists in `banner_lines()` (an API partner's key, for example)."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand

from core.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print where the console runs and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **options):
        port = options["port"]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Console:  http://127.0.0.1:{port}/"))
        self.stdout.write(f"Admin:    http://127.0.0.1:{port}/admin/")
        self.stdout.write(f"API docs: http://127.0.0.1:{port}/api/docs/")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, full_name, _scope in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role:<16} {full_name}")
        for app_name in settings.INSTALLED_APPS:
            try:
                module = importlib.import_module(f"{app_name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_name}.demo":
                    raise
                continue
            if hasattr(module, "banner_lines"):
                for line in module.banner_lines():
                    self.stdout.write(line)
        self.stdout.write("")
