"""`/health/` and `/metrics` as a load balancer and Prometheus see them: the project started the
way `make run` starts it (web server, worker and beat as separate processes) in the embedded shape
(SQLite, in-memory layers, the SQLite broker) answers 200 with every check green. The distributed
shape (PostgreSQL, Redis; 503 naming Redis when it stops) is
tests/core/test_health_on_postgresql_and_redis.py: its own file, so that CI's two workers run the
two shapes side by side."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from devices.models import Device
from tests.core.health_helpers import CLEAN, all_green, assert_heartbeat_scheduled, running
from tests.core.migrated import copy_database
from tests.factories import DeviceFactory


def test_health_is_green_in_the_embedded_shape(tmp_path, migrated_sqlite):
    copy_database(migrated_sqlite, tmp_path)
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    with running(env, tmp_path) as base:
        checks = all_green(base, tmp_path)
        assert checks["CeleryWorker()"] == "OK" and checks["BeatHeartbeat()"] == "OK"

        def query(sql):
            with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
                return db.execute(sql).fetchall()

        assert_heartbeat_scheduled(query)


@pytest.mark.django_db
def test_metrics_count_the_fleet_and_need_the_token(client, settings):
    DeviceFactory(state=Device.State.ONLINE)
    DeviceFactory(state=Device.State.ONLINE)
    DeviceFactory(state=Device.State.OFFLINE)
    settings.METRICS_TOKEN = ""
    settings.DEBUG = True
    body = client.get("/metrics").content.decode()
    assert 'backoffice_devices{state="online"} 2.0' in body
    assert 'backoffice_devices{state="offline"} 1.0' in body
    assert "backoffice_device_commands_pending 0.0" in body
    assert "django_http_requests_total_by_method_total" in body  # django-prometheus's own

    settings.DEBUG = False
    assert client.get("/metrics").status_code == 404  # production without a token: not exposed
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200
