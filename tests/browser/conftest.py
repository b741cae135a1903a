"""A real ASGI server (HTTP + websockets) for browser tests, running the project's application in a
thread so it shares the test database (pytest-django's live_server speaks WSGI only)."""

import datetime
import os

import pytest

from tests.conftest import CHROMIUM

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # asgi_server + Playwright's sync loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    from tests.asgi_server import serve

    with django_db_blocker.unblock(), serve() as url:
        yield type("Server", (), {"url": url})


@pytest.fixture
def local_morning(settings):
    """Run in a time zone where it is mid-morning now. Today's restock routes start no earlier than
    the current time (the vehicles leave now at the earliest), so at half past eleven at night in
    Shanghai half an hour of the day is left for the whole route, whatever the test plans."""
    utc_hour = datetime.datetime.now(datetime.UTC).hour
    offset = (10 - utc_hour) % 24
    if offset > 12:
        offset -= 24
    settings.TIME_ZONE = f"Etc/GMT{-offset:+d}" if offset else "UTC"  # Etc/GMT-3 is three hours ahead
