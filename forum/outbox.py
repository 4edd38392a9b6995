"""The transactional outbox: realtime events are rows written with the change that caused them.

``atomic()`` opens a transaction; events queued on it get their per-channel ``seq`` and
their row just before commit, and go to the broker only after the commit succeeded. A
publish that fails loses nothing: the rows are there, and the hub fills gaps from them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from forum.models import ChannelHead, OutboxEvent
from realtime.protocol import Event

__all__ = ["Publisher", "Tx", "atomic", "bind_publisher", "head", "prune", "read_events"]

log = logging.getLogger("koryu.outbox")


class Publisher(Protocol):
    async def publish(self, event: Event) -> None: ...


_publisher: Publisher | None = None


def bind_publisher(publisher: Publisher | None) -> None:
    global _publisher
    _publisher = publisher


@dataclass
class Tx:
    conn: BaseDBAsyncClient
    queued: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    written: list[Event] = field(default_factory=list)

    def emit(self, channel: str, name: str, data: dict[str, Any]) -> None:
        self.queued.append((channel, name, data))


_NEXT_SEQ = (
    "INSERT INTO channel_heads (channel, last_seq) VALUES ({0}, 1) "
    "ON CONFLICT (channel) DO UPDATE SET last_seq = channel_heads.last_seq + 1 "
    "RETURNING last_seq"
)
_INSERT_EVENT = (
    "INSERT INTO events (channel, seq, name, payload, created_at) VALUES ({0}, {1}, {2}, {3}, {4})"
)
_MARKS = {"postgres": ("$1", "$2", "$3", "$4::jsonb", "$5")}


async def _write(tx: Tx) -> None:
    # The upsert takes the channel's row lock on PostgreSQL (and the write lock on SQLite),
    # so concurrent writers get consecutive numbers in commit order: no gaps, no reuse.
    # Plain SQL: this runs for every event of every post.
    marks = _MARKS.get(tx.conn.capabilities.dialect, ("?",) * 5)
    next_seq = _NEXT_SEQ.format(marks[0])
    insert = _INSERT_EVENT.format(*marks)
    now = datetime.now(UTC)
    for channel, name, data in tx.queued:
        rows = await tx.conn.execute_query_dict(next_seq, [channel])
        seq = int(rows[0]["last_seq"])
        event = Event(channel=channel, seq=seq, name=name, data=data)
        await tx.conn.execute_query(insert, [channel, seq, name, _json(data), now])
        tx.written.append(event)
    tx.queued.clear()


def _json(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


@asynccontextmanager
async def atomic() -> AsyncIterator[Tx]:
    async with in_transaction() as conn:
        tx = Tx(conn=conn)
        yield tx
        await _write(tx)
    await publish(tx.written)


async def publish(events: Sequence[Event]) -> None:
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
