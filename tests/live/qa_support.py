"""A live session with two experts, a moderator and an audience, for the Q&A tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2

from forum.models import Role
from tests.conftest import Member, make_member
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import decide, queue

__all__ = ["Hall", "approve_all", "ask", "move", "open_hall", "vote"]


@dataclass
class Hall:
    session: dict[str, Any]
    organiser: Member  # moderates the board
    ito: Member  # expert of the session
    mori: Member  # expert of the session
    asker: Member
    audience: list[Member]

    @property
    def thread_id(self) -> int:
        return int(self.session["thread"]["id"])


async def open_hall(client: httpx2.AsyncClient, admin: Member, *, audience: int = 3) -> Hall:
    organiser = await setup_board(client, admin)
    ito = await make_member(username="expert-ito", role=Role.EXPERT, display_name="伊藤 教授")
    mori = await make_member(username="expert-mori", role=Role.EXPERT, display_name="森 代表")
    session = await new_session(
        client,
        organiser,
        starts_at=T0 + timedelta(days=3650),
        experts=["expert-ito", "expert-mori"],
        slow_mode_seconds=0,
    )
    started = await client.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    asker = await make_member(username="bob-asker", display_name="山田 花子")
    people = [await make_member(username=f"viewer-{n}") for n in range(audience)]
    return Hall(session, organiser, ito, mori, asker, people)


async def ask(
    client: httpx2.AsyncClient,
    hall: Hall,
    body: str = "関係人口の担い手をどう育てますか。",
    *,
    by: Member | None = None,
    anonymous: bool = False,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": body, "kind": "question", "anonymous": anonymous},
        headers=(by or hall.asker).headers,
    )
    assert response.status_code == 201, response.text
    asked: dict[str, Any] = response.json()
    return asked


async def approve_all(client: httpx2.AsyncClient, hall: Hall) -> None:
    for item in await queue(client, hall.organiser):
        assert (await decide(client, hall.organiser, item, "approve")).status_code == 200


async def move(
    client: httpx2.AsyncClient, member: Member, post_id: int, state: str, **extra: Any
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/posts/{post_id}/answer-state",
        json={"state": state, **extra},
        headers=member.headers,
    )


async def vote(client: httpx2.AsyncClient, member: Member, post_id: int) -> None:
    response = await client.put(f"/api/v1/posts/{post_id}/vote", headers=member.headers)
    assert response.status_code == 200, response.text
