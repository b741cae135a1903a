"""Live messages that pile up while a send is in flight go together, one batch per group, in order,
and every consumer unpacks a batch into the messages it carries."""

import asyncio

import pytest

from core import live


def test_batches_group_messages_per_group_in_order_and_split_large_ones(monkeypatch):
    monkeypatch.setattr(live, "BATCH_MAX", 3)
    items = [(["a", "b"], {"type": "t", "n": n}, None) for n in range(5)] + [(["c"], {"type": "t", "n": 9}, None)]
    by_group = live._batches(items)
    assert [m["type"] for m in by_group["a"]] == [live.BATCH_TYPE, live.BATCH_TYPE]
    assert [[x["n"] for x in m["messages"]] for m in by_group["a"]] == [[0, 1, 2], [3, 4]]
    assert by_group["b"] == by_group["a"]
    assert by_group["c"] == [{"type": "t", "n": 9}]  # a lone message goes as itself


class _Socket:
    """Stands for the websocket consumer below the mixin: records the frames it would send."""

    def __init__(self):
        self.frames = []

    async def send_json(self, content, close=False):
        self.frames.append(content)


class _Consumer(live.BatchReceiver, _Socket):
    async def x(self, event):
        await self.send_json({"n": event["n"]})

    async def quiet(self, event):
        pass


def _batch(*messages):
    return {"type": live.BATCH_TYPE, "messages": list(messages)}


def test_a_consumer_handles_a_batch_as_its_messages_in_order_and_answers_with_one_frame():
    consumer = _Consumer()
    asyncio.run(consumer.dispatch(_batch(*({"type": "x", "n": n} for n in range(4)))))
    assert consumer.frames == [{"type": "batch", "messages": [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]}]
    # One message out goes as itself; none out sends nothing; outside a batch, sends go at once.
    asyncio.run(consumer.live_batch(_batch({"type": "x", "n": 7}, {"type": "quiet"})))
    asyncio.run(consumer.live_batch(_batch({"type": "quiet"})))
    asyncio.run(consumer.x({"n": 8}))
    assert consumer.frames[1:] == [{"n": 7}, {"n": 8}]


def test_a_batch_with_an_unknown_message_type_is_refused_and_sends_nothing_half_done():
    consumer = _Consumer()
    with pytest.raises(ValueError, match="nope"):
        asyncio.run(consumer.live_batch(_batch({"type": "x", "n": 1}, {"type": "nope"})))
    assert consumer.frames == []
    asyncio.run(consumer.live_batch(_batch({"type": "x", "n": 2})))  # and the next batch goes as usual
    assert consumer.frames == [{"n": 2}]


@pytest.mark.redis
def test_a_burst_through_redis_arrives_whole_and_in_order(settings):
    """500 messages handed over at once (as 500 heartbeats would) all reach a group member, in
    order, in far fewer channel messages than 500, and none is lost to the connection pool."""
    from channels.layers import get_channel_layer

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "capacity": 1000, "expiry": 30},
        }
    }
    from channels import layers

    layers.channel_layers.backends.pop("default", None)
    layer = get_channel_layer()
    group = "test.burst"

    async def join():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    loop = asyncio.new_event_loop()
    try:
        channel = loop.run_until_complete(join())
        for n in range(500):
            live.group_send_many([group, f"test.device.{n}"], {"type": "t", "n": n}, wait=(n == 499))

        async def drain():
            numbers, frames = [], 0
            while len(numbers) < 500:
                message = await asyncio.wait_for(layer.receive(channel), timeout=5)
                frames += 1
                inner = message["messages"] if message["type"] == live.BATCH_TYPE else [message]
                numbers.extend(m["n"] for m in inner)
            await layer.group_discard(group, channel)
            return numbers, frames

        numbers, frames = loop.run_until_complete(drain())
    finally:
        loop.close()
        layers.channel_layers.backends.pop("default", None)
    assert numbers == list(range(500))
    assert frames < 500
