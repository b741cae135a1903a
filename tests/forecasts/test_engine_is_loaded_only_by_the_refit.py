"""numpy and pandas (about 100 MB resident) are loaded by the forecasts' refit, not by every web
process and worker that imports the apps' task modules: an export job in a fresh process peaked
at 231 MB with them and 151 MB without (bench/reports.py at 10,000,000 orders)."""

import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import importlib, sys
import django
django.setup()
from django.apps import apps
for app in apps.get_app_configs():
    try:
        importlib.import_module(app.name + ".tasks")
    except ModuleNotFoundError as exc:
        if exc.name != app.name + ".tasks":
            raise
import forecasts.services, forecasts.views  # noqa
print("loaded:" + ",".join(sorted(m for m in ("numpy", "pandas", "statsforecast") if m in sys.modules)))
"""


def test_importing_every_task_module_loads_no_numerical_library():
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert done.stdout.strip().splitlines()[-1] == "loaded:"
