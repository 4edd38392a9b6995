"""Delivery guarantees end to end: a real uvicorn, the websockets client, every broker."""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from urllib.parse import urlsplit

import pytest
from websockets.exceptions import ConnectionClosed

from realtime import BrokerUnavailable, Hub, MemoryBroker, MemoryBus
from realtime.redis import RedisBroker
from tests.realtime.conftest import REDIS_URL, BrokerFactory
from tests.realtime.support import (
    RAW_SEND,
    Store,
    TcpProxy,
    assert_quiet,
    connected,
    event_seqs,
    make_app,
    open_ws,
    recv,
    running,
    send,
    serve,
    subscribe,
    visible,
)


@pytest.fixture(autouse=True, params=["raw", "asgi"])
def socket_writes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every delivery test runs with fan-out writing pre-built frames to uvicorn's
    transport, and with frames going through ASGI `send` only."""
    monkeypatch.setitem(RAW_SEND, "enabled", request.param == "raw")
    return str(request.param)


async def test_connections_write_raw_frames_exactly_when_the_app_captures_the_send(
    socket_writes: str,
) -> None:
    store = Store()
    hub = Hub(MemoryBroker(MemoryBus()), replay=store.replay, visible=visible)
    async with serve(make_app(hub)) as url:
        ws = await open_ws(url)
        await subscribe(ws, "thread:1", after=0)
        connections = list(hub._connections)
        assert [c.raw for c in connections] == [socket_writes == "raw"]
        await ws.close()


async def test_twenty_concurrent_publishers_arrive_in_order_without_gaps(
    broker_factory: BrokerFactory,
) -> None:
    store, rng = Store(), random.Random(42)
    async with (
        running(store, broker_factory()) as url,
        connected(broker_factory()) as publisher,
    ):
        viewers = [await open_ws(url) for _ in range(3)]
        for ws in viewers:
            assert await subscribe(ws, "thread:1", after=0) == {
                "type": "subscribed",
                "channel": "thread:1",
                "seq": 0,
            }

        async def publish_ten() -> None:
            for _ in range(10):
                event = store.append("thread:1")
                # Commit order and publish order disagree, as they do between workers.
                await asyncio.sleep(rng.uniform(0, 0.003))
                await publisher.publish(event)

        async with asyncio.timeout(10):
            await asyncio.gather(*(publish_ten() for _ in range(20)))
        for ws in viewers:
            assert await event_seqs(ws, 200) == list(range(1, 201))
            await assert_quiet(ws)
            await ws.close()
        assert any(until is not None for _, _, until in store.calls), "no gap was ever filled"


async def test_a_returning_viewer_gets_exactly_the_fifty_events_it_missed(
    broker_factory: BrokerFactory,
) -> None:
    store = Store()
    async with running(store, broker_factory()) as url, connected(broker_factory()) as publisher:
        ws = await open_ws(url)
        await subscribe(ws, "thread:1", after=0)
        for _ in range(5):
            await publisher.publish(store.append("thread:1"))
        assert await event_seqs(ws, 5) == [1, 2, 3, 4, 5]
        await ws.close()

        for _ in range(50):
            await publisher.publish(store.append("thread:1"))

        ws = await open_ws(url)
        assert await subscribe(ws, "thread:1", after=5) == {
            "type": "subscribed",
            "channel": "thread:1",
            "seq": 55,
        }
        assert await event_seqs(ws, 50) == list(range(6, 56))
        await assert_quiet(ws)
        await publisher.publish(store.append("thread:1"))
        assert await event_seqs(ws, 1) == [56]
        await ws.close()


@pytest.mark.parametrize("snapshot_late", [False, True], ids=["head-10", "head-15"])
@pytest.mark.parametrize("watched", [True, False], ids=["watched", "new-channel"])
async def test_events_published_during_the_subscribe_replay_are_neither_lost_nor_doubled(
    broker_factory: BrokerFactory, snapshot_late: bool, watched: bool
) -> None:
    store = Store()
    for _ in range(10):
        store.append("thread:1")
    entered, release = asyncio.Event(), asyncio.Event()

    async def hold(channel: str, after: int | None, until: int | None) -> None:
        if after == 5:
            entered.set()
            await release.wait()

    store.hold, store.snapshot_late = hold, snapshot_late
    async with running(store, broker_factory()) as url, connected(broker_factory()) as publisher:
        watcher = await open_ws(url)
        if watched:
            await subscribe(watcher, "thread:1")
        late = await open_ws(url)
        await send(late, {"type": "subscribe", "channel": "thread:1", "after": 5})
        async with asyncio.timeout(5):
            await entered.wait()

        for _ in range(5):
            await publisher.publish(store.append("thread:1"))
        if watched:
            assert await event_seqs(watcher, 5) == [11, 12, 13, 14, 15]
        else:
            await asyncio.sleep(0.1)
        release.set()

        head = 15 if snapshot_late else 10
        assert await recv(late) == {"type": "subscribed", "channel": "thread:1", "seq": head}
        assert await event_seqs(late, 10) == list(range(6, 16))
        await publisher.publish(store.append("thread:1"))
        assert await event_seqs(late, 1) == [16]
        await assert_quiet(late)
        await late.close()
        await watcher.close()


async def test_a_viewer_that_never_reads_is_closed_with_4008_while_others_get_everything(
    broker_factory: BrokerFactory,
) -> None:
    store, total, padding = Store(), 300, "あ" * 3000
    async with (
        running(store, broker_factory(), hub={"queue_size": 16}, send_buffer=32768) as url,
        connected(broker_factory()) as publisher,
    ):
        host, port = urlsplit(url).hostname, urlsplit(url).port
        # A tiny receive window and a one-frame client queue: nothing is read.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, port))
        slow = await open_ws(url, sock=sock, max_queue=1)
        fast = await open_ws(url)
        await subscribe(slow, "thread:1", after=0)
        await subscribe(fast, "thread:1", after=0)

        reader = asyncio.create_task(event_seqs(fast, total))
        for _ in range(total):
            await publisher.publish(store.append("thread:1", body=padding))
            await asyncio.sleep(0.001)
        async with asyncio.timeout(10):
            assert await reader == list(range(1, total + 1))

        seqs: list[int] = []
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                for _ in range(total + 1):
                    seqs.append((await recv(slow))["seq"])
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4008
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) < total
        await fast.close()


async def test_a_forbidden_channel_gets_an_error_frame_and_no_events(
    broker_factory: BrokerFactory,
) -> None:
    store = Store()
    async with running(store, broker_factory()) as url, connected(broker_factory()) as publisher:
        anonymous, admin = await open_ws(url), await open_ws(url, user="admin")

        assert await subscribe(anonymous, "secret:1", after=0) == {
            "type": "error",
            "code": "forbidden",
            "channel": "secret:1",
            "message": "you may not read this channel",
        }
        assert (await subscribe(admin, "secret:1", after=0))["type"] == "subscribed"
        await publisher.publish(store.append("secret:1"))

        assert await event_seqs(admin, 1) == [1]
        await assert_quiet(anonymous)
        await anonymous.close()
        await admin.close()


async def test_each_event_is_checked_against_each_viewer(broker_factory: BrokerFactory) -> None:
    store = Store()
    async with running(store, broker_factory()) as url, connected(broker_factory()) as publisher:
        anonymous, admin = await open_ws(url), await open_ws(url, user="admin")
        store.append("thread:1", hidden=True)
        await subscribe(anonymous, "thread:1", after=0)
        await subscribe(admin, "thread:1", after=0)
        for hidden in (False, True, False):
            await publisher.publish(store.append("thread:1", hidden=hidden))

        assert await event_seqs(admin, 4) == [1, 2, 3, 4]
        assert await event_seqs(anonymous, 2) == [2, 4]
        await assert_quiet(anonymous)
        await anonymous.close()
        await admin.close()


async def test_a_seq_the_broker_never_carried_is_filled_in(broker_factory: BrokerFactory) -> None:
    store = Store()
    async with running(store, broker_factory()) as url, connected(broker_factory()) as publisher:
        ws = await open_ws(url)
        await subscribe(ws, "thread:1", after=0)
        first, _, third = (store.append("thread:1") for _ in range(3))

        await publisher.publish(first)
        await publisher.publish(third)

        assert await event_seqs(ws, 3) == [1, 2, 3]
        await assert_quiet(ws)
        await ws.close()


async def test_a_viewer_behind_pruned_history_is_told_to_resync() -> None:
    store = Store()
    for _ in range(30):
        store.append("thread:1")
    store.pruned["thread:1"] = 20
    async with running(store, MemoryBroker()) as url:
        ws = await open_ws(url)
        assert await subscribe(ws, "thread:1", after=5) == {
            "type": "resync",
            "channel": "thread:1",
            "seq": 30,
        }
        await assert_quiet(ws)
        await ws.close()


@pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")
async def test_events_lost_while_redis_was_down_reach_viewers_after_it_returns() -> None:
    target = urlsplit(REDIS_URL)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    await proxy.start()
    channel = f"koryu:test:{uuid.uuid4().hex}"
    behind_proxy = RedisBroker(
        f"redis://127.0.0.1:{proxy.port}{target.path}",
        channel=channel,
        timeout=1.0,
        min_backoff=0.02,
        max_backoff=0.1,
    )
    store = Store()
    try:
        async with (
            running(store, behind_proxy) as url,
            connected(RedisBroker(REDIS_URL, channel=channel)) as publisher,
        ):
            ws = await open_ws(url)
            await subscribe(ws, "thread:1", after=0)
            await publisher.publish(store.append("thread:1"))
            assert await event_seqs(ws, 1) == [1]

            await proxy.stop()
            with pytest.raises(BrokerUnavailable):
                await behind_proxy.publish(store.append("thread:1"))
            await publisher.publish(store.append("thread:1"))  # nobody is listening
            await proxy.start()

            assert await event_seqs(ws, 2) == [2, 3]
            await assert_quiet(ws)
            await ws.close()
    finally:
        await proxy.stop()
