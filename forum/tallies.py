"""Coalesced vote tallies: a storm of votes reaches viewers as one event a second per thread.

A vote changes ``Post.votes`` in its own transaction and emits nothing; the voter's HTTP
answer carries the new count. Every process runs ``run_tallies``: once a ``TALLY_EVERY``
tick it claims, thread by thread, the questions whose ``votes`` differ from
``tallied_votes`` with one conditional ``UPDATE … SET tallied_votes = votes WHERE votes <>
tallied_votes`` and writes ONE ``votes.tallied`` event with those absolute counts through
the outbox, in the same transaction. The claim is what keeps several processes from
sending a change twice: on PostgreSQL a second ticker blocks on (or skips) the rows the
first holds and, once it commits, finds them equal; SQLite has one writer at a time.

Each claim's event is numbered after the claim (the channel's head row is locked after the
post rows), so for any question the event with the highest seq carries the count last
claimed, and once the votes stop ``tallied_votes == votes``: a viewer folding the channel
from any seq (a resume, a replay after a drop) ends on the right counts.

A process looks only at the threads it took votes for since its last tick (``mark``), and
every ``SWEEP_EVERY`` seconds at every thread with an untallied question, so votes taken
by a process that stopped before its tick still go out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from tortoise import connections

from forum import events, outbox
from forum.models import PostKind, PostStatus

__all__ = ["SWEEP_EVERY", "TALLY_EVERY", "mark", "run_tallies", "tally", "tally_marked"]

log = logging.getLogger("koryu.tallies")

# At most one votes.tallied per thread and tick of a process; the ticks of all processes
# fall on the same wall-clock instants, so the first claim of a tick takes what there is.
TALLY_EVERY = 1.0
SWEEP_EVERY = 30.0

# Threads this process took votes for since its last tick.
_marked: set[int] = set()

_QUESTION = PostKind.QUESTION.value
_PUBLISHED = PostStatus.PUBLISHED.value

# PostgreSQL: lock the candidates in id order (two tickers never deadlock on each other)
# and skip rows another ticker or a vote holds right now: the next tick gets them.
_PG_CLAIM = (
    "UPDATE posts SET tallied_votes = votes WHERE id IN ("
    "SELECT id FROM posts WHERE thread_id = $1 AND kind = $2 AND status = $3 "
    "AND votes <> tallied_votes ORDER BY id FOR UPDATE SKIP LOCKED) "
    "AND votes <> tallied_votes RETURNING id, votes"
)
_SQLITE_CLAIM = (
    "UPDATE posts SET tallied_votes = votes WHERE thread_id = ? AND kind = ? AND status = ? "
    "AND votes <> tallied_votes RETURNING id, votes"
)
_UNTALLIED = (
    "SELECT DISTINCT thread_id FROM posts WHERE kind = {p1} AND status = {p2} "
    "AND votes <> tallied_votes"
)


def mark(thread_id: int) -> None:
    """A vote changed a count in this thread: tally it at this process's next tick."""
    _marked.add(thread_id)


async def tally(thread_ids: Iterable[int]) -> int:
    """Claim and send the changed counts of these threads, one event per thread at most.

    Returns how many events were written. A thread with nothing to claim writes nothing.
    """
    sent = 0
    for thread_id in sorted(set(thread_ids)):
        async with outbox.atomic() as tx:
            postgres = tx.conn.capabilities.dialect == "postgres"
            rows = await tx.conn.execute_query_dict(
                _PG_CLAIM if postgres else _SQLITE_CLAIM, [thread_id, _QUESTION, _PUBLISHED]
            )
            if rows:
                tallies = sorted(
                    (events.VoteTally(id=int(r["id"]), votes=int(r["votes"])) for r in rows),
                    key=lambda t: t["id"],
                )
                tx.emit(events.votes_tallied(thread_id, tallies))
                sent += 1
    return sent


async def untallied_threads() -> set[int]:
    """Every thread with a published question whose count was not sent yet."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    query = _UNTALLIED.format(p1="$1" if postgres else "?", p2="$2" if postgres else "?")
    rows = await conn.execute_query_dict(query, [_QUESTION, _PUBLISHED])
    return {int(r["thread_id"]) for r in rows}


async def tally_marked() -> int:
    """Tally the threads this process took votes for since the last call."""
    threads = set(_marked)
    _marked.difference_update(threads)
    try:
        return await tally(threads)
    except BaseException:
        _marked.update(threads)  # not sent: the next tick tries again
        raise


async def run_tallies(
    stop: asyncio.Event, *, every: float = TALLY_EVERY, sweep_every: float = SWEEP_EVERY
) -> None:
    """Tally marked threads every ``every`` seconds, on the wall clock's multiples of it,
    and every thread with an untallied question at start and every ``sweep_every``."""
    next_sweep = 0.0
    while True:
        now = time.time()
        try:
            async with asyncio.timeout(every - now % every):
                await stop.wait()
        except TimeoutError:
            pass
        else:
            # Shutting down: what this process took is sent now, not at the next start.
            try:
                await tally_marked()
            except Exception:
                log.warning("sending the last vote tallies failed", exc_info=True)
            return
        try:
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + sweep_every
                _marked.update(await untallied_threads())
            await tally_marked()
        except Exception:
            log.warning("sending vote tallies failed", exc_info=True)
