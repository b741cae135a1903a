"""Settings from the environment: the embedded default, the distributed shape, and production checks."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
    " 'cache': s.CACHES['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, 'tz': s.TIME_ZONE,"
    " 'currency': s.CURRENCY, 'debug': s.DEBUG}))"
)
CLEAN = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}


def _run(args, env, tmp_path):
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), **env}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _probe(env, tmp_path):
    result = _run([sys.executable, "-c", PROBE], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_nothing_set_it_runs_embedded(tmp_path):
    probe = _probe({}, tmp_path)
    assert probe["db"] == "django.db.backends.sqlite3"
    assert probe["layer"] == "channels.layers.InMemoryChannelLayer"
    assert probe["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert probe["broker"] == f"sqlasafe+sqlite:///{tmp_path}/celery-broker.sqlite3"
    assert (probe["tz"], probe["currency"]) == ("Asia/Shanghai", "CNY")


def test_with_database_and_redis_urls_it_runs_distributed(tmp_path):
    probe = _probe(
        {"DATABASE_URL": "postgres://u@db.example:5432/bo", "REDIS_URL": "redis://cache.example:6379/0"}, tmp_path
    )
    assert probe["db"] == "django.db.backends.postgresql"
    assert probe["layer"] == "channels_redis.core.RedisChannelLayer"
    assert probe["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert probe["broker"] == "redis://cache.example:6379/0"


def _database_options(env, tmp_path):
    code = "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
    result = _run([sys.executable, "-c", code], {"DATABASE_URL": "postgres://u@db.example:5432/bo", **env}, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_prepares_repeated_queries_unless_told_not_to(tmp_path):
    assert _database_options({}, tmp_path) == {"server_side_binding": True, "prepare_threshold": 5}
    assert _database_options({"DB_PREPARE_THRESHOLD": "0"}, tmp_path)["prepare_threshold"] is None
    # Behind a transaction-mode pooler neither survives: one switch turns both off.
    assert _database_options({"DB_SERVER_SIDE_BINDING": "0"}, tmp_path) == {}


def test_the_demo_secret_is_refused_outside_debug(tmp_path):
    result = _run([sys.executable, "manage.py", "check"], {"DEBUG": "0", "ALLOWED_HOSTS": "bo.example.com"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "a-real-secret-Kq81!zP0@vN3#wL5$" * 2,
        "ALLOWED_HOSTS": "bo.example.com",
    }
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "System check identified no issues" in result.stdout
