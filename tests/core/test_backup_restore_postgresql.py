"""The restore drill on PostgreSQL (pg_dump / pg_restore): a database with orders, ledger entries
and stock is backed up with `manage.py backup`, dropped, and brought back with `manage.py restore`;
the row counts, the ledger's sums and the stock levels are the same as before. (SQLite:
tests/core/test_backup_restore.py.)"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from tests.core.backup_helpers import CLEAN, drill


@pytest.mark.postgres
@pytest.mark.django_db
def test_restore_drill_on_postgresql(tmp_path):
    settings_dict = connection.settings_dict
    name = f"backup_drill_{uuid.uuid4().hex[:10]}"
    host, port, user = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432, settings_dict["USER"]
    url = f"postgres://{user}@{host}:{port}/{name}"
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "DATABASE_URL": url}

    def admin(sql):
        import psycopg

        with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    try:

        def wipe():
            admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin(f'CREATE DATABASE "{name}"')

        restored = drill(env, wipe)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert restored["orders"] >= 40 and restored["entry_sum"] not in ("None", "")
