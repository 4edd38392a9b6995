"""Publishing never waits on the broker: local viewers first, the broker through a queue."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import pytest

from realtime import BrokerUnavailable, Connection, Event, Hub, MemoryBroker, MemoryBus
from realtime.broker import Listener, ReconnectHook
from realtime.publisher import Publisher
from tests.realtime.support import ANONYMOUS, Recorder, Store, eventually


class _Fast(TypedDict):
    check_interval: float
    check_timeout: float
    publish_timeout: float


FAST = _Fast(check_interval=0.05, check_timeout=0.05, publish_timeout=0.1)


class HangingBroker:
    """A broker whose publish and health check never answer, like a frozen Redis."""

    def __init__(self) -> None:
        self.thawed = asyncio.Event()
        self.published: list[Event] = []

    def set_listener(
        self, callback: Listener, *, on_reconnect: ReconnectHook | None = None
    ) -> None:
        pass

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def publish(self, event: Event) -> None:
        await self.thawed.wait()
        self.published.append(event)

    async def healthy(self) -> bool:
        await self.thawed.wait()
        return True


class SwitchedBroker(MemoryBroker):
    """A memory broker whose publishes fail while `down` is set, as with Redis stopped."""

    def __init__(self, bus: MemoryBus) -> None:
        super().__init__(bus)
        self.down = False
        self.attempts = 0

    async def publish(self, event: Event) -> None:
        self.attempts += 1
        if self.down:
            raise BrokerUnavailable("connection refused")
        await super().publish(event)

    async def healthy(self) -> bool:
        return not self.down and await super().healthy()


async def watch(hub: Hub, channel: str = "thread:1") -> tuple[Connection, Recorder]:
    recorder = Recorder()
    conn = hub.attach(recorder, ANONYMOUS)
    await hub.subscribe(conn, channel, 0)
    return conn, recorder


@asynccontextmanager
async def two_processes(
    store: Store, **options: float
) -> AsyncIterator[tuple[Hub, SwitchedBroker, Hub]]:
    """A posting hub whose broker can be switched off, and another process on the same bus."""
    bus = MemoryBus()
    broker = SwitchedBroker(bus)
    async with (
        Hub(broker, replay=store.replay, **{**FAST, **options}) as posting,  # type: ignore[arg-type]
        Hub(MemoryBroker(bus), replay=store.replay, **FAST) as other,
    ):
        yield posting, broker, other


async def test_a_publish_returns_at_once_and_local_viewers_get_it_while_the_broker_hangs() -> None:
    store = Store()
    broker = HangingBroker()
    async with Hub(broker, replay=store.replay, **FAST) as hub:
        _, recorder = await watch(hub)

        for _ in range(3):
            async with asyncio.timeout(0.05):
                await hub.publish(store.append("thread:1"))

        await eventually(lambda: recorder.seqs() == [1, 2, 3], seconds=1)
        await eventually(lambda: hub.broker_problem is not None, seconds=1)
        assert not await hub.healthy()
        assert broker.published == []
        broker.thawed.set()
        await eventually(lambda: len(broker.published) == 3, seconds=2)
        assert [e.seq for e in broker.published] == [1, 2, 3]
        await eventually(lambda: hub.broker_problem is None, seconds=1)
        assert await hub.healthy()
        assert recorder.seqs() == [1, 2, 3]


async def test_the_broker_echo_of_a_local_event_is_not_delivered_twice() -> None:
    store = Store()
    async with Hub(MemoryBroker(), replay=store.replay, **FAST) as hub:
        _, live = await watch(hub)
        for _ in range(5):
            await hub.publish(store.append("thread:1"))
        # A viewer still in its subscribe replay when the events and their echoes arrive.
        store.hold = lambda *_: asyncio.sleep(0.05)
        joining = asyncio.create_task(watch(hub))
        await asyncio.sleep(0.01)
        for _ in range(3):
            await hub.publish(store.append("thread:1"))
        _, late = await joining

        await eventually(lambda: live.seqs() == list(range(1, 9)))
        await eventually(lambda: late.seqs() == list(range(1, 9)))
        await asyncio.sleep(0.1)  # every echo has come back by now
        assert live.seqs() == list(range(1, 9))
        assert late.seqs() == list(range(1, 9))


async def test_events_held_back_by_an_outage_reach_other_processes_in_order_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    caplog.set_level(logging.INFO)
    async with two_processes(store) as (posting, broker, other):
        _, here = await watch(posting)
        _, there = await watch(other)
        await posting.publish(store.append("thread:1"))
        await eventually(lambda: there.seqs() == [1])

        broker.down = True
        for _ in range(4):
            await posting.publish(store.append("thread:1"))
        await eventually(lambda: here.seqs() == [1, 2, 3, 4, 5])
        await eventually(lambda: broker.attempts > 8)  # retried, and failing
        assert there.seqs() == [1]
        assert not await posting.healthy()

        broker.down = False
        await eventually(lambda: there.seqs() == [1, 2, 3, 4, 5])
        await eventually(lambda: posting.broker_problem is None)
        await asyncio.sleep(0.1)
        assert there.seqs() == [1, 2, 3, 4, 5]
        assert here.seqs() == [1, 2, 3, 4, 5]

    changes = [r.getMessage() for r in caplog.records if r.name == "realtime.publisher"]
    assert len(changes) == 2, changes
    assert changes[0] == "realtime broker degraded: connection refused"
    assert re.fullmatch(
        r"realtime broker recovered after \d+\.\d s: 4 events held back, 0 dropped", changes[1]
    ), changes[1]
    assert all(r.exc_info is None for r in caplog.records)


async def test_a_full_queue_drops_its_oldest_and_other_processes_recheck_the_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    caplog.set_level(logging.INFO)
    async with two_processes(store, publish_limit=2) as (posting, broker, other):
        _, there = await watch(other, "thread:1")
        broker.down = True
        for _ in range(4):
            await posting.publish(store.append("thread:1"))
        for _ in range(2):
            await posting.publish(store.append("thread:2"))
        await eventually(lambda: not posting._publisher.healthy)
        assert posting._publisher.pending == 2  # thread:2's two: thread:1's gave way

        broker.down = False
        # Nothing more comes on thread:1: only a recheck of the events table brings them.
        await eventually(lambda: there.seqs() == [1, 2, 3, 4])
        await eventually(lambda: posting.broker_problem is None)
    recovered = [r.getMessage() for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1 and recovered[0].endswith(" 4 dropped"), recovered


async def test_a_health_check_without_an_answer_marks_the_broker_degraded_within_its_timeout() -> (
    None
):
    broker = HangingBroker()
    publisher = Publisher(broker, check_interval=0.05, check_timeout=0.1)
    await publisher.start()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await eventually(lambda: not publisher.healthy, seconds=1)
        assert loop.time() - started < 0.5
        assert publisher.problem == "no answer to the health check within 0.1 s"
        broker.thawed.set()
        await eventually(lambda: publisher.healthy, seconds=1)
    finally:
        await publisher.stop()


async def test_tasks_return_to_their_baseline_after_an_outage() -> None:
    store = Store()
    async with two_processes(store) as (posting, broker, other):
        _, there = await watch(other)
        await posting.publish(store.append("thread:1"))
        await eventually(lambda: there.seqs() == [1])
        await asyncio.sleep(0.1)
        baseline = len(asyncio.all_tasks())

        broker.down = True
        for _ in range(20):
            await posting.publish(store.append("thread:1"))
        await eventually(lambda: broker.attempts > 5)
        broker.down = False
        await eventually(lambda: there.seqs() == list(range(1, 22)))
        await eventually(lambda: posting.broker_problem is None)
        await asyncio.sleep(0.1)

        assert len(asyncio.all_tasks()) == baseline


async def test_stopping_sends_what_is_still_queued() -> None:
    bus = MemoryBus()
    received: list[int] = []
    listener = MemoryBroker(bus)
    listener.set_listener(lambda event: received.append(event.seq))
    await listener.connect()
    broker = MemoryBroker(bus)
    await broker.connect()
    publisher = Publisher(broker)
    await publisher.start()
    for seq in range(1, 51):
        publisher.offer(Event("thread:1", seq, "post.created", {}))

    await publisher.stop()

    await eventually(lambda: len(received) == 50)
    assert received == list(range(1, 51))
    await listener.disconnect()
    await broker.disconnect()


async def test_a_queue_that_overflows_while_the_broker_is_up_reports_what_it_dropped() -> None:
    class Slow(MemoryBroker):
        async def publish(self, event: Event) -> None:
            await asyncio.sleep(0.02)
            await super().publish(event)

    broker = Slow()
    await broker.connect()
    dropped: list[int] = []
    publisher = Publisher(broker, limit=2, on_dropped=dropped.append)
    await publisher.start()
    try:
        for seq in range(1, 7):
            publisher.offer(Event("thread:1", seq, "post.created", {}))

        await eventually(lambda: publisher.pending == 0)
        assert dropped == [4]  # offered before the sender ran: 1 to 4 gave way to 5 and 6
        assert publisher.healthy
    finally:
        await publisher.stop()
        await broker.disconnect()


def test_the_publish_queue_must_be_bounded() -> None:
    with pytest.raises(ValueError, match="bounded"):
        Publisher(MemoryBroker(), limit=0)
