"""Print the console URL and the demo logins (used by `make run`), and any demo credentials an
app's `demo.py` lists in `banner_lines()` (an API partner's key, for example). With `--wait` it
first waits until the server answers, so the banner is the last thing `make run` prints."""

import importlib
import time
import urllib.error
import urllib.request

from django.core.management.base import BaseCommand

from core.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print where the console runs and the demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--wait", type=float, default=0, help="Seconds to wait for the server to answer first")

    def handle(self, *args, **options):
        port = options["port"]
        if options["wait"] and not self._answers(f"http://127.0.0.1:{port}/favicon.ico", options["wait"]):
            self.stderr.write(f"The server did not answer within {options['wait']:.0f} s; see var/log/server.log.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Console:  http://127.0.0.1:{port}/"))
        self.stdout.write(f"Admin:    http://127.0.0.1:{port}/admin/")
        self.stdout.write(f"API docs: http://127.0.0.1:{port}/api/docs/")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, full_name, _scope in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {role:<16} {full_name}")
        from django.apps import apps

        for app_name in [config.name for config in apps.get_app_configs()]:
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

    @staticmethod
    def _answers(url: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return True
            except urllib.error.HTTPError:
                return True  # it answered, whatever it said
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        return False
