"""A real ASGI server (HTTP + websockets) for browser tests, running the project's application in a
thread so it shares the test database (pytest-django's live_server speaks WSGI only)."""

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
