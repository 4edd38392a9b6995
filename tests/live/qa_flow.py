"""The live Q&A flow over HTTP and several WebSockets, written once for one process (SQLite
and the memory broker) and for two processes (PostgreSQL and Redis).

ask (anonymous) → held → approved → every viewer sees it → assigned → answering → written
answer → answered. Each viewer folds the thread's events into its copy of the questions;
at the end each copy equals a fresh fetch, and no frame of the thread names the asker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import orjson
from websockets.asyncio.client import ClientConnection

from forum import events
from tests.realtime.support import Frame, open_ws, subscribe

__all__ = ["Endpoint", "run_flow"]

PASSWORD = "correct horse battery"
QUESTION = "匿名で伺います。移住者の受け入れ体制をどう整えましたか。"
ANSWER = "役場と中間支援組織で窓口を一つにしました。"
# What a copy of a post is compared on.
KEYS = ("id", "kind", "author", "reply_to", "votes", "answer_state", "assigned_to", "similar_count")


@dataclass
class Endpoint:
    """One serving process: its HTTP client and its WebSocket URL."""

    http: httpx2.AsyncClient
    ws_url: str
    origin: str


@dataclass
class Viewer:
    name: str
    ws: ClientConnection
    channel: str
    seq: int
    posts: dict[int, dict[str, Any]]
    frames: list[Frame] = field(default_factory=list)
    others: list[Frame] = field(default_factory=list)

    async def follow_until(self, head: int) -> None:
        """Read the thread's events up to ``head``, folding each into the copy."""
        async with asyncio.timeout(15):
            while self.seq < head:
                frame: Frame = orjson.loads(await self.ws.recv())
                if frame["type"] != "event" or frame.get("channel") != self.channel:
                    self.others.append(frame)
                    continue
                assert frame["seq"] == self.seq + 1, (self.name, frame["seq"], self.seq)
                self.seq = frame["seq"]
                self.frames.append(frame)
                fold(self.posts, frame["name"], frame["data"])

    async def next_other(self, name: str) -> Frame:
        """The next event of another channel (the moderation queue) named ``name``."""
        for frame in self.others:
            if frame.get("name") == name:
                self.others.remove(frame)
                return frame
        async with asyncio.timeout(15):
            while True:
                frame = orjson.loads(await self.ws.recv())
                assert isinstance(frame, dict)
                if frame["type"] == "event" and frame.get("channel") == self.channel:
                    self.seq = frame["seq"]
                    self.frames.append(frame)
                    fold(self.posts, frame["name"], frame["data"])
                elif frame.get("name") == name:
                    return frame


def fold(posts: dict[int, dict[str, Any]], name: str, data: dict[str, Any]) -> None:
    """A client's fold of a thread's events into its copy of the posts."""
    if name in {"post.created", "post.updated"}:
        posts[data["id"]] = {k: data.get(k) for k in KEYS}
    elif name == "post.deleted":
        posts.pop(data["id"], None)
    elif name == "vote.changed" and data["id"] in posts:
        posts[data["id"]]["votes"] = data["votes"]
    elif name == "question.updated" and data["id"] in posts:
        posts[data["id"]].update(
            {k: data[k] for k in ("answer_state", "assigned_to", "similar_count", "votes")}
        )


def names_asker(text: str) -> bool:
    return "qa-asker" in text or "山田" in text


async def _ok(response: httpx2.Response, *codes: int) -> dict[str, Any]:
    assert response.status_code in (codes or (200, 201)), response.text
    if not response.content:
        return {}
    data: dict[str, Any] = response.json()
    return data


async def _join(
    ep: Endpoint, admin: dict[str, str], username: str, name: str, role: str
) -> dict[str, str]:
    body = {
        "username": username,
        "password": PASSWORD,
        "display_name": name,
        "affiliation": "municipality",
    }
    await _ok(await ep.http.post("/api/v1/users", json=body), 201)
    if role != "participant":
        await _ok(
            await ep.http.put(f"/api/v1/users/{username}/role", json={"role": role}, headers=admin)
        )
    token = await _ok(
        await ep.http.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    )
    return {"Authorization": f"Bearer {token['token']}"}


async def _viewer(
    ep: Endpoint, name: str, headers: dict[str, str], channel: str, seq: int, posts: list[Any]
) -> Viewer:
    ws = await open_ws(ep.ws_url, origin=ep.origin, additional_headers=headers)
    subscribed = await subscribe(ws, channel, after=seq)
    assert subscribed["type"] == "subscribed", subscribed
    copy = {p["id"]: {k: p.get(k) for k in KEYS} for p in posts}
    return Viewer(name, ws, channel, seq, copy)


async def run_flow(a: Endpoint, b: Endpoint, admin: dict[str, str]) -> None:
    """The flow with people spread over ``a`` and ``b`` (the same process, or two)."""
    await _ok(
        await a.http.post(
            "/api/v1/boards", json={"slug": "kankei", "title": "関係人口"}, headers=admin
        ),
        201,
    )
    org = await _join(a, admin, "qa-org", "主催 太郎", "participant")
    ito = await _join(b, admin, "qa-ito", "伊藤 教授", "expert")
    await _join(b, admin, "qa-mori", "森 代表", "expert")
    asker = await _join(a, admin, "qa-asker", "山田 花子", "participant")
    audience = await _join(a, admin, "qa-viewer", "佐藤 一郎", "participant")
    # The organiser moderates the board, and so does one of the experts: on the thread even
    # they see 匿名 where the asker asked anonymously.
    for username in ("qa-org", "qa-ito"):
        await _ok(
            await a.http.put(
                f"/api/v1/boards/kankei/moderators/{username}",
                json={"role": "moderator"},
                headers=admin,
            )
        )
    starts = datetime.now(UTC) + timedelta(days=1)
    session = await _ok(
        await a.http.post(
            "/api/v1/sessions",
            json={
                "title": "全国フォーラム 分科会B",
                "kind": "breakout",
                "board": "kankei",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "experts": ["qa-ito", "qa-mori"],
                "slow_mode_seconds": 0,
            },
            headers=org,
        ),
        201,
    )
    await _ok(await a.http.post(f"/api/v1/sessions/{session['id']}/start", headers=org))
    thread_id = int(session["thread"]["id"])
    channel = events.thread_channel(thread_id)
    thread = await _ok(await a.http.get(f"/api/v1/threads/{thread_id}"))
    listed = (await _ok(await a.http.get(f"/api/v1/threads/{thread_id}/posts")))["items"]
    seq = int(thread["seq"])
    viewers = [
        await _viewer(a, "audience", audience, channel, seq, listed),
        await _viewer(b, "visitor", {}, channel, seq, listed),
        await _viewer(b, "expert", ito, channel, seq, listed),
        await _viewer(a, "asker", asker, channel, seq, listed),
    ]
    moderator = await _viewer(a, "organiser", org, channel, seq, listed)
    await subscribe(moderator.ws, events.moderation_channel("kankei"))
    try:
        # Asked anonymously: held for the moderators, who alone see who asked.
        asked = await _ok(
            await a.http.post(
                f"/api/v1/threads/{thread_id}/posts",
                json={"body": QUESTION, "kind": "question", "anonymous": True},
                headers=asker,
            ),
            201,
        )
        assert asked["status"] == "pending" and asked["author"] is None
        item = await moderator.next_other("item.created")
        assert item["data"]["post"]["author"]["username"] == "qa-asker"
        assert item["data"]["post"]["anonymous"] is True
        assert (await _ok(await a.http.get(f"/api/v1/threads/{thread_id}")))["seq"] == seq

        queue = (await _ok(await a.http.get("/api/v1/moderation/queue", headers=org)))["items"]
        [held] = [i for i in queue if i["post"]["id"] == asked["id"]]
        await _ok(
            await a.http.post(
                f"/api/v1/moderation/items/{held['id']}/approve",
                json={"version": held["version"]},
                headers=org,
            )
        )
        await _ok(await a.http.put(f"/api/v1/posts/{asked['id']}/vote", headers=audience))
        question = asked["id"]
        for state in ("assigned", "answering"):
            moved = await _ok(
                await b.http.post(
                    f"/api/v1/posts/{question}/answer-state", json={"state": state}, headers=ito
                )
            )
            assert moved["answer_state"] == state
            assert moved["assigned_to"] == {"username": "qa-ito", "display_name": "伊藤 教授"}
        answered = await _ok(
            await b.http.post(
                f"/api/v1/threads/{thread_id}/posts",
                json={"body": ANSWER, "kind": "answer", "reply_to": question},
                headers=ito,
            ),
            201,
        )
        assert answered["status"] == "published"

        head = int((await _ok(await a.http.get(f"/api/v1/threads/{thread_id}")))["seq"])
        fresh = (await _ok(await a.http.get(f"/api/v1/threads/{thread_id}/posts")))["items"]
        expected = {p["id"]: {k: p.get(k) for k in KEYS} for p in fresh}
        assert expected[question]["answer_state"] == "answered_written"
        assert expected[question]["author"] is None
        assert expected[answered["id"]]["reply_to"] == question
        for viewer in [*viewers, moderator]:
            await viewer.follow_until(head)
            assert viewer.posts == expected, viewer.name
            names = [f["name"] for f in viewer.frames]
            assert names.count("question.updated") == 3, (viewer.name, names)
            assert "post.created" in names
            assert not names_asker(orjson.dumps(viewer.frames).decode()), viewer.name
        states = [
            f["data"]["answer_state"] for f in viewers[0].frames if f["name"] == "question.updated"
        ]
        assert states == ["assigned", "answering", "answered_written"]

        # The expert who moderates the board sees 匿名 on the thread page, as everyone does.
        page = await b.http.get(f"/t/{thread_id}", headers=ito)
        assert page.status_code == 200
        assert "匿名の参加者" in page.text and not names_asker(page.text)
        assert "有識者の回答" in page.text
    finally:
        for viewer in [*viewers, moderator]:
            await viewer.ws.close()
