"""The forum's realtime channels end to end: a real server, real sockets, the real outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import httpx2
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

from forum import accounts, db, events, outbox
from forum.app import create_app
from forum.config import Settings
from forum.models import Role
from tests.conftest import REDIS_URL, Member, make_member
from tests.forum.support import settle_tallies
from tests.realtime.support import Frame, event_seqs, open_ws, recv, send, serve, subscribe

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"
BROKERS = ["memory://", *([REDIS_URL] if REDIS_URL else [])]


@dataclass
class Live:
    url: str
    api: httpx2.AsyncClient
    admin: Member
    alice: Member
    bob: Member

    async def viewer(self, *, member: Member | None = None, **options: Any) -> ClientConnection:
        headers = member.headers if member else None
        return await open_ws(self.url, origin=ORIGIN, additional_headers=headers, **options)

    async def board(self, slug: str = "kankei", **extra: Any) -> None:
        body = {"slug": slug, "title": "関係人口", **extra}
        assert (
            await self.api.post("/api/v1/boards", json=body, headers=self.admin.headers)
        ).status_code == 201

    async def thread(self, slug: str = "kankei", member: Member | None = None) -> dict[str, Any]:
        response = await self.api.post(
            f"/api/v1/boards/{slug}/threads",
            json={"title": "ライブQ&A", "body": "はじめます"},
            headers=(member or self.admin).headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["thread"])

    async def post(
        self, thread_id: int, body: str, member: Member | None = None, **extra: Any
    ) -> dict[str, Any]:
        response = await self.api.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": body, **extra},
            headers=(member or self.alice).headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest.fixture(params=BROKERS, ids=lambda url: url.split(":")[0])
async def live(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Live]:
    app = create_app(replace(settings, broker_url=request.param, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as api:
            admin = await make_member(username="admin-sato", role=Role.ADMIN)
            alice = await make_member(username="alice")
            bob = await make_member(username="bob")
            yield Live(url, api, admin, alice, bob)


async def next_event(ws: ClientConnection) -> Frame:
    frame = await recv(ws)
    assert frame["type"] == "event", frame
    return frame


async def test_a_viewer_sees_a_new_post_with_the_seq_the_thread_reports(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    ws = await live.viewer()
    assert await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"]) == {
        "type": "subscribed",
        "channel": f"thread:{thread['id']}",
        "seq": thread["seq"],
    }
    post = await live.post(thread["id"], "**質問**です")
    frame = await next_event(ws)
    assert (frame["name"], frame["seq"]) == ("post.created", thread["seq"] + 1)
    assert frame["data"] == post
    fresh = (await live.api.get(f"/api/v1/threads/{thread['id']}")).json()
    assert fresh["seq"] == frame["seq"]
    await ws.close()


async def fold_thread(
    state: dict[int, dict[str, Any]], thread: dict[str, Any], frame: Frame
) -> None:
    """A client's fold of thread events into its copy of the posts and the thread."""
    data = frame["data"]
    if frame["name"] in {"post.created", "post.updated"}:
        state[data["id"]] = data
    elif frame["name"] == "post.deleted":
        state.pop(data["id"], None)
    elif frame["name"] == "votes.tallied":
        for tally in data["tallies"]:
            state[tally["id"]] = {**state[tally["id"]], "votes": tally["votes"]}
    elif frame["name"] == "thread.updated":
        thread.update({k: v for k, v in data.items() if k != "id"})
    elif frame["name"] == "thread.moved":
        thread["board"] = data["to"]
    else:
        raise AssertionError(f"unexpected event {frame['name']}")


async def test_a_thread_channel_state_at_seq_n_plus_the_events_after_n_equals_a_fresh_fetch(
    live: Live,
) -> None:
    await live.board()
    thread = await live.thread()
    thread_id = thread["id"]
    first = await live.post(thread_id, "最初の返信")
    page = (await live.api.get(f"/api/v1/threads/{thread_id}/posts")).json()
    state = {p["id"]: p for p in page["items"]}
    snapshot = (await live.api.get(f"/api/v1/threads/{thread_id}")).json()
    ws = await live.viewer()
    await subscribe(ws, f"thread:{thread_id}", after=snapshot["seq"])

    question = await live.post(thread_id, "質問です", member=live.bob, kind="question")
    await live.api.put(f"/api/v1/posts/{question['id']}/vote", headers=live.alice.headers)
    await settle_tallies(thread_id)  # the tick's work, now rather than within the second
    await live.api.patch(
        f"/api/v1/posts/{first['id']}", json={"body": "訂正しました"}, headers=live.alice.headers
    )
    second = await live.post(thread_id, "消す予定")
    await live.api.delete(f"/api/v1/posts/{second['id']}", headers=live.alice.headers)
    await live.api.patch(
        f"/api/v1/threads/{thread_id}",
        json={"locked": True, "title": "終了"},
        headers=live.admin.headers,
    )
    await live.board("jirei")
    moved = await live.api.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": "jirei"},
        headers=live.admin.headers,
    )
    assert moved.status_code == 200, moved.text

    head = (await live.api.get(f"/api/v1/threads/{thread_id}")).json()["seq"]
    for _ in range(head - snapshot["seq"]):
        await fold_thread(state, snapshot, await next_event(ws))
    fresh_posts = (await live.api.get(f"/api/v1/threads/{thread_id}/posts")).json()["items"]
    fresh_thread = (await live.api.get(f"/api/v1/threads/{thread_id}")).json()
    assert state == {p["id"]: p for p in fresh_posts}
    for key in ("title", "locked", "pinned", "board"):
        assert snapshot[key] == fresh_thread[key]
    await ws.close()


async def events_after(ws: ClientConnection, channel: str, after: int) -> list[Frame]:
    """Every event the channel has after ``after``, as the subscriber receives them."""
    return [await next_event(ws) for _ in range(await outbox.head(channel) - after)]


THREAD_KEYS = ("id", "board", "title", "pinned", "locked", "featured", "live")


def listed(threads: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """What a board's channel keeps current about its threads (counters ride on the
    threads' own channels, not the board's)."""
    return {t["id"]: {k: t[k] for k in THREAD_KEYS} for t in threads}


def fold_board(
    slug: str, board: dict[str, Any], threads: dict[int, dict[str, Any]], frame: Frame
) -> None:
    data = frame["data"]
    if frame["name"] == "thread.created":
        threads.update(listed([data]))
    elif frame["name"] == "thread.updated":
        threads[data["id"]].update({k: v for k, v in data.items() if k in THREAD_KEYS})
    elif frame["name"] == "thread.moved":
        if data["from"] == slug:
            threads.pop(data["id"], None)
        if data["to"] == slug:
            threads.update(listed([data["thread"]]))
    elif frame["name"] == "board.updated":
        board.update(data)
    else:
        raise AssertionError(f"unexpected event {frame['name']}")


async def test_a_board_channel_state_at_seq_n_plus_the_events_after_n_equals_a_fresh_fetch(
    live: Live,
) -> None:
    await live.board()
    await live.board("jirei")
    staying = await live.thread()
    leaving = await live.thread()
    arriving = await live.thread("jirei")
    channel = events.board_channel("kankei")
    after = await outbox.head(channel)
    board = (await live.api.get("/api/v1/boards/kankei")).json()
    page = (await live.api.get("/api/v1/boards/kankei/threads")).json()
    threads = listed(page["items"])
    ws = await live.viewer()
    await subscribe(ws, channel, after=after)

    admin = live.admin.headers
    started = await live.thread(member=live.alice)
    await live.api.patch(
        f"/api/v1/threads/{started['id']}", json={"title": "改題", "pinned": True}, headers=admin
    )
    await live.api.post(f"/api/v1/moderation/threads/{staying['id']}/lock", headers=admin)
    for thread, target in ((leaving, "jirei"), (arriving, "kankei")):
        moved = await live.api.post(
            f"/api/v1/moderation/threads/{thread['id']}/move",
            json={"board": target},
            headers=admin,
        )
        assert moved.status_code == 200, moved.text
    await live.api.patch("/api/v1/boards/kankei", json={"description": "説明"}, headers=admin)

    for frame in await events_after(ws, channel, after):
        fold_board("kankei", board, threads, frame)
    fresh = (await live.api.get("/api/v1/boards/kankei/threads")).json()["items"]
    assert threads == listed(fresh)
    assert set(threads) == {staying["id"], started["id"], arriving["id"]}
    assert board == (await live.api.get("/api/v1/boards/kankei")).json()
    await ws.close()


def fold_moderation(items: dict[int, dict[str, Any]], frame: Frame) -> None:
    data = frame["data"]
    if frame["name"] in {"item.created", "item.updated"}:
        items[data["id"]] = data
        if data["post"]["status"] == "deleted":
            items.pop(data["id"])  # the queue leaves out items whose post is gone
    elif frame["name"] == "item.claimed":
        items[data["id"]].update({k: data[k] for k in ("version", "claimed_by", "claimed_at")})
    elif frame["name"] in {"item.decided", "item.moved"}:
        items.pop(data["id"], None)
    else:
        raise AssertionError(f"unexpected event {frame['name']}")


async def test_a_moderation_channel_state_at_seq_n_plus_the_events_after_n_equals_a_fresh_fetch(
    live: Live,
) -> None:
    await live.board("jirei", moderation="premoderated")
    await live.board("other", moderation="premoderated")
    thread = await live.thread("jirei")
    approved = await live.post(thread["id"], "承認される投稿")
    moved_thread = await live.thread("jirei")
    moving = await live.post(moved_thread["id"], "移動するスレッドの投稿")

    async def queue() -> dict[int, dict[str, Any]]:
        response = await live.api.get(
            "/api/v1/moderation/queue", params={"board": "jirei"}, headers=live.admin.headers
        )
        return {i["id"]: i for i in response.json()["items"]}

    def item_of(items: dict[int, dict[str, Any]], post: dict[str, Any]) -> dict[str, Any]:
        return next(i for i in items.values() if i["post"]["id"] == post["id"])

    channel = events.moderation_channel("jirei")
    after = await outbox.head(channel)
    items = await queue()
    ws = await live.viewer(member=live.admin)
    await subscribe(ws, channel, after=after)

    admin = live.admin.headers
    edited = await live.post(thread["id"], "編集される投稿")
    sent_back = await live.post(thread["id"], "差し戻される投稿")
    flagged = await live.post(thread["id"], "有識者の投稿", member=live.admin)
    withdrawn = await live.post(thread["id"], "取り下げる投稿")
    deleted = await live.api.delete(f"/api/v1/posts/{withdrawn['id']}", headers=live.alice.headers)
    assert deleted.status_code == 204
    current = await queue()
    claimed = await live.api.post(
        f"/api/v1/moderation/items/{item_of(current, approved)['id']}/claim",
        json={"version": item_of(current, approved)["version"]},
        headers=admin,
    )
    assert claimed.status_code == 200, claimed.text
    await live.api.post(
        f"/api/v1/moderation/items/{item_of(current, approved)['id']}/approve",
        json={"version": claimed.json()["version"]},
        headers=admin,
    )
    revise = item_of(current, sent_back)
    await live.api.post(
        f"/api/v1/moderation/items/{revise['id']}/revise",
        json={"version": revise["version"], "reason": "出典を添えてください"},
        headers=admin,
    )
    resubmitted = await live.api.post(
        f"/api/v1/posts/{sent_back['id']}/resubmit",
        json={"body": "出典を添えました"},
        headers=live.alice.headers,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    patched = await live.api.patch(
        f"/api/v1/posts/{edited['id']}", json={"body": "編集しました"}, headers=live.alice.headers
    )
    assert patched.status_code == 200, patched.text
    for member in (live.alice, live.bob):
        reported = await live.api.post(
            f"/api/v1/posts/{flagged['id']}/flags", json={"reason": "spam"}, headers=member.headers
        )
        assert reported.status_code == 201, reported.text
    await live.api.post(
        f"/api/v1/moderation/threads/{moved_thread['id']}/move",
        json={"board": "other"},
        headers=admin,
    )

    for frame in await events_after(ws, channel, after):
        fold_moderation(items, frame)
    fresh = await queue()
    assert items == fresh
    assert item_of(fresh, edited)["post"]["body"] == "編集しました"
    assert item_of(fresh, edited)["version"] == 2
    gone = {approved["id"], moving["id"], withdrawn["id"]}
    assert not any(i["post"]["id"] in gone for i in fresh.values())
    await ws.close()


def fold_user(
    notices: dict[int, dict[str, Any]], waiting: dict[int, dict[str, Any]], frame: Frame
) -> None:
    data = frame["data"]
    if frame["name"] == "notification.created":
        notices[data["id"]] = data
        if data["kind"] in {"post_approved", "post_rejected"}:
            waiting.pop(data["post_id"], None)
    elif frame["name"] == "post.pending":
        waiting[data["id"]] = data
    elif frame["name"] == "user.sanctioned":
        pass  # the user's own standing: shown by the next page, not part of this state
    else:
        raise AssertionError(f"unexpected event {frame['name']}")


async def test_a_user_channel_state_at_seq_n_plus_the_events_after_n_equals_a_fresh_fetch(
    live: Live,
) -> None:
    await live.board("jirei", moderation="premoderated")
    thread = await live.thread("jirei")
    earlier = await live.post(thread["id"], "以前の投稿")
    me = live.alice.headers

    async def own_state() -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
        notices = (await live.api.get("/api/v1/notifications", headers=me)).json()["items"]
        posts = await live.api.get(f"/api/v1/threads/{thread['id']}/posts", headers=me)
        waiting = [p for p in posts.json()["items"] if p["status"] == "pending"]
        return {n["id"]: n for n in notices}, {p["id"]: p for p in waiting}

    async def decide(post: dict[str, Any], action: str, **body: Any) -> None:
        queue = await live.api.get("/api/v1/moderation/queue", headers=live.admin.headers)
        item = next(i for i in queue.json()["items"] if i["post"]["id"] == post["id"])
        response = await live.api.post(
            f"/api/v1/moderation/items/{item['id']}/{action}",
            json={"version": item["version"], **body},
            headers=live.admin.headers,
        )
        assert response.status_code == 200, response.text

    channel = events.user_channel(live.alice.user.id)
    after = await outbox.head(channel)
    notices, waiting = await own_state()
    assert set(waiting) == {earlier["id"]}
    ws = await live.viewer(member=live.alice)
    await subscribe(ws, channel, after=after)

    await decide(earlier, "approve")
    rejected = await live.post(thread["id"], "却下される投稿")
    await decide(rejected, "reject", reason="重複しています")
    sent_back = await live.post(thread["id"], "差し戻される投稿")
    await decide(sent_back, "revise", reason="出典を添えてください")
    still = await live.post(thread["id"], "待っている投稿")
    hidden_thread = await live.thread("jirei", member=live.admin)
    reply = await live.post(hidden_thread["id"], "公開後に隠される投稿")
    await decide(reply, "approve")
    for username in ("carol", "dave", "erin"):
        reporter = await make_member(username=username)
        await live.api.post(
            f"/api/v1/posts/{reply['id']}/flags", json={"reason": "spam"}, headers=reporter.headers
        )

    for frame in await events_after(ws, channel, after):
        fold_user(notices, waiting, frame)
    fresh_notices, fresh_waiting = await own_state()
    hidden = (await live.api.get(f"/api/v1/posts/{reply['id']}", headers=me)).json()
    fresh_waiting[hidden["id"]] = hidden
    assert notices == fresh_notices
    assert waiting == fresh_waiting
    assert set(waiting) == {sent_back["id"], still["id"], reply["id"]}
    await ws.close()


async def test_twenty_concurrent_posters_arrive_in_order_without_gaps(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    ws = await live.viewer()
    await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    posters = [await make_member(username=f"poster{i}") for i in range(20)]
    await asyncio.gather(
        *(live.post(thread["id"], f"{i}番目", member=m) for i, m in enumerate(posters))
    )
    seqs = await event_seqs(ws, 20)
    assert seqs == list(range(thread["seq"] + 1, thread["seq"] + 21))
    await ws.close()


async def test_a_viewer_that_was_away_gets_exactly_the_fifty_posts_it_missed(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    # Staff bypass the burst rule that would hold fifty quick posts from a participant.
    made = [await live.post(thread["id"], f"留守中の投稿{i}", member=live.admin) for i in range(50)]
    ws = await live.viewer()
    subscribed = await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    assert subscribed["seq"] == thread["seq"] + 50
    frames = [await next_event(ws) for _ in range(50)]
    assert [f["data"]["id"] for f in frames] == [p["id"] for p in made]
    await send(ws, {"type": "ping"})
    assert await recv(ws) == {"type": "pong"}
    await ws.close()


async def test_a_cross_site_handshake_is_refused_even_with_a_valid_cookie(live: Live) -> None:
    raw, _session = await accounts.start_session(live.alice.user, days=1)
    with pytest.raises(InvalidStatus) as refused:
        await open_ws(
            live.url,
            origin="https://evil.example",
            additional_headers={"Cookie": f"koryu_session={raw}"},
        )
    assert refused.value.response.status_code == 403
    ws = await open_ws(
        live.url, origin=ORIGIN, additional_headers={"Cookie": f"koryu_session={raw}"}
    )
    assert (await subscribe(ws, f"user:{live.alice.user.id}"))["type"] == "subscribed"
    await ws.close()


async def test_a_private_boards_events_never_reach_a_non_member(live: Live) -> None:
    await live.board("secret", private=True)
    await live.api.put(
        "/api/v1/boards/secret/moderators/alice",
        json={"role": "member"},
        headers=live.admin.headers,
    )
    thread = await live.thread("secret", member=live.alice)
    outsider = await live.viewer(member=live.bob)
    refused = await subscribe(outsider, f"thread:{thread['id']}", after=0)
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    assert (await subscribe(outsider, "board:secret"))["code"] == "forbidden"
    member = await live.viewer(member=live.alice)
    await subscribe(member, f"thread:{thread['id']}", after=thread["seq"])
    await live.post(thread["id"], "メンバーだけの話")
    assert (await next_event(member))["name"] == "post.created"
    await send(outsider, {"type": "ping"})
    assert await recv(outsider) == {"type": "pong"}
    await outsider.close()
    await member.close()


async def test_a_board_made_private_stops_flowing_to_outsiders_at_once(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    outsider = await live.viewer(member=live.bob)
    await subscribe(outsider, f"thread:{thread['id']}", after=thread["seq"])
    patched = await live.api.patch(
        "/api/v1/boards/kankei", json={"private": True}, headers=live.admin.headers
    )
    assert patched.status_code == 200
    dropped = await recv(outsider)
    assert (dropped["type"], dropped["code"]) == ("error", "forbidden")
    await live.post(thread["id"], "非公開になった後の投稿", member=live.admin)
    await send(outsider, {"type": "ping"})
    assert await recv(outsider) == {"type": "pong"}
    await outsider.close()


async def test_pending_posts_reach_only_their_author_and_appear_on_the_thread_when_approved(
    live: Live,
) -> None:
    await live.board("jirei", moderation="premoderated")
    thread = await live.thread("jirei")
    public = await live.viewer()
    await subscribe(public, f"thread:{thread['id']}", after=thread["seq"])
    author = await live.viewer(member=live.alice)
    await subscribe(author, f"user:{live.alice.user.id}", after=0)
    other = await live.viewer(member=live.bob)
    assert (await subscribe(other, f"user:{live.alice.user.id}"))["code"] == "forbidden"

    pending = await live.post(thread["id"], "承認待ちの投稿")
    assert pending["status"] == "pending"
    mine = await next_event(author)
    assert (mine["name"], mine["data"]["id"]) == ("post.pending", pending["id"])

    queue = (await live.api.get("/api/v1/moderation/queue", headers=live.admin.headers)).json()
    item = next(i for i in queue["items"] if i["post"]["id"] == pending["id"])
    decided = await live.api.post(
        f"/api/v1/moderation/items/{item['id']}/approve",
        json={"version": item["version"]},
        headers=live.admin.headers,
    )
    assert decided.status_code == 200, decided.text
    published = await next_event(public)
    assert (published["name"], published["data"]["id"], published["data"]["status"]) == (
        "post.created",
        pending["id"],
        "published",
    )
    for ws in (public, author, other):
        await ws.close()


async def test_healthz_checks_the_database_and_the_broker(live: Live) -> None:
    response = await live.api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


async def test_sockets_per_client_address_stop_at_the_configured_cap(settings: Settings) -> None:
    app = create_app(replace(settings, ws_connections_per_ip=1))
    async with serve(app) as url:
        first = await open_ws(url, origin=ORIGIN)
        with pytest.raises(InvalidStatus) as refused:
            await open_ws(url, origin=ORIGIN)
        assert refused.value.response.status_code == 403
        await first.close()
        # The server lets the address go once its side of the socket has finished.
        for _ in range(500):
            try:
                again = await open_ws(url, origin=ORIGIN)
                break
            except InvalidStatus:
                await asyncio.sleep(0.01)
        await send(again, {"type": "ping"})
        assert await recv(again) == {"type": "pong"}
        await again.close()


async def test_healthz_answers_503_when_the_database_does_not_answer(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(name: str) -> Any:
        raise ConnectionRefusedError(f"connection {name!r} refused")

    monkeypatch.setattr(db, "get_connection", unreachable)
    response = await live.api.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "broker": "ok"}
