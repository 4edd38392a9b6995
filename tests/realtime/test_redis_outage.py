"""Two hubs on a redis-server of the test's own, which the tests freeze (SIGSTOP) or kill.

The machine's Redis is never touched: KORYU_TEST_REDIS_URL only says that Redis tests
are wanted (CI sets it); without it these skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from realtime import Connection, Hub
from realtime.redis import RedisBroker
from tests.forum.scaleout_support import HOST, RedisServer
from tests.realtime.conftest import REDIS_URL
from tests.realtime.support import ANONYMOUS, Recorder, Store, eventually

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("KORYU_TEST_REDIS_URL is set but the redis-server binary is missing")
    server = RedisServer(binary, tmp_path)
    await server.start()
    try:
        yield server
    finally:
        thaw(server)
        server.stop()


def freeze(server: RedisServer) -> None:
    assert server.process is not None
    server.process.popen.send_signal(signal.SIGSTOP)


def thaw(server: RedisServer) -> None:
    if server.process is not None and server.process.alive:
        server.process.popen.send_signal(signal.SIGCONT)


async def redis_clients(server: RedisServer) -> int:
    """Connections the server holds, besides the one asking."""
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        writer.write(b"CLIENT LIST\r\n")
        header = await reader.readline()
        assert header.startswith(b"$"), header
        body = await reader.readexactly(int(header[1:]) + 2)
    finally:
        writer.close()
        await writer.wait_closed()
    return len(body.strip().splitlines()) - 1


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@asynccontextmanager
async def two_hubs(server: RedisServer, store: Store) -> AsyncIterator[tuple[Hub, Hub]]:
    url = f"{server.url}?channel=koryu:test:{uuid.uuid4().hex}"

    def hub() -> Hub:
        broker = RedisBroker(url, timeout=1.0, min_backoff=0.02, max_backoff=0.2)
        return Hub(broker, replay=store.replay, presence_interval=60.0)

    async with hub() as posting, hub() as other:
        yield posting, other


async def watch(hub: Hub) -> tuple[Connection, Recorder]:
    recorder = Recorder()
    conn = hub.attach(recorder, ANONYMOUS)
    await hub.subscribe(conn, "thread:1", 0)
    return conn, recorder


async def baseline() -> tuple[int, int]:
    await asyncio.sleep(1.5)  # a health check or two has run: every connection is open
    return len(asyncio.all_tasks()), open_fds()


async def test_while_redis_is_frozen_posting_returns_at_once_and_local_viewers_stay_live(
    redis: RedisServer,
) -> None:
    store = Store()
    async with two_hubs(redis, store) as (posting, other):
        _, here = await watch(posting)
        _, there = await watch(other)
        await posting.publish(store.append("thread:1"))
        await eventually(lambda: there.seqs() == [1])
        tasks, fds = await baseline()
        clients = await redis_clients(redis)

        freeze(redis)
        loop = asyncio.get_running_loop()
        for _ in range(5):
            started = loop.time()
            await posting.publish(store.append("thread:1"))
            assert loop.time() - started < 0.05
        await eventually(lambda: here.seqs() == [1, 2, 3, 4, 5, 6], seconds=1)
        await eventually(lambda: posting.broker_problem is not None, seconds=3)
        assert not await posting.healthy()
        assert there.seqs() == [1]

        thaw(redis)
        await eventually(lambda: there.seqs() == [1, 2, 3, 4, 5, 6], seconds=10)
        await eventually(lambda: posting.broker_problem is None, seconds=5)
        await eventually(lambda: other.broker_problem is None, seconds=5)
        await asyncio.sleep(0.5)
        assert here.seqs() == there.seqs() == [1, 2, 3, 4, 5, 6]
        await eventually(lambda: (len(asyncio.all_tasks()), open_fds()) == (tasks, fds))
        assert await redis_clients(redis) == clients


async def test_after_redis_is_killed_and_restarted_sockets_and_tasks_return_to_baseline(
    redis: RedisServer,
) -> None:
    store = Store()
    async with two_hubs(redis, store) as (posting, other):
        _, here = await watch(posting)
        _, there = await watch(other)
        await posting.publish(store.append("thread:1"))
        await eventually(lambda: there.seqs() == [1])
        tasks, fds = await baseline()
        clients = await redis_clients(redis)

        redis.kill()
        for _ in range(3):
            async with asyncio.timeout(0.05):
                await posting.publish(store.append("thread:1"))
        await eventually(lambda: here.seqs() == [1, 2, 3, 4], seconds=1)
        await eventually(lambda: posting.broker_problem is not None, seconds=3)
        await eventually(lambda: other.broker_problem is not None, seconds=3)

        await redis.start()
        await eventually(lambda: there.seqs() == [1, 2, 3, 4], seconds=10)
        await eventually(lambda: posting.broker_problem is None, seconds=5)
        await eventually(lambda: other.broker_problem is None, seconds=5)
        await asyncio.sleep(0.5)
        assert here.seqs() == there.seqs() == [1, 2, 3, 4]
        await eventually(lambda: (len(asyncio.all_tasks()), open_fds()) == (tasks, fds))
        assert await redis_clients(redis) == clients
