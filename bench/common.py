"""Shared set-up for the benchmarks: Django on a throwaway test database, and the report format.

Each benchmark measures the thing and a baseline in the same run, on the same machine, and prints
its figures, then one JSON object on the last line: {"name", "figures", "baseline", "ratio"}.
Run one with `.venv/bin/python bench/<name>.py` (embedded SQLite) or with DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time
from contextlib import contextmanager

ROOT = pathlib.Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
    # Measure the production shape: DEBUG off (no query log, no debug cursor), a throwaway secret.
    os.environ.setdefault("DEBUG", "0")
    if os.environ["DEBUG"] in ("0", "false", "False", "no") and not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = "bench-" + os.urandom(24).hex()
    import django

    django.setup()


@contextmanager
def test_database():
    """Create a fresh test database (like pytest-django does), migrate it, destroy it afterwards."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def timed(fn, *, repeat: int = 3) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def report(name: str, figures: dict, baseline_key: str, measured_key: str) -> None:
    for key, value in figures.items():
        print(f"{name}: {key} = {value}")
    ratio = figures[measured_key] / figures[baseline_key] if figures[baseline_key] else None
    shown = f"{ratio:.2f}" if ratio is not None else "n/a (the baseline measured nothing)"
    print(f"{name}: {measured_key} / {baseline_key} = {shown}")
    rounded = round(ratio, 3) if ratio is not None else None
    print(json.dumps({"name": name, "figures": figures, "baseline": baseline_key, "ratio": rounded}))
