"""The sessions API: create with a live thread, read, change, start and end."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest

from forum import events, outbox
from forum.models import Role
from live.models import LiveSession
from tests.conftest import Member, make_member
from tests.forum.support import counting_statements
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import error_code, event_names

pytestmark = pytest.mark.asyncio


async def test_a_board_moderator_creates_a_session_with_its_own_public_live_thread(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    expert = await make_member(username="expert-ito", role=Role.EXPERT)
    session = await new_session(client, organiser, experts=["expert-ito"])
    assert session["state"] == "scheduled"
    assert session["kind"] == "breakout"
    assert session["experts"][0]["username"] == expert.user.username
    assert session["starts_at"] == T0.isoformat()
    assert session["join_url"].startswith("http://testserver/j/")
    thread = session["thread"]
    assert thread["live"] is False and thread["post_count"] == 1
    seen = await client.get(f"/api/v1/threads/{thread['id']}", headers=alice.headers)
    assert seen.status_code == 200
    assert await event_names(events.session_channel(session["id"])) == ["session.updated"]


async def test_a_participant_cannot_create_a_session(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await setup_board(client, admin)
    body = {
        "title": "勉強会",
        "kind": "other",
        "board": "kankei",
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + timedelta(hours=1)).isoformat(),
    }
    response = await client.post("/api/v1/sessions", json=body, headers=alice.headers)
    assert response.status_code == 403


async def test_bad_session_input_is_a_422_naming_each_field(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    body = {
        "title": "",
        "kind": "party",
        "board": "kankei",
        "starts_at": "tomorrow",
        "ends_at": T0.isoformat(),
        "experts": ["nobody-here"],
    }
    response = await client.post("/api/v1/sessions", json=body, headers=organiser.headers)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"kind"}
    body["kind"] = "training"
    response = await client.post("/api/v1/sessions", json=body, headers=organiser.headers)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"starts_at"}
    body["starts_at"] = (T0 + timedelta(hours=2)).isoformat()
    response = await client.post("/api/v1/sessions", json=body, headers=organiser.headers)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"title", "ends_at", "experts"}


async def test_over_long_or_mistyped_session_fields_are_a_422_before_the_database(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    good = {
        "title": "研修会",
        "kind": "training",
        "board": "kankei",
        "starts_at": "2026-12-01T13:00",
        "ends_at": "2026-12-01T15:00",
    }
    hostile = {
        "board": "b" * 20_001,
        "title": "題" * 121,
        "description": "x" * 20_001,
        "url": "u" * 501,
        "starts_at": "2" * 41,
        "experts": "expert-ito",
        "moderators": ["m" * 33],
        "parent": 2**31,
        "slow_mode_seconds": 3601,
        "premoderate": "yes",
        "venue": "a\x00b",
    }
    for name, value in hostile.items():
        created = await client.post(
            "/api/v1/sessions", json={**good, name: value}, headers=organiser.headers
        )
        assert created.status_code == 422, (name, created.text)
        assert set(created.json()["error"]["fields"]) == {name}
        if name == "board":
            continue
        changed = await client.patch(
            f"/api/v1/sessions/{session['id']}", json={name: value}, headers=organiser.headers
        )
        assert changed.status_code == 422, (name, changed.text)
        assert set(changed.json()["error"]["fields"]) == {name}
    assert await LiveSession.filter(title="研修会").count() == 0


async def test_times_without_an_offset_are_read_as_japan_time(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    body = {
        "title": "研修会",
        "kind": "training",
        "board": "kankei",
        "starts_at": "2026-12-01T13:00",
        "ends_at": "2026-12-01T15:00",
    }
    response = await client.post("/api/v1/sessions", json=body, headers=organiser.headers)
    assert response.status_code == 201, response.text
    assert response.json()["starts_at"] == T0.isoformat()


async def test_the_organiser_changes_a_session_and_its_channel_hears_of_it(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    response = await client.patch(
        f"/api/v1/sessions/{session['id']}",
        json={"title": "分科会A（会場変更）", "venue": "第2会議室", "slow_mode_seconds": 60},
        headers=organiser.headers,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["title"] == "分科会A（会場変更）" and changed["venue"] == "第2会議室"
    assert changed["thread"]["title"] == "分科会A（会場変更）"
    names = await event_names(events.session_channel(session["id"]))
    assert names == ["session.updated", "session.updated"]
    thread_events = await event_names(events.thread_channel(session["thread"]["id"]))
    assert thread_events[-1] == "thread.updated"


async def test_a_session_cannot_be_moved_to_another_board(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    response = await client.patch(
        f"/api/v1/sessions/{session['id']}", json={"board": "other"}, headers=organiser.headers
    )
    assert response.status_code == 422
    assert error_code(response) == "invalid"


async def test_start_and_end_switch_the_thread_and_refuse_a_second_press(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser, starts_at=T0 + timedelta(days=3650))
    path = f"/api/v1/sessions/{session['id']}"
    assert (await client.post(f"{path}/start", headers=alice.headers)).status_code == 403
    started = await client.post(f"{path}/start", headers=organiser.headers)
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "live"
    assert started.json()["thread"]["live"] is True
    assert started.json()["thread"]["moderation"] == "premoderated"
    again = await client.post(f"{path}/start", headers=organiser.headers)
    assert again.status_code == 409 and error_code(again) == "invalid_state"
    ended = await client.post(f"{path}/end", headers=organiser.headers)
    assert ended.json()["state"] == "ended"
    assert ended.json()["thread"]["live"] is False and ended.json()["thread"]["locked"] is True
    thread_id = session["thread"]["id"]
    refused = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "まだ質問できますか？", "kind": "question"},
        headers=alice.headers,
    )
    assert refused.status_code == 403
    thread_events = await event_names(events.thread_channel(thread_id))
    assert thread_events.count("thread.updated") == 2


async def test_the_programme_lists_and_filters_sessions(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    await new_session(client, organiser, title="全国フォーラム 全体会", kind="forum")
    await new_session(client, organiser, title="研修会", kind="training")
    everything = (await client.get("/api/v1/sessions")).json()["items"]
    assert [s["title"] for s in everything] == ["全国フォーラム 全体会", "研修会"]
    training = (await client.get("/api/v1/sessions?kind=training")).json()["items"]
    assert [s["title"] for s in training] == ["研修会"]
    bad = await client.get("/api/v1/sessions?kind=party")
    assert bad.status_code == 400
    missing = await client.get("/api/v1/sessions/999")
    assert missing.status_code == 404


async def test_the_programme_reads_a_fixed_number_of_statements_however_long_it_is(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    expert = await make_member(username="panel-expert", role=Role.EXPERT)
    for n in range(2):
        await new_session(client, organiser, title=f"分科会{n}", experts=[expert.user.username])
    await outbox.settled()
    with counting_statements() as few:
        short = (await client.get("/api/v1/sessions")).json()["items"]
    for n in range(2, 8):
        await new_session(client, organiser, title=f"分科会{n}", experts=[expert.user.username])
    await outbox.settled()
    with counting_statements() as many:
        long = (await client.get("/api/v1/sessions")).json()["items"]
    assert len(short) == 2 and len(long) == 8
    assert len(many) == len(few), many
    assert all(s["experts"][0]["username"] == "panel-expert" for s in long)
    assert long[0]["description_html"] == "<p>登壇者と<strong>参加者</strong>の質疑応答です。</p>\n"
    one = (await client.get(f"/api/v1/sessions/{long[3]['id']}")).json()
    assert one == long[3]


async def test_a_thread_moderation_policy_is_set_and_cleared_by_the_boards_moderators(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    path = f"/api/v1/threads/{session['thread']['id']}"
    refused = await client.patch(path, json={"moderation": "open"}, headers=alice.headers)
    assert refused.status_code == 403
    bad = await client.patch(path, json={"moderation": "sometimes"}, headers=organiser.headers)
    assert bad.status_code == 422
    set_ = await client.patch(path, json={"moderation": "premoderated"}, headers=organiser.headers)
    assert set_.status_code == 200 and set_.json()["moderation"] == "premoderated"
    cleared = await client.patch(path, json={"moderation": None}, headers=organiser.headers)
    assert cleared.json()["moderation"] is None


async def test_a_board_name_or_parent_id_past_its_column_names_nothing_and_is_a_422(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await setup_board(client, admin)
    body = {
        "title": "勉強会",
        "kind": "other",
        "board": "k" * 41,
        "starts_at": T0.isoformat(),
        "ends_at": (T0 + timedelta(hours=1)).isoformat(),
        "experts": ["x" * 33, "nul\x00name"],
        "parent": 2**63,
    }
    response = await client.post("/api/v1/sessions", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    # The typed parser names every field past its bounds at once.
    assert set(response.json()["error"]["fields"]) == {"board", "experts", "parent"}
    response = await client.post(
        "/api/v1/sessions", json={**body, "board": "kankei"}, headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]["fields"]) == {"experts", "parent"}
