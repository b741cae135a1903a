"""Sending to websocket groups from synchronous code (services, after commit).

`async_to_sync(layer.group_send)` starts a fresh event loop per call, and channels_redis keeps its
connection pool per loop, so every call would also open new Redis connections. Instead one daemon
thread per process runs a loop for the channel layer; `group_send_many` hands it the messages and
returns at once. (The embedded in-memory layer keeps async_to_sync, see below.) Live pages are best effort: failures are logged, never raised to the caller.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

logger = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="live-publisher", daemon=True).start()
            _loop = loop
        return _loop


async def _send(layer, groups: list[str], message: dict) -> None:
    results = await asyncio.gather(*(layer.group_send(group, message) for group in groups), return_exceptions=True)
    for group, result in zip(groups, results, strict=True):
        if isinstance(result, Exception):
            logger.error("Could not send %s to group %s: %r", message.get("type"), group, result)


def group_send_many(groups: Iterable[str], message: dict, *, wait: bool = False) -> None:
    """Send `message` to every group. With `wait`, block until sent (tests, shutdown)."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        # Only groups someone in this process joined can receive anything: the rest (all of them in
        # a worker or a script) cost nothing, instead of an event loop hop each.
        groups = [group for group in groups if group in layer.groups]
        if not groups:
            return
        # The in-memory layer's queues belong to the event loop its consumers run on; async_to_sync
        # from a sync_to_async thread runs on that loop, the publisher thread would not.
        try:
            async_to_sync(_send)(layer, groups, message)
        except Exception:
            logger.exception("Could not send %s", message.get("type"))
        return
    try:
        future = asyncio.run_coroutine_threadsafe(_send(layer, list(groups), message), _publisher_loop())
        if wait:
            future.result(timeout=5)
    except Exception:
        logger.exception("Could not hand %s to the live publisher", message.get("type"))
