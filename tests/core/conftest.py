import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """An embedded-shape database file that `manage.py migrate` built from nothing, once per test
    process: the tests that start the project as `make run` does (health, the restore drills) copy
    it (tests/core/migrated.py) and still run `migrate`, which then finds nothing to do, as at
    every restart. Building it from nothing takes half a minute of CPU; a copy, under a second."""
    var_dir = tmp_path_factory.mktemp("migrated")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SQLITE_PATH"}}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir)},
        check=True,
        timeout=600,
    )
    return var_dir / "db.sqlite3"
