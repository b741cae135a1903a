"""Sending to websocket groups from synchronous code (services, after commit).

`async_to_sync(layer.group_send)` starts a fresh event loop per call, and channels_redis keeps its
connection pool per loop, so every call would also open new Redis connections. Instead one daemon
thread per process runs a loop for the channel layer; `group_send_many` hands it the messages and
returns at once; messages that pile up while a send is in flight go together, one `live.batch` per
group (consumers mix in `BatchReceiver`). The embedded in-memory layer keeps async_to_sync, see
below. Live pages are best effort: failures are logged, never raised to the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
from collections import deque
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


# Messages waiting for the publisher thread. While one flush is on its way to Redis, the next ones
# gather here and go together: per group, one `live.batch` message instead of one send each (no
# waiting is added; under light load every message still goes alone, at once).
BATCH_TYPE = "live.batch"
BATCH_MAX = 200
SENDS_AT_ONCE = 8
_pending: deque[tuple[list[str], dict, concurrent.futures.Future | None]] = deque()
_pending_lock = threading.Lock()
_flushing = False


def _batches(items) -> dict[str, list[dict]]:
    """Per group, the messages to send one after the other: a lone message as itself, more as
    `live.batch` messages of at most BATCH_MAX, in the order they were handed over."""
    by_group: dict[str, list[dict]] = {}
    for groups, message, _done in items:
        for group in groups:
            by_group.setdefault(group, []).append(message)
    sends = {}
    for group, messages in by_group.items():
        chunks = [messages[start : start + BATCH_MAX] for start in range(0, len(messages), BATCH_MAX)]
        sends[group] = [chunk[0] if len(chunk) == 1 else {"type": BATCH_TYPE, "messages": chunk} for chunk in chunks]
    return sends


async def _flush(layer) -> None:
    global _flushing
    while True:
        with _pending_lock:
            items = list(_pending)
            _pending.clear()
            if not items:
                _flushing = False
                return
        try:
            sends = _batches(items)
            # A burst touches many groups (one per device); a few groups at a time keep within the
            # Redis connection pool instead of failing the rest. One group's messages go in order.
            gate = asyncio.Semaphore(SENDS_AT_ONCE)

            async def send(group, messages, gate=gate):
                async with gate:
                    for message in messages:
                        try:
                            await layer.group_send(group, message)
                        except Exception as error:
                            logger.error("Could not send %s to group %s: %r", message.get("type"), group, error)

            await asyncio.gather(*(send(group, messages) for group, messages in sends.items()))
        except Exception:
            logger.exception("Could not publish %s live messages", len(items))
        for _groups, _message, done in items:
            if done is not None and not done.done():
                done.set_result(None)


def group_send_many(groups: Iterable[str], message: dict, *, wait: bool = False) -> None:
    """Send `message` to every group. With `wait`, block until sent (tests, shutdown)."""
    global _flushing
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
        done = concurrent.futures.Future() if wait else None
        loop = _publisher_loop()
        with _pending_lock:
            _pending.append((list(groups), message, done))
            start = not _flushing
            _flushing = True
        if start:
            loop.call_soon_threadsafe(lambda: loop.create_task(_flush(layer)))
        if done is not None:
            done.result(timeout=5)
    except Exception:
        logger.exception("Could not hand %s to the live publisher", message.get("type"))


def _after_fork_in_child() -> None:
    """A forked worker has no publisher thread: start afresh, never inherit half a queue."""
    global _loop, _lock, _pending_lock, _flushing
    _loop = None
    _lock = threading.Lock()
    _pending_lock = threading.Lock()
    _pending.clear()
    _flushing = False


os.register_at_fork(after_in_child=_after_fork_in_child)


class BatchReceiver:
    """Mixin for consumers: a `live.batch` message is handled as the messages it carries, in order."""

    async def live_batch(self, event):
        for message in event["messages"]:
            await self.dispatch(message)
