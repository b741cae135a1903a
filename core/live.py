"""Sending to websocket groups from synchronous code (services, after commit).

`async_to_sync(layer.group_send)` starts a fresh event loop per call, and channels_redis keeps its
connection pool per loop, so every call would also open new Redis connections. Instead one daemon
thread per process runs a loop for the channel layer; `group_send_many` hands it the messages and
returns at once; messages that gather for a moment go together, one `live.batch` per group
(consumers mix in `BatchReceiver`), to the groups someone has joined. The embedded in-memory layer
keeps async_to_sync, see below. Live pages are best effort: failures are logged, never raised.
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
from channels.consumer import get_handler_name
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

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


# Messages waiting for the publisher thread. A flush waits LIVE_LINGER_SECONDS, then takes what has
# gathered (and what gathers while it is on its way to Redis waits for the next): per group, one
# `live.batch` message instead of one send each, and only to groups someone has joined.
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


async def _groups_with_members(layer, groups) -> set[str]:
    """The groups someone has joined, asked in one pipelined round trip per Redis host.

    Most of a device's groups (its own, its site's) have nobody watching most of the time, and
    channels_redis spends two round trips on an empty group. A browser that joins between this
    question and the send misses that message, as it would between channels_redis's own lookup
    and its send. Layers other than channels_redis's `RedisChannelLayer` get every group."""
    groups = list(groups)
    if not (hasattr(layer, "_group_key") and hasattr(layer, "consistent_hash") and hasattr(layer, "connection")):
        return set(groups)
    by_host: dict[int, list[str]] = {}
    for group in groups:
        by_host.setdefault(layer.consistent_hash(group), []).append(group)
    watched = set()
    for index, names in by_host.items():
        pipe = layer.connection(index).pipeline(transaction=False)
        for name in names:
            pipe.exists(layer._group_key(name))
        watched.update(name for name, found in zip(names, await pipe.execute(), strict=True) if found)
    return watched


async def _flush(layer) -> None:
    global _flushing
    while True:
        # A moment's wait lets a busy process send what piles up as one batch per group: flushes
        # per second stay at most 1 / LIVE_LINGER_SECONDS per process, whatever the message rate.
        await asyncio.sleep(settings.LIVE_LINGER_SECONDS)
        with _pending_lock:
            items = list(_pending)
            _pending.clear()
            if not items:
                _flushing = False
                return
        try:
            sends = _batches(items)
            watched = await _groups_with_members(layer, sends)
            sends = {group: messages for group, messages in sends.items() if group in watched}
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


def choice_labels(choices) -> dict[str, str]:
    """A live page's labels for a model's choices, in the reader's language: live messages carry
    the value, the page looks the label up (the sender's language is not the reader's)."""
    return {value: str(label) for value, label in choices}


class BatchReceiver:
    """Mixin for websocket JSON consumers: a `live.batch` message is handled as the messages it
    carries, in order, and what the handlers send meanwhile goes to the browser as one frame,
    `{"type": "batch", "messages": [...]}` (a single message goes as itself). One frame instead of
    one each is most of what a busy fleet page costs the server; `static/core/live.js` unpacks it."""

    _collected: list | None = None

    async def dispatch(self, message):
        if message.get("type") == BATCH_TYPE:
            # channels' dispatch first closes stale database connections, a hop to a thread for
            # every message; a handler that needs the database goes through
            # database_sync_to_async, which does that itself.
            await self.live_batch(message)
            return
        await super().dispatch(message)

    async def live_batch(self, event):
        self._collected = []
        try:
            for message in event["messages"]:
                # The handler itself, not `dispatch` (see above), and its sends are collected.
                handler = getattr(self, get_handler_name(message), None)
                if handler is None:
                    raise ValueError(f"No handler for message type {message.get('type')!r}")
                await handler(message)
        finally:
            collected, self._collected = self._collected, None
        if len(collected) == 1:
            await self.send_json(collected[0])
        elif collected:
            await self.send_json({"type": "batch", "messages": collected})

    async def send_json(self, content, close=False):
        if self._collected is not None and not close:
            self._collected.append(content)
            return
        await super().send_json(content, close=close)
