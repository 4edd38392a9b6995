"""Sessions move by the clock: exactly once, however many processes tick together."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx2
import pytest

from forum import events
from forum.models import Notification, NotificationKind, Thread
from live import transitions
from live.models import LiveSession, SessionState
from live.ticker import run_ticker
from tests.conftest import Member
from tests.live.support import T0, FakeClock, new_session, setup_board
from tests.moderation.support import event_names

pytestmark = pytest.mark.asyncio


async def test_the_clock_takes_a_session_live_ended_and_archived_with_no_manual_step(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser, minutes=60)
    clock = FakeClock(T0 - timedelta(minutes=1))
    assert await transitions.tick(clock()) == []
    moved = await transitions.tick(clock.advance(minutes=1))
    assert [(m.before, m.after) for m in moved] == [(SessionState.SCHEDULED, SessionState.LIVE)]
    row = await LiveSession.get(id=session["id"])
    assert row.state is SessionState.LIVE and row.started_at == T0
    thread = await Thread.get(id=session["thread"]["id"])
    assert thread.live and thread.moderation is not None
    assert await transitions.tick(clock.advance(minutes=59)) == []
    ended = await transitions.tick(clock.advance(minutes=1))
    assert [m.after for m in ended] == [SessionState.ENDED]
    thread = await Thread.get(id=session["thread"]["id"])
    assert not thread.live and thread.locked
    archived = await transitions.tick(clock.advance(days=1))
    assert [m.after for m in archived] == [SessionState.ARCHIVED]
    names = await event_names(events.session_channel(session["id"]))
    assert names == ["session.updated"] * 4


async def test_a_session_whose_whole_slot_passed_goes_live_and_ends_in_one_tick(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser, minutes=30)
    moved = await transitions.tick(T0 + timedelta(hours=2))
    assert [m.after for m in moved] == [SessionState.LIVE, SessionState.ENDED]
    assert (await LiveSession.get(id=session["id"])).state is SessionState.ENDED


async def test_racing_ticks_make_one_transition_and_one_event(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    results = await asyncio.gather(*(transitions.tick(T0) for _ in range(4)))
    assert sum(len(r) for r in results) == 1
    assert await event_names(events.session_channel(session["id"])) == ["session.updated"] * 2
    thread_events = await event_names(events.thread_channel(session["thread"]["id"]))
    assert thread_events.count("thread.updated") == 1


async def test_a_conditional_move_from_a_stale_state_does_nothing(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    first = await transitions.move(session["id"], SessionState.SCHEDULED, T0)
    second = await transitions.move(session["id"], SessionState.SCHEDULED, T0)
    assert first.moved and not second.moved


async def test_followers_get_a_stored_notice_when_the_session_goes_live(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    path = f"/api/v1/sessions/{session['id']}/follow"
    assert (await client.put(path, headers=alice.headers)).json()["following"] is True
    assert (await client.put(path, headers=alice.headers)).json()["following"] is True
    await client.put(path, headers=bob.headers)
    assert (await client.delete(path, headers=bob.headers)).json()["following"] is False
    await transitions.tick(T0)
    notices = await Notification.filter(kind=NotificationKind.SESSION_LIVE)
    assert [n.user_id for n in notices] == [alice.user.id]  # type: ignore[attr-defined]
    listed = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert listed["items"][0]["message"] == (
        "フォローしているイベント「分科会A 関係人口と地域の担い手」が始まりました。"
    )
    assert listed["items"][0]["url"] == f"/sessions/{session['id']}"
    assert "notification.created" in await event_names(events.user_channel(alice.user.id))


async def test_the_viewer_peak_only_rises_and_only_for_live_sessions(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    live = await new_session(client, organiser)
    later = await new_session(client, organiser, starts_at=T0 + timedelta(days=1))
    await transitions.tick(T0)
    counts = {
        events.thread_channel(live["thread"]["id"]): 40,
        events.thread_channel(later["thread"]["id"]): 7,
    }
    assert await transitions.record_viewers(lambda channel: counts.get(channel, 0)) == 1
    counts[events.thread_channel(live["thread"]["id"])] = 25
    assert await transitions.record_viewers(lambda channel: counts.get(channel, 0)) == 0
    assert (await LiveSession.get(id=live["id"])).viewer_peak == 40
    assert (await LiveSession.get(id=later["id"])).viewer_peak == 0
    await transitions.tick(T0 + timedelta(hours=3))
    report = await client.get(f"/sessions/{live['id']}/report")
    assert 'id="figure-viewers">40<' in report.text


async def test_the_ticker_moves_a_due_session_and_samples_viewers_until_stopped(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    clock = FakeClock(T0 + timedelta(minutes=1))
    stop = asyncio.Event()
    sampled = asyncio.Event()
    channel = events.thread_channel(session["thread"]["id"])

    def viewers(name: str) -> int:
        if name != channel:
            return 0
        sampled.set()  # asked only once the session is live
        return 12

    task = asyncio.create_task(run_ticker(stop, clock=clock, every=0.01, viewers=viewers))
    await asyncio.wait_for(sampled.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)  # the round in progress finishes first
    assert (await LiveSession.get(id=session["id"])).viewer_peak == 12
    assert (await LiveSession.get(id=session["id"])).state is SessionState.LIVE
