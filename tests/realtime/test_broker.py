from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from urllib.parse import urlsplit

import pytest

from realtime import BrokerUnavailable, Event, MemoryBroker, create_broker
from realtime.redis import RedisBroker
from tests.realtime.conftest import REDIS_URL, BrokerFactory
from tests.realtime.support import TcpProxy, eventually

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")


async def test_every_connected_broker_receives_each_event_in_publish_order(
    broker_factory: BrokerFactory,
) -> None:
    publisher, first, second = broker_factory(), broker_factory(), broker_factory()
    received: dict[str, list[Event]] = {"first": [], "second": []}
    first.set_listener(received["first"].append)
    second.set_listener(received["second"].append)
    for broker in (publisher, first, second):
        await broker.connect()
    try:
        sent = [Event("thread:1", seq, "post.created", {"n": seq}) for seq in range(1, 101)]
        for event in sent:
            await publisher.publish(event)

        await eventually(lambda: all(len(events) == 100 for events in received.values()))
        assert received["first"] == sent
        assert received["second"] == sent
        assert await first.healthy()
    finally:
        for broker in (publisher, first, second):
            await broker.disconnect()


async def test_publishing_on_a_disconnected_broker_raises_broker_unavailable(
    broker_factory: BrokerFactory,
) -> None:
    broker = broker_factory()

    with pytest.raises(BrokerUnavailable):
        await broker.publish(Event("thread:1", 1, "post.created", {}))
    assert not await broker.healthy()


async def test_memory_broker_publish_returns_before_listeners_run() -> None:
    broker = MemoryBroker()
    received: list[Event] = []
    broker.set_listener(received.append)
    await broker.connect()

    await broker.publish(Event("thread:1", 1, "post.created", {}))

    assert received == []
    await eventually(lambda: len(received) == 1)
    await broker.disconnect()


def test_create_broker_chooses_the_backend_by_url_scheme() -> None:
    assert isinstance(create_broker("memory://"), MemoryBroker)
    assert isinstance(create_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    assert isinstance(create_broker("rediss://cache.example:6380/1"), RedisBroker)
    with pytest.raises(ValueError, match="unsupported broker URL scheme"):
        create_broker("amqp://localhost")


def test_realtime_imports_neither_redis_nor_the_forum_until_asked() -> None:
    code = (
        "import sys, realtime; realtime.create_broker('memory://');"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'redis', 'forum', 'moderation'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "[]"


@needs_redis
async def test_redis_outage_fails_publish_then_reconnects_and_reports_it() -> None:
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    channel = f"koryu:test:{uuid.uuid4().hex}"
    proxied = RedisBroker(
        f"redis://127.0.0.1:{proxy.port}{target.path}",
        channel=channel,
        min_backoff=0.02,
        max_backoff=0.1,
        timeout=1.0,
    )
    direct = RedisBroker(REDIS_URL, channel=channel)
    received: list[int] = []
    reconnected = asyncio.Event()
    proxied.set_listener(lambda event: received.append(event.seq), on_reconnect=reconnected.set)
    await proxied.connect()
    await direct.connect()
    try:
        await direct.publish(Event("thread:1", 1, "post.created", {}))
        await eventually(lambda: received == [1])

        await proxy.stop()
        with pytest.raises(BrokerUnavailable):
            await proxied.publish(Event("thread:1", 2, "post.created", {}))
        await eventually(lambda: not proxied._subscribed)
        assert not await proxied.healthy()
        await direct.publish(Event("thread:1", 2, "post.created", {}))  # lost for `proxied`

        await proxy.start()
        async with asyncio.timeout(5):
            await reconnected.wait()
        await direct.publish(Event("thread:1", 3, "post.created", {}))
        await eventually(lambda: received == [1, 3])
        assert await proxied.healthy()
    finally:
        await proxied.disconnect()
        await direct.disconnect()
        await proxy.stop()


async def test_connect_fails_loudly_when_redis_is_unreachable() -> None:
    broker = RedisBroker("redis://127.0.0.1:1/0", timeout=0.5)

    with pytest.raises(BrokerUnavailable):
        await broker.connect()
