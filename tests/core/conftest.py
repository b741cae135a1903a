import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction

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


@pytest.fixture(scope="module")
def seeded_tokens(django_db_setup, django_db_blocker):
    """For the schemathesis files (tests/core/schemathesis_support.py): one world for the whole
    module, built once in a transaction rolled back at the end (each test's own transaction nests
    inside it): the two-region world, one row of every scoped model in each region, and an API
    token for each caller."""
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from config.celery import app
    from tests.core.schemathesis_support import seed_every_scoped_model
    from tests.factories import build_world

    app.conf.task_always_eager = True
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            world = build_world()
            seed_every_scoped_model(world)
        tokens = {who: Token.objects.create(user=getattr(world, who)).key for who in ("admin", "regional")}
        yield tokens
        transaction.set_rollback(True)


@pytest.fixture
def wsgi_requests():
    """Requests go through Django's WSGI handler, which closes old connections when a request
    starts and finishes; inside the test's transaction that would end it, so (like Django's test
    client) the receiver is disconnected meanwhile. Exceptions are recorded for the report."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    errors: list[str] = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield errors
    got_request_exception.disconnect(record)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def existing_ids():
    """Generated `{id}`s mapped onto rows that exist (schemathesis_support.ExistingIds)."""
    from tests.core.schemathesis_support import ExistingIds

    return ExistingIds()
