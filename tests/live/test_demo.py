"""`koryu demo` loads a realistic programme on the forum's demo boards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forum.demo import load_demo
from live.archive import load_qa
from live.calendar import JST
from live.demo import load_programme
from live.models import LiveSession, SessionKind, SessionState

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)


async def test_the_demo_programme_has_a_forum_with_live_upcoming_and_ended_breakouts(
    db: None,
) -> None:
    assert await load_demo()
    assert await load_programme(NOW)
    assert not await load_programme(NOW)
    forum = await LiveSession.get(kind=SessionKind.FORUM)
    children = await LiveSession.filter(parent_id=forum.id).order_by("starts_at")
    breakouts = [c for c in children if c.kind is SessionKind.BREAKOUT]
    assert [b.state for b in breakouts] == [
        SessionState.ENDED,
        SessionState.LIVE,
        SessionState.SCHEDULED,
    ]
    assert len(children) == 4  # the plenary and three breakout sessions
    training = await LiveSession.get(kind=SessionKind.TRAINING)
    assert training.starts_at.astimezone(JST).month == 12
    ended = breakouts[0]
    qa = await load_qa(ended)
    assert len(qa) == 3 and qa[0].votes == 3 and qa[0].answers
    assert "匿名" in [item.asker for item in qa]
