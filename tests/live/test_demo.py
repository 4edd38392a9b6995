"""`koryu demo` loads a realistic programme on the forum's demo boards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.demo import load_demo
from forum.models import AnswerState, Post, PostKind, User
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


async def test_the_live_session_of_the_demo_has_questions_votes_and_a_written_answer(
    db: None,
) -> None:
    assert await load_demo()
    assert await load_programme(NOW)
    live = await LiveSession.get(state=SessionState.LIVE, kind=SessionKind.BREAKOUT)
    thread_id = live.thread_id  # type: ignore[attr-defined]
    questions = await Post.filter(thread_id=thread_id, kind=PostKind.QUESTION).order_by("id")
    assert len(questions) >= 4 and all(q.votes for q in questions)
    states = {q.answer_state for q in questions}
    assert {AnswerState.ANSWERED_WRITTEN, AnswerState.ANSWERING, AnswerState.ASSIGNED} <= states
    written = next(q for q in questions if q.answer_state is AnswerState.ANSWERED_WRITTEN)
    [answer] = await Post.filter(reply_to_id=written.id, kind=PostKind.ANSWER)
    assert answer.author_id == (await User.get(username="expert-suzuki")).id  # type: ignore[attr-defined]
    stamps = [p.created_at for p in await Post.filter(thread_id=thread_id).order_by("id")]
    assert len(set(stamps)) == len(stamps)
    assert all(live.starts_at <= s <= NOW for s in stamps)


async def test_the_demo_names_only_fictional_places_and_spreads_its_posts_over_weeks(
    db: None,
) -> None:
    assert await load_demo()
    organisations = " ".join([str(u.organisation) for u in await User.all()])
    for real in ("小海町", "雲南市", "長野県", "島根県", "全国移住ナビ"):
        assert real not in organisations
    rows = await Post.all()
    bodies = " ".join(p.body for p in rows)
    assert "小海町" not in bodies and "雲南市" not in bodies and "go.jp" not in bodies
    stamps = [p.created_at for p in rows]
    assert len(set(stamps)) == len(stamps)
    assert max(stamps) - min(stamps) > timedelta(days=14)
