"""An anonymous question names its asker only in moderation, to the board's moderators,
beside a 匿名 marker: the thread, the API and the socket say 匿名 to everyone else,
the asker and an expert who moderates the board included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx2
import orjson
import pytest
from websockets.asyncio.client import ClientConnection

from forum import events
from forum.app import create_app
from forum.config import Settings
from forum.models import Role
from tests.conftest import Member, make_member
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import decide, queue
from tests.realtime.support import Frame, open_ws, recv, serve, subscribe

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"
QUESTION = "匿名で、予算の確保について伺います。"


@dataclass
class Stage:
    session: dict[str, Any]
    organiser: Member
    expert: Member
    asker: Member
    other: Member

    @property
    def thread_id(self) -> int:
        return int(self.session["thread"]["id"])


async def live_session(client: httpx2.AsyncClient, admin: Member) -> Stage:
    """A live session whose expert also moderates its board."""
    organiser = await setup_board(client, admin)
    expert = await make_member(username="expert-ito", role=Role.EXPERT)
    made = await client.put(
        "/api/v1/boards/kankei/moderators/expert-ito",
        json={"role": "moderator"},
        headers=admin.headers,
    )
    assert made.status_code == 200, made.text
    session = await new_session(
        client,
        organiser,
        starts_at=T0 + timedelta(days=3650),
        experts=["expert-ito"],
        slow_mode_seconds=0,
    )
    started = await client.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    asker = await make_member(username="bob-asker", display_name="山田 花子")
    other = await make_member(username="carol")
    return Stage(session, organiser, expert, asker, other)


async def ask(client: httpx2.AsyncClient, stage: Stage) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/threads/{stage.thread_id}/posts",
        json={"body": QUESTION, "kind": "question", "anonymous": True},
        headers=stage.asker.headers,
    )
    assert response.status_code == 201, response.text
    asked: dict[str, Any] = response.json()
    return asked


async def approve_all(client: httpx2.AsyncClient, stage: Stage) -> None:
    for item in await queue(client, stage.organiser):
        assert (await decide(client, stage.organiser, item, "approve")).status_code == 200


def article(page: str, post_id: int) -> str:
    found = re.search(rf'<article [^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert found, f"post {post_id} is not on the page"
    return found.group(0)


def names_asker(text: str) -> bool:
    return "山田" in text or "bob-asker" in text


async def test_the_thread_page_shows_an_anonymous_question_as_anonymous_to_everyone(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    stage = await live_session(client, admin)
    asked = await ask(client, stage)
    await approve_all(client, stage)
    for viewer in (stage.expert, stage.organiser, stage.asker, stage.other, None):
        headers = viewer.headers if viewer else {}
        page = await client.get(f"/t/{stage.thread_id}", headers=headers)
        assert page.status_code == 200
        shown = article(page.text, asked["id"])
        assert QUESTION in shown
        assert "匿名の参加者" in shown
        assert not names_asker(shown), viewer


async def test_no_api_answer_outside_moderation_names_an_anonymous_asker(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    stage = await live_session(client, admin)
    asked = await ask(client, stage)
    assert asked["anonymous"] is True and asked["author"] is None
    await approve_all(client, stage)
    for viewer in (stage.expert, stage.organiser, stage.asker, stage.other):
        one = await client.get(f"/api/v1/posts/{asked['id']}", headers=viewer.headers)
        assert one.json()["author"] is None
        listed = await client.get(
            f"/api/v1/threads/{stage.thread_id}/posts", headers=viewer.headers
        )
        assert not names_asker(listed.text)
    edited = await client.patch(
        f"/api/v1/posts/{asked['id']}",
        json={"body": QUESTION + "（補足）"},
        headers=stage.organiser.headers,
    )
    assert edited.status_code == 200 and edited.json()["author"] is None
    session_path = f"/sessions/{stage.session['id']}"
    ended = await client.post(f"/api/v1{session_path}/end", headers=stage.organiser.headers)
    assert ended.status_code == 200, ended.text
    exported = await client.get(f"{session_path}/export.csv")
    assert QUESTION in exported.content.decode("utf-8-sig")
    assert not names_asker(exported.content.decode("utf-8-sig"))
    for path in (session_path, f"{session_path}/export.md", f"{session_path}/report"):
        shown = await client.get(path, headers=stage.expert.headers)
        assert shown.status_code == 200, path
        assert "匿名" in shown.text and not names_asker(shown.text), path


async def test_the_queue_names_an_anonymous_asker_to_moderators_beside_a_marker(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    stage = await live_session(client, admin)
    await ask(client, stage)
    [item] = await queue(client, stage.expert)
    assert item["post"]["anonymous"] is True
    assert item["post"]["author"]["username"] == "bob-asker"
    page = await client.get("/moderation", headers=stage.expert.headers)
    assert page.status_code == 200
    row = page.text[page.text.index("山田 花子") :][:400]
    assert "匿名の質問" in row
    refused = await client.get("/api/v1/moderation/queue", headers=stage.other.headers)
    assert not names_asker(refused.text)


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, httpx2.AsyncClient]]:
    app = create_app(replace(settings, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as api:
            yield url, api


async def viewer(url: str, member: Member) -> ClientConnection:
    return await open_ws(url, origin=ORIGIN, additional_headers=member.headers)


async def next_event(ws: ClientConnection, name: str) -> Frame:
    for _ in range(20):
        frame = await recv(ws)
        if frame["type"] == "event" and frame["name"] == name:
            return frame
    raise AssertionError(f"no {name} event")


async def test_over_the_socket_only_the_moderation_channel_names_an_anonymous_asker(
    served: tuple[str, httpx2.AsyncClient],
) -> None:
    url, api = served
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    stage = await live_session(api, admin)
    thread = (await api.get(f"/api/v1/threads/{stage.thread_id}")).json()
    expert = await viewer(url, stage.expert)
    await subscribe(expert, events.thread_channel(stage.thread_id), after=thread["seq"])
    await subscribe(expert, events.moderation_channel("kankei"))
    asker = await viewer(url, stage.asker)
    await subscribe(asker, events.user_channel(stage.asker.user.id))

    asked = await ask(api, stage)
    pending = await next_event(asker, "post.pending")
    assert pending["data"]["id"] == asked["id"]
    assert not names_asker(orjson.dumps(pending).decode())
    item = await next_event(expert, "item.created")
    assert item["data"]["post"]["author"]["username"] == "bob-asker"
    assert item["data"]["post"]["anonymous"] is True

    await approve_all(api, stage)
    created = await next_event(expert, "post.created")
    assert created["data"]["id"] == asked["id"]
    assert created["data"]["author"] is None
    assert not names_asker(orjson.dumps(created).decode())
    await expert.close()
    await asker.close()
