"""What the two health tests share: the project started the way `make run` starts it (migrate,
then the web server, and the worker and beat under `manage.py supervise`), polled until every
check of `/health/` is green (tests/core/test_health_and_metrics.py for the embedded shape,
tests/core/test_health_on_postgresql_and_redis.py for the distributed one)."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

from tests.asgi_server import free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "METRICS_TOKEN"}
}
CHECKS = ("Database", "Cache", "ChannelLayer", "CeleryWorker", "BeatHeartbeat", "Disk")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return None, ""


def health(base):
    status, body = get(f"{base}/health/?format=json")
    return status, (json.loads(body) if status in (200, 503) else {})


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    return None


@contextmanager
def running(env, log_dir):
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


def all_green(base, log_dir):
    def green():
        status, checks = health(base)
        return checks if status == 200 else None

    checks = wait_for(green, seconds=240)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in log_dir.glob("*.log"))
    assert checks, f"health never turned green: {health(base)}\n{logs}"
    assert sorted(name.split("(")[0] for name in checks) == sorted(CHECKS)
    assert set(checks.values()) == {"OK"}
    return checks


# Beat's own schedule, as it stored it (django-celery-beat's DatabaseScheduler): the heartbeat is
# there every HEARTBEAT_SECONDS, so health stays green after the one beat sends as it starts.
HEARTBEAT_SCHEDULE_SQL = (
    "SELECT i.every, i.period, t.enabled FROM django_celery_beat_periodictask t"
    " JOIN django_celery_beat_intervalschedule i ON i.id = t.interval_id WHERE t.task = 'core.tasks.heartbeat'"
)


def assert_heartbeat_scheduled(query):
    """`query(sql)` answers the rows of the started project's database."""
    from core.tasks import HEARTBEAT_SECONDS

    rows = wait_for(lambda: query(HEARTBEAT_SCHEDULE_SQL), seconds=60)
    assert [(every, period, bool(enabled)) for every, period, enabled in rows or []] == [
        (HEARTBEAT_SECONDS, "seconds", True)
    ]
