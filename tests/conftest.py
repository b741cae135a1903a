"""Shared fixtures and the service markers.

Tests marked `postgres`, `redis` or `browser` skip with a reason where that service is missing.
In CI (`REQUIRE_SERVICES=1`) a missing service is a failure instead, so a leg cannot pass by
silently skipping what it was meant to prove.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


def _missing(marker: str) -> str | None:
    if marker == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if marker == "redis" and not _redis_available():
        return "needs Redis: set REDIS_URL=redis://..."
    if marker == "browser":
        if not CHROMIUM:
            return "needs Chromium (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright package"
    return None


def pytest_sessionstart(session):
    """tests/factories.py collects every app's tests/<app>/builders.py, and those import it back:
    import it before any test module does, so a builders module is never read half-initialised
    (which left its builders out, depending on which test file a worker collected first)."""
    import tests.factories  # noqa: F401


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker):
            reason = _missing(marker)
            if reason:
                if REQUIRE_SERVICES:
                    pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
                pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """A request in another language leaves it active in the thread; the next test starts from the
    default again."""
    from django.utils import translation

    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles and caches start empty in every test."""
    from django.core.cache import cache

    from orders.events import _PATHS

    cache.clear()
    _PATHS.clear()


@pytest.fixture(autouse=True)
def _no_second_factor(settings):
    """Most tests sign in with force_login; tests/staff/test_login_security.py turns it on."""
    settings.STAFF_OTP_REQUIRED = False


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True


@pytest.fixture
def world(db):
    """Two city regions under one root, a store in each, and a user of every role."""
    from tests.factories import build_world

    return build_world()


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
