"""The outbox numbers each channel's events 1, 2, 3… with no gap, also under concurrent writers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from forum import app as app_module
from forum import outbox
from forum.app import create_app
from forum.config import Settings
from forum.events import Name, Outgoing
from forum.models import OutboxEvent
from realtime.protocol import Event

pytestmark = pytest.mark.asyncio


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)


class Broken:
    async def publish(self, event: Event) -> None:
        raise ConnectionError("broker down")


async def test_concurrent_writers_get_consecutive_numbers_per_channel(app: Starlette) -> None:
    async def write(i: int) -> None:
        async with outbox.atomic() as tx:
            tx.emit(Outgoing("thread:1", Name.POST_CREATED, {"n": i}))
            tx.emit(Outgoing(f"thread:{2 + i % 2}", Name.POST_CREATED, {"n": i}))

    await asyncio.gather(*(write(i) for i in range(20)))
    for channel, count in {"thread:1": 20, "thread:2": 10, "thread:3": 10}.items():
        seqs = [e.seq for e in await outbox.read_events(channel, 0)]
        assert seqs == list(range(1, count + 1))
        assert await outbox.head(channel) == count


async def test_events_are_published_only_after_commit_and_not_on_rollback(app: Starlette) -> None:
    recorder = Recorder()
    outbox.bind_publisher(recorder)
    try:
        with pytest.raises(RuntimeError):
            async with outbox.atomic() as tx:
                tx.emit(Outgoing("thread:9", Name.POST_CREATED, {"n": 1}))
                raise RuntimeError("the change failed")
        assert recorder.events == []
        assert await OutboxEvent.filter(channel="thread:9").count() == 0
        async with outbox.atomic() as tx:
            tx.emit(Outgoing("thread:9", Name.POST_CREATED, {"n": 2}))
        assert [(e.seq, e.data) for e in recorder.events] == [(1, {"n": 2})]
    finally:
        outbox.bind_publisher(None)


async def test_a_broken_broker_loses_nothing_committed(app: Starlette) -> None:
    outbox.bind_publisher(Broken())
    try:
        async with outbox.atomic() as tx:
            tx.emit(Outgoing("thread:5", Name.POST_CREATED, {"n": 1}))
    finally:
        outbox.bind_publisher(None)
    assert [e.data for e in await outbox.read_events("thread:5", 0)] == [{"n": 1}]


async def test_read_events_is_bounded_and_prune_drops_old_rows(app: Starlette) -> None:
    for i in range(5):
        async with outbox.atomic() as tx:
            tx.emit(Outgoing("board:x", Name.THREAD_CREATED, {"n": i}))
    assert [e.seq for e in await outbox.read_events("board:x", 1, until=3)] == [2, 3]
    assert await outbox.prune(timedelta(days=1)) == 0
    assert await outbox.prune(timedelta(seconds=-1)) == 5
    assert await outbox.oldest_seq("board:x") is None
    assert await outbox.head("board:x") == 5  # numbering continues after a prune


async def test_the_app_prunes_on_schedule_and_stops_without_cutting_a_query_short(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "PRUNE_FIRST_AFTER", 0.05)
    # On a loaded machine the first prune may come before the rows below are aged.
    monkeypatch.setattr(app_module, "PRUNE_EVERY", 0.05)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        async with outbox.atomic() as tx:
            tx.emit(Outgoing("board:old", Name.THREAD_CREATED, {"n": 1}))
            tx.emit(Outgoing("board:new", Name.THREAD_CREATED, {"n": 2}))
        too_old = datetime.now(UTC) - timedelta(days=settings.event_retention_days + 1)
        await OutboxEvent.filter(channel="board:old").update(created_at=too_old)
        for _ in range(250):  # up to 5 s
            if await outbox.oldest_seq("board:old") is None:
                break
            await asyncio.sleep(0.02)
        assert await outbox.oldest_seq("board:old") is None
        assert await outbox.oldest_seq("board:new") == 1
    # Leaving the lifespan waited for the pruner: nothing is left running on the loop.
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "koryu-prune"]


async def test_flush_hands_back_the_seqs_it_assigned_inside_the_transaction(
    app: Starlette,
) -> None:
    async with outbox.atomic() as tx:
        tx.emit(Outgoing("thread:4", Name.POST_CREATED, {"n": 1}))
    async with outbox.atomic() as tx:
        tx.emit(Outgoing("thread:4", Name.POST_CREATED, {"n": 2}))
        flushed = await tx.flush()
        assert [(e.channel, e.seq) for e in flushed] == [("thread:4", 2)]
        assert tx.seq_of("thread:4") == 2
        assert tx.seq_of("board:x") is None
        tx.emit(Outgoing("board:x", Name.THREAD_CREATED, {"seq": tx.seq_of("thread:4")}))
    assert [(e.channel, e.seq, e.data) for e in tx.written] == [
        ("thread:4", 2, {"n": 2}),
        ("board:x", 1, {"seq": 2}),
    ]
    assert await outbox.head("thread:4") == 2


async def test_heads_reads_many_channels_at_once_with_zero_for_a_quiet_one(db: None) -> None:
    async with outbox.atomic() as tx:
        tx.emit(Outgoing("board:a", Name.THREAD_CREATED, {"n": 1}))
        tx.emit(Outgoing("board:a", Name.THREAD_CREATED, {"n": 2}))
        tx.emit(Outgoing("board:b", Name.THREAD_CREATED, {"n": 3}))
    assert await outbox.heads(["board:a", "board:b", "board:quiet"]) == {
        "board:a": 2,
        "board:b": 1,
        "board:quiet": 0,
    }
