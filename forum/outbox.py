"""The transactional outbox: realtime events are rows written with the change that caused them.

``atomic()`` opens a transaction; events queued on it get their per-channel ``seq`` and
their row just before commit (or at ``Tx.flush()``, for a caller that needs the numbers
inside the transaction), and go to the broker only after the commit succeeded. A publish
that fails loses nothing: the rows are there, and the hub fills gaps from them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from forum.events import Outgoing
from forum.models import ChannelHead, OutboxEvent
from realtime.protocol import Event

__all__ = [
    "AFTER_COMMIT_TASK",
    "Publisher",
    "Tx",
    "atomic",
    "bind_publisher",
    "head",
    "heads",
    "prune",
    "read_events",
    "settled",
]

log = logging.getLogger("koryu.outbox")


class Publisher(Protocol):
    async def publish(self, event: Event) -> None:
        """Hand a committed event on; must not wait on the broker (the hub only queues it)."""
        ...


_publisher: Publisher | None = None


def bind_publisher(publisher: Publisher | None) -> None:
    global _publisher
    _publisher = publisher


@dataclass
class Tx:
    conn: BaseDBAsyncClient
    queued: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    written: list[Event] = field(default_factory=list)
    committed: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, work: Callable[[], Awaitable[None]]) -> None:
        """Start ``work`` once this transaction committed and its events went out (fan-out of
        notices), as a task of its own: the request that committed does not wait for it.
        Never for a transaction that rolled back; a failure is only logged, since what it
        follows is committed already. ``settled()`` waits for all of them."""
        self.committed.append(work)

    def emit(self, *events: Outgoing) -> None:
        """Queue events (built by ``forum.events``); they are numbered at commit or flush."""
        self.queued.extend((e.channel, e.name.value, _plain(e.data)) for e in events)

    async def flush(self) -> list[Event]:
        """Number and write the queued events now, and return them with their seqs.

        For a payload that must name a seq of this same transaction (a new thread's
        head): the numbers come from the outbox, never from a guess at ``head + 1``.
        """
        start = len(self.written)
        await _write(self)
        return self.written[start:]

    def seq_of(self, channel: str) -> int | None:
        """The last seq this transaction wrote on ``channel`` so far, if any."""
        for event in reversed(self.written):
            if event.channel == channel:
                return event.seq
        return None


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    return data if type(data) is dict else dict(data)


# PostgreSQL: one statement per event. The upsert in the CTE takes the channel's row lock
# until commit, so concurrent writers get consecutive numbers in commit order: no gaps, no
# reuse. Data-modifying CTEs run exactly once, whether or not the outer query reads them.
_PG_EVENT = (
    "WITH h AS ("
    "INSERT INTO channel_heads (channel, last_seq) VALUES ($1, 1) "
    "ON CONFLICT (channel) DO UPDATE SET last_seq = channel_heads.last_seq + 1 "
    "RETURNING last_seq) "
    "INSERT INTO events (channel, seq, name, payload, created_at) "
    "SELECT $1, last_seq, $2, $3::jsonb, $4 FROM h RETURNING seq"
)
# SQLite has no data-modifying CTEs: one upsert moves every channel of the transaction on
# by its number of events, one multi-row insert writes the events. The transaction holds
# SQLite's write lock, so nobody numbers in between.
_SQLITE_HEADS = (
    "INSERT INTO channel_heads (channel, last_seq) VALUES {rows} "
    "ON CONFLICT (channel) DO UPDATE SET last_seq = channel_heads.last_seq + excluded.last_seq "
    "RETURNING channel, last_seq"
)
_SQLITE_EVENTS = "INSERT INTO events (channel, seq, name, payload, created_at) VALUES {rows}"
_SQLITE_CHUNK = 500  # rows per statement, far below SQLite's bound-parameter limit


async def _write(tx: Tx) -> None:
    # Plain SQL: this runs for every event of every post, inside the transaction.
    if not tx.queued:
        return
    now = datetime.now(UTC)
    if tx.conn.capabilities.dialect == "postgres":
        for channel, name, data in tx.queued:
            rows = await tx.conn.execute_query_dict(_PG_EVENT, [channel, name, _json(data), now])
            tx.written.append(Event(channel=channel, seq=int(rows[0]["seq"]), name=name, data=data))
    else:
        await _write_sqlite(tx, now)
    tx.queued.clear()


async def _write_sqlite(tx: Tx, now: datetime) -> None:
    counts = Counter(channel for channel, _, _ in tx.queued)
    heads: dict[str, int] = {}
    items = list(counts.items())
    for i in range(0, len(items), _SQLITE_CHUNK):
        chunk = items[i : i + _SQLITE_CHUNK]
        query = _SQLITE_HEADS.format(rows=", ".join(["(?, ?)"] * len(chunk)))
        rows = await tx.conn.execute_query_dict(query, [v for pair in chunk for v in pair])
        heads.update((row["channel"], int(row["last_seq"])) for row in rows)
    # A channel with n events in this transaction gets last_seq - n + 1 … last_seq, in order.
    next_seq = {channel: heads[channel] - n + 1 for channel, n in counts.items()}
    events: list[Event] = []
    for channel, name, data in tx.queued:
        events.append(Event(channel=channel, seq=next_seq[channel], name=name, data=data))
        next_seq[channel] += 1
    for i in range(0, len(events), _SQLITE_CHUNK):
        batch = events[i : i + _SQLITE_CHUNK]
        query = _SQLITE_EVENTS.format(rows=", ".join(["(?, ?, ?, ?, ?)"] * len(batch)))
        values = [v for e in batch for v in (e.channel, e.seq, e.name, _json(e.data), now)]
        await tx.conn.execute_query(query, values)
    tx.written.extend(events)


def _json(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


@asynccontextmanager
async def atomic() -> AsyncIterator[Tx]:
    async with in_transaction() as conn:
        tx = Tx(conn=conn)
        yield tx
        await _write(tx)
    await publish(tx.written)
    for work in tx.committed:
        task = asyncio.create_task(_after_commit(work), name=AFTER_COMMIT_TASK)
        _pending.add(task)
        task.add_done_callback(_pending.discard)


AFTER_COMMIT_TASK = "koryu-after-commit"
_pending: set[asyncio.Task[None]] = set()


async def _after_commit(work: Callable[[], Awaitable[None]]) -> None:
    try:
        await work()
    except Exception:
        log.exception("work after commit failed")


async def settled() -> None:
    """Wait until the work started after commits so far has finished (at shutdown, so no
    notice is lost; in tests, before looking for notices)."""
    while _pending:
        await asyncio.gather(*_pending, return_exceptions=True)


async def publish(events: Sequence[Event]) -> None:
    # Runs on the request's path, after commit: the hub delivers locally and queues for the
    # broker, so a down or frozen Redis never delays the response.
    if _publisher is None:
        return
    for event in events:
        try:
            await _publisher.publish(event)
        except Exception:
            # Committed already: viewers catch up from the events table.
            log.warning("publish failed for %s#%s", event.channel, event.seq, exc_info=True)
            return


async def head(channel: str) -> int:
    row = await ChannelHead.get_or_none(channel=channel)
    return int(row.last_seq) if row else 0


async def heads(channels: Sequence[str]) -> dict[str, int]:
    """The heads of many channels in one query (0 for a channel with no events yet)."""
    rows = await ChannelHead.filter(channel__in=list(channels)).values("channel", "last_seq")
    found = {str(row["channel"]): int(row["last_seq"]) for row in rows}
    return {channel: found.get(channel, 0) for channel in channels}


async def read_events(channel: str, after: int, until: int | None = None) -> list[Event]:
    query = OutboxEvent.filter(channel=channel, seq__gt=after)
    if until is not None:
        query = query.filter(seq__lte=until)
    rows = await query.order_by("seq").limit(10_000)
    return [Event(channel=r.channel, seq=int(r.seq), name=r.name, data=r.payload) for r in rows]


async def oldest_seq(channel: str) -> int | None:
    row = await OutboxEvent.filter(channel=channel).order_by("seq").first()
    return int(row.seq) if row else None


async def prune(retention: timedelta) -> int:
    """Drop events older than the retention window; subscribers from before get a resync."""
    cutoff = datetime.now(UTC) - retention
    return int(await OutboxEvent.filter(created_at__lt=cutoff).delete())
