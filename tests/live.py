"""Reading a live websocket in tests as a page does: a frame is one message, or a batch of those
that arrived together (core.live.BatchReceiver)."""


async def receive_messages(communicator, count: int, timeout: float = 2) -> list[dict]:
    """The next `count` messages, unpacking batch frames; fails if a frame would split the count."""
    messages: list[dict] = []
    while len(messages) < count:
        frame = await communicator.receive_json_from(timeout=timeout)
        messages.extend(frame["messages"] if frame.get("type") == "batch" else [frame])
    assert len(messages) == count, f"expected {count} messages, got {len(messages)}: {messages}"
    return messages


async def receive_message(communicator, timeout: float = 2) -> dict:
    return (await receive_messages(communicator, 1, timeout))[0]
