"""The embedded broker (no Redis): two processes publishing at once and a worker lose nothing,
and a worker that dies is restarted by `manage.py supervise` (what `make run` starts) and consumes
what was published while it was down."""

import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLEAN = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}}
PUBLISH = (
    "import sys, django; django.setup(); from core.tasks import broker_probe; "
    "[broker_probe.delay(f'{sys.argv[1]}-{i}') for i in range(int(sys.argv[2]))]"
)
PER_PUBLISHER = 120


def _env(var_dir):
    return {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(var_dir)}


def _publish_concurrently(var_dir, phase):
    publishers = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, f"{phase}{n}", str(PER_PUBLISHER)],
            cwd=ROOT,
            env=_env(var_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in ("a", "b")
    ]
    for publisher in publishers:
        _out, err = publisher.communicate(timeout=180)
        assert publisher.returncode == 0, err
    return {f"{phase}{n}-{i}" for n in ("a", "b") for i in range(PER_PUBLISHER)}


def _consumed(var_dir):
    folder = var_dir / "broker-probe"
    return set(os.listdir(folder)) if folder.exists() else set()


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_pid(var_dir):
    path = var_dir / "supervise" / "worker.pid"
    return int(path.read_text()) if path.exists() and path.read_text().strip() else None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_publishers_a_killed_worker_and_every_message_consumed(tmp_path):
    settings_probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_URL)",
        ],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert settings_probe.stdout.strip().startswith("sqlasafe+sqlite:///"), settings_probe.stderr

    log = open(tmp_path / "supervise.log", "w")  # noqa: SIM115 - closed in finally
    supervisor = subprocess.Popen(
        [sys.executable, "manage.py", "supervise", "worker"], cwd=ROOT, env=_env(tmp_path), stdout=log, stderr=log
    )
    try:
        # Phase 1: two processes publish at once while the worker consumes.
        first = _publish_concurrently(tmp_path, "one")
        _wait(lambda: len(_consumed(tmp_path) & first) >= 5, 180, "the worker to start consuming")
        first_pid = _worker_pid(tmp_path)
        assert first_pid and _alive(first_pid)

        # The worker dies abruptly, mid-way; two processes keep publishing while it is down.
        os.kill(first_pid, signal.SIGKILL)
        second = _publish_concurrently(tmp_path, "two")

        # The supervisor starts a new worker, which consumes what was pending.
        _wait(lambda: (_worker_pid(tmp_path) or first_pid) != first_pid, 60, "the worker to be restarted")
        everything = first | second
        # A message the killed worker had taken but not finished is the only one it may lose
        # (prefetch 1): never more.
        _wait(lambda: len(everything - _consumed(tmp_path)) <= 1, 300, "every message to be consumed")
        time.sleep(3)
        assert len(everything - _consumed(tmp_path)) <= 1
        assert second <= _consumed(tmp_path), "everything published while the worker was down was consumed"
        assert supervisor.poll() is None, "the supervisor keeps running"
        second_pid = _worker_pid(tmp_path)
        assert _alive(second_pid)

        # A plain `kill` (warm shutdown, exit status 0) is restarted too, and loses nothing.
        os.kill(second_pid, signal.SIGTERM)
        _wait(lambda: (_worker_pid(tmp_path) or second_pid) != second_pid, 90, "the worker to be restarted again")
        third = _publish_concurrently(tmp_path, "three")
        _wait(lambda: third <= _consumed(tmp_path), 300, "the third batch to be consumed")
        second_pid = _worker_pid(tmp_path)
        assert _alive(second_pid)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=60)
        except subprocess.TimeoutExpired:
            supervisor.kill()
        log.close()
    assert supervisor.returncode == 0, (tmp_path / "supervise.log").read_text()
    assert not _alive(second_pid), "stopping the supervisor stops its worker"
    assert "restarting worker" in (tmp_path / "supervise.log").read_text()
