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


def _next_seq_sql(dialect: str) -> str:
    mark = "$1" if dialect == "postgres" else "?"
    return (
        f"INSERT INTO channel_heads (channel, last_seq) VALUES ({mark}, 1) "  # noqa: S608
        "ON CONFLICT (channel) DO UPDATE SET last_seq = channel_heads.last_seq + 1 "
        "RETURNING last_seq"
    )


async def _write(tx: Tx) -> None:
    # The upsert takes the channel's row lock on PostgreSQL (and the write lock on SQLite),
    # so concurrent writers get consecutive numbers in commit order: no gaps, no reuse.
    sql = _next_seq_sql(tx.conn.capabilities.dialect)
    for channel, name, data in tx.queued:
        rows = await tx.conn.execute_query_dict(sql, [channel])
        seq = int(rows[0]["last_seq"])
        await OutboxEvent.create(
            channel=channel, seq=seq, name=name, payload=data, using_db=tx.conn
        )
        tx.written.append(Event(channel=channel, seq=seq, name=name, data=data))
    tx.queued.clear()


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
