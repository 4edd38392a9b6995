"""The moderation queue narrowed to one live session: its thread's items, for its moderators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2
import pytest

from tests.conftest import Member, make_member
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import board_staff, error_code, new_board, queue
from tests.moderation.test_pages import sign_in

pytestmark = pytest.mark.asyncio


async def live(
    client: httpx2.AsyncClient, organiser: Member, title: str, **extra: Any
) -> dict[str, Any]:
    session = await new_session(
        client,
        organiser,
        title=title,
        starts_at=T0 + timedelta(days=3650),
        slow_mode_seconds=0,
        **extra,
    )
    started = await client.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    return session


async def ask(client: httpx2.AsyncClient, asker: Member, session: dict[str, Any], body: str) -> int:
    response = await client.post(
        f"/api/v1/threads/{session['thread']['id']}/posts",
        json={"body": body, "kind": "question"},
        headers=asker.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return int(response.json()["id"])


async def test_the_queue_filtered_by_session_holds_only_that_sessions_questions(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    first = await live(client, organiser, "分科会A")
    second = await live(client, organiser, "分科会B")
    in_first = await ask(client, alice, first, "Aへの質問です")
    in_second = await ask(client, alice, second, "Bへの質問です")
    assert len(await queue(client, organiser)) == 2
    narrowed = await queue(client, organiser, session=str(first["id"]))
    assert [i["post"]["id"] for i in narrowed] == [in_first]
    assert [i["post"]["id"] for i in await queue(client, organiser, session=str(second["id"]))] == [
        in_second
    ]


async def test_a_session_of_a_board_one_does_not_moderate_is_404_in_the_queue(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await live(client, organiser, "分科会A")
    await ask(client, alice, session, "質問です")
    await new_board(client, admin, "chiiki")
    elsewhere = await board_staff(client, admin, "chiiki", username="mod-chiiki")
    response = await client.get(
        "/api/v1/moderation/queue", params={"session": session["id"]}, headers=elsewhere.headers
    )
    assert response.status_code == 404 and error_code(response) == "not_found"
    missing = await client.get(
        "/api/v1/moderation/queue", params={"session": 999999}, headers=organiser.headers
    )
    assert missing.status_code == 404
    bad = await client.get(
        "/api/v1/moderation/queue", params={"session": "abc"}, headers=organiser.headers
    )
    assert bad.status_code == 400 and error_code(bad) == "bad_query"


async def test_the_queue_page_offers_the_live_and_coming_sessions_of_ones_boards(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    first = await live(client, organiser, "分科会A")
    coming = await new_session(
        client, organiser, title="分科会C", starts_at=T0 + timedelta(days=3651)
    )
    other_board = await setup_board(client, admin, "chiiki2")
    hidden = await new_session(
        client,
        other_board,
        board="chiiki2",
        title="他の掲示板の会",
        starts_at=T0 + timedelta(days=3651),
    )
    await ask(client, alice, first, "Aへの質問です")
    outsider = await make_member(username="carol")
    await ask(client, outsider, first, "もう一つの質問です")
    await sign_in(client, organiser)
    page = (await client.get("/moderation", params={"session": first["id"]})).text
    assert 'id="filter-session"' in page
    assert f'<option value="{first["id"]}" selected>配信中 — 分科会A</option>' in page
    assert f'<option value="{coming["id"]}">' in page and "分科会C" in page
    assert f'<option value="{hidden["id"]}"' not in page and "他の掲示板の会" not in page
    assert page.count('class="mod-item"') == 2
