"""A real ASGI server (HTTP + websockets) for browser tests, running the project's application in a
thread so it shares the test database (pytest-django's live_server speaks WSGI only)."""

import os
import socket
import threading
import time

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
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from config.asgi import application

    # Server threads must not keep connections open past a request, or the test database
    # cannot be dropped at the end of the session.
    connections.settings["default"]["CONN_MAX_AGE"] = 0

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with django_db_blocker.unblock():
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.05)
        yield type("Server", (), {"url": f"http://127.0.0.1:{port}"})
        server.should_exit = True
        thread.join(timeout=10)
