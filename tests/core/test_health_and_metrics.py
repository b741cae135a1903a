"""`/health/` and `/metrics` as a load balancer and Prometheus see them: the project started the
way `make run` starts it (web server, worker and beat as separate processes) in both shapes —
embedded (SQLite, in-memory layers, the SQLite broker) and distributed (PostgreSQL, Redis) —
answers 200 with every check green; with its Redis stopped it answers 503 naming what failed."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection

from devices.models import Device
from tests.asgi_server import free_port
from tests.factories import DeviceFactory

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "METRICS_TOKEN"}
}
CHECKS = ("Database", "Cache", "ChannelLayer", "CeleryWorker", "BeatHeartbeat", "Disk")


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def _health(base):
    status, body = _get(f"{base}/health/?format=json")
    return status, (json.loads(body) if status in (200, 503) else {})


def _wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    return None


@contextmanager
def _running(env, log_dir):
    """The web server, and the worker and beat under `manage.py supervise`, as `make run` has them."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=600
    )
    port = free_port()
    processes = []
    try:
        for name, args in (
            ("web", ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]),
            ("supervise", ["manage.py", "supervise", "worker", "beat"]),
        ):
            log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
            processes.append(
                subprocess.Popen(
                    [sys.executable, *args],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in processes:
            with_group = os.getpgid(process.pid) if process.poll() is None else None
            if with_group:
                os.killpg(with_group, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(os.getpgid(process.pid), signal.SIGKILL)


def _all_green(base, log_dir):
    def green():
        status, checks = _health(base)
        return checks if status == 200 else None

    checks = _wait_for(green, seconds=240)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in log_dir.glob("*.log"))
    assert checks, f"health never turned green: {_health(base)}\n{logs}"
    assert sorted(name.split("(")[0] for name in checks) == sorted(CHECKS)
    assert set(checks.values()) == {"OK"}
    return checks


def test_health_is_green_in_the_embedded_shape(tmp_path):
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    with _running(env, tmp_path) as base:
        checks = _all_green(base, tmp_path)
        assert checks["CeleryWorker()"] == "OK" and checks["BeatHeartbeat()"] == "OK"


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
        with _running(env, tmp_path) as base:
            _all_green(base, tmp_path)
            redis.terminate()
            redis.wait(timeout=20)
            status, checks = _wait_for(lambda: (lambda r: r if r[0] == 503 else None)(_health(base)), seconds=60)
            assert status == 503
            failed = {key.split("(")[0] for key, value in checks.items() if value != "OK"}
            assert {"Cache", "ChannelLayer", "CeleryWorker"} <= failed
            assert "Database" not in failed
    finally:
        if redis.poll() is None:
            redis.kill()
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
