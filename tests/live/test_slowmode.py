"""Slow mode: one question per participant per N seconds in a live session → 429."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from tests.conftest import Member
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import error_code

pytestmark = pytest.mark.asyncio


async def _ask(
    client: httpx2.AsyncClient, member: Member, thread_id: int, body: str
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": body, "kind": "question"},
        headers=member.headers,
    )


async def test_a_second_question_within_the_slow_mode_window_is_a_429_with_retry_after(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(
        client, organiser, starts_at=T0 + timedelta(days=3650), slow_mode_seconds=120
    )
    await client.post(f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers)
    thread_id = session["thread"]["id"]
    first = await _ask(client, alice, thread_id, "移住定住との違いは何でしょうか？")
    assert first.status_code == 201 and first.json()["status"] == "pending"
    second = await _ask(client, alice, thread_id, "続けてもう一つ質問です。")
    assert second.status_code == 429
    assert error_code(second) == "slow_mode"
    assert 100 < int(second.headers["Retry-After"]) <= 120
    other = await _ask(client, bob, thread_id, "別の参加者からの質問です。")
    assert other.status_code == 201
    staff = await _ask(client, organiser, thread_id, "司会から補足の質問です。")
    assert staff.status_code == 201
    staff_again = await _ask(client, organiser, thread_id, "司会からもう一つ。")
    assert staff_again.status_code == 201


async def test_slow_mode_off_lets_questions_through_and_plain_posts_are_never_slowed(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(
        client, organiser, starts_at=T0 + timedelta(days=3650), slow_mode_seconds=0
    )
    await client.post(f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers)
    thread_id = session["thread"]["id"]
    for body in ("一つ目の質問です。", "二つ目の質問です。"):
        assert (await _ask(client, alice, thread_id, body)).status_code == 201


async def test_a_question_outside_a_live_session_is_not_slowed(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser, starts_at=T0 + timedelta(days=3650))
    thread_id = session["thread"]["id"]
    for body in ("開始前の質問です。", "開始前の二つ目の質問です。"):
        assert (await _ask(client, alice, thread_id, body)).status_code == 201


async def test_with_pre_moderation_off_a_live_question_is_published_at_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(
        client, organiser, starts_at=T0 + timedelta(days=3650), premoderate=False
    )
    started = await client.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.json()["thread"]["moderation"] == "open"
    asked = await _ask(client, alice, session["thread"]["id"], "承認なしで公開されますか？")
    assert asked.status_code == 201 and asked.json()["status"] == "published"
