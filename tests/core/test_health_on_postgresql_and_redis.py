"""`/health/` in the distributed shape (PostgreSQL, Redis), the project started the way `make run`
starts it: 200 with every check green; with its Redis stopped it answers 503 naming what failed.
(The embedded shape: tests/core/test_health_and_metrics.py.)"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
from django.db import connection

from tests.asgi_server import free_port
from tests.core.health_helpers import CLEAN, all_green, assert_heartbeat_scheduled, health, running, wait_for


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_health_is_green_on_postgresql_and_redis_and_names_redis_when_it_stops(tmp_path):
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is needed to stop a Redis of its own"
    redis_port = free_port()
    redis = subprocess.Popen(
        [
            redis_server,
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    settings_dict = connection.settings_dict
    host, port, user = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432, settings_dict["USER"]
    name = f"health_{uuid.uuid4().hex[:10]}"

    def admin(sql):
        import psycopg

        with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    env = {
        **CLEAN,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{name}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
    }
    try:
        with running(env, tmp_path) as base:
            all_green(base, tmp_path)

            def query(sql):
                import psycopg

                with psycopg.connect(host=host, port=port, user=user, dbname=name) as conn:
                    return conn.execute(sql).fetchall()

            assert_heartbeat_scheduled(query)
            redis.terminate()
            redis.wait(timeout=20)
            status, checks = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(health(base)), seconds=60)
            assert status == 503
            failed = {key.split("(")[0] for key, value in checks.items() if value != "OK"}
            assert {"Cache", "ChannelLayer", "CeleryWorker"} <= failed
            assert "Database" not in failed
    finally:
        if redis.poll() is None:
            redis.kill()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
