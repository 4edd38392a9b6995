"""The report's votes per minute, read from the thread's coalesced tallies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forum import events, outbox
from forum.events import Name, Outgoing
from forum.models import OutboxEvent
from live.archive import votes_per_minute

pytestmark = pytest.mark.asyncio


async def test_votes_per_minute_count_each_question_s_change_between_tallies(db: None) -> None:
    channel = events.thread_channel(7)
    async with outbox.atomic() as tx:
        # Written before tallies were coalesced: one vote each.
        tx.emit(Outgoing(channel, Name.VOTE_CHANGED, {"id": 1, "votes": 1}))
        tx.emit(Outgoing(channel, Name.VOTE_CHANGED, {"id": 1, "votes": 2}))
        tx.emit(events.votes_tallied(7, [{"id": 1, "votes": 5}, {"id": 2, "votes": 3}]))
        tx.emit(Outgoing(channel, Name.POST_CREATED, {"id": 3}))
        tx.emit(events.votes_tallied(7, [{"id": 2, "votes": 1}]))
    first = datetime(2026, 12, 1, 4, 0, 10, tzinfo=UTC)
    second = datetime(2026, 12, 1, 4, 1, 30, tzinfo=UTC)
    for seq, at in ((1, first), (2, first), (3, first), (4, first), (5, second)):
        await OutboxEvent.filter(channel=channel, seq=seq).update(created_at=at)
    counts = await votes_per_minute(channel)
    # 1 + 1 legacy votes, then +3 and +3 in the first tally; two taken back in the second.
    assert dict(counts) == {first.replace(second=0): 8, second.replace(second=0): 2}
