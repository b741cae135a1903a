"""Run the project's ASGI application (HTTP + websockets) with uvicorn in a thread, sharing the
test database, for browser tests and for gateway tests that need a real platform to talk to."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(port: int | None = None):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from config.asgi import application

    # Server threads must not keep connections open past a request, or the test database
    # cannot be dropped at the end of the session.
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    port = port or free_port()
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
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the ASGI test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
