"""Sanctions on users and moderation of threads: lock, pin, move, each in the audit log."""

from __future__ import annotations

import httpx2
import pytest

from forum import accounts
from forum.formatting import format_datetime
from forum.models import ApiToken, Board, LoginSession, Thread, User
from moderation.models import AuditEntry, QueueItem
from tests.conftest import PASSWORD, Member
from tests.moderation.support import (
    board_staff,
    error_code,
    event_names,
    events,
    new_board,
    new_thread,
    queue,
    site_moderator,
)

pytestmark = pytest.mark.asyncio


async def sanction(
    client: httpx2.AsyncClient, member: Member, username: str, kind: str, hours: object
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/moderation/users/{username}/sanctions",
        json={"kind": kind, "hours": hours, "reason": "繰り返しの宣伝"},
        headers=member.headers,
    )


async def test_a_silenced_user_cannot_post_until_it_is_lifted(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    moderator = await site_moderator()
    response = await sanction(client, moderator, "alice", "silence", 24)
    assert response.status_code == 200
    assert response.json()["until"] and response.json()["changed"] is True
    refused = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "こんにちは"}, headers=alice.headers
    )
    assert refused.status_code == 403
    lifted = await sanction(client, moderator, "alice", "silence", 0)
    assert lifted.json()["until"] is None
    allowed = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "こんにちは"}, headers=alice.headers
    )
    assert allowed.status_code == 201
    entries = await AuditEntry.filter(action="user.silence").order_by("id")
    assert [e.reason for e in entries] == ["繰り返しの宣伝", "繰り返しの宣伝"]
    assert entries[1].after == {"silenced_until": None}


async def test_suspension_ends_every_session_and_token_at_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await accounts.start_session(alice.user, days=1)
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200
    response = await sanction(client, admin, "alice", "suspend", 72)
    assert response.status_code == 200
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    assert await LoginSession.filter(user_id=alice.user.id).count() == 0
    assert await ApiToken.filter(user_id=alice.user.id).count() == 0
    assert (await User.get(id=alice.user.id)).suspended_until is not None
    assert await event_names(f"user:{alice.user.id}") == ["user.sanctioned", "access.changed"]


async def test_only_site_moderators_sanction_and_never_admins_or_themselves(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    board_moderator = await board_staff(client, admin, "kankei", username="mod-a")
    moderator = await site_moderator()
    assert (await sanction(client, board_moderator, "bob", "silence", 1)).status_code == 403
    assert (await sanction(client, alice, "bob", "silence", 1)).status_code == 403
    assert (await sanction(client, moderator, "admin-sato", "suspend", 1)).status_code == 403
    assert (
        await sanction(client, moderator, moderator.user.username, "silence", 1)
    ).status_code == 403
    other = await site_moderator("mod-sasaki")
    assert (await sanction(client, moderator, "mod-sasaki", "silence", 1)).status_code == 403
    assert (await sanction(client, admin, other.user.username, "silence", 1)).status_code == 200
    bad = await sanction(client, moderator, "bob", "banish", -1)
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"kind", "hours"}
    assert (await sanction(client, moderator, "nobody", "silence", 1)).status_code == 404


async def test_lock_and_pin_emit_thread_updates_and_write_the_audit_log(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    moderator = await board_staff(client, admin, "kankei", username="mod-a")
    for action in ("lock", "pin"):
        response = await client.post(
            f"/api/v1/moderation/threads/{thread_id}/{action}",
            json={"reason": "終了しました"},
            headers=moderator.headers,
        )
        assert response.json() == {"thread_id": thread_id, "action": action, "changed": True}
    again = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/lock", json={}, headers=moderator.headers
    )
    assert again.json()["changed"] is False
    thread = await Thread.get(id=thread_id)
    assert thread.locked and thread.pinned
    updates = [d for n, d in await events(f"thread:{thread_id}") if n == "thread.updated"]
    assert updates == [{"id": thread_id, "locked": True}, {"id": thread_id, "pinned": True}]
    assert "thread.updated" in await event_names("board:kankei")
    refused = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "まだ?"}, headers=alice.headers
    )
    assert error_code(refused) == "thread_locked"
    unlock = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/unlock", json={}, headers=moderator.headers
    )
    assert unlock.json()["changed"] is True
    actions = [e.action for e in await AuditEntry.all().order_by("id")]
    assert actions == ["thread.lock", "thread.pin", "thread.unlock"]
    outsider = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/lock", json={}, headers=alice.headers
    )
    assert outsider.status_code == 403


async def test_a_thread_moves_only_between_boards_the_moderator_moderates(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, "board-a")
    await new_board(client, admin, "board-b", moderation="premoderated")
    await new_board(client, admin, "board-c")
    thread_id = (await new_thread(client, alice, "board-a"))["thread"]["id"]
    moderator = await board_staff(client, admin, "board-a", username="mod-ab")
    await client.put(
        "/api/v1/boards/board-b/moderators/mod-ab",
        json={"role": "moderator"},
        headers=admin.headers,
    )
    refused = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": "board-c"},
        headers=moderator.headers,
    )
    assert refused.status_code == 403
    moved = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": "board-b", "reason": "話題の掲示板へ"},
        headers=moderator.headers,
    )
    assert moved.status_code == 200 and moved.json()["changed"] is True
    assert (await Thread.get(id=thread_id).select_related("board")).board.slug == "board-b"
    counts = {b.slug: b.thread_count for b in await Board.all()}
    assert (counts["board-a"], counts["board-b"]) == (0, 1)
    moved_events = [d for n, d in await events("board:board-a") if n == "thread.moved"]
    assert [{k: v for k, v in d.items() if k != "thread"} for d in moved_events] == [
        {"id": thread_id, "from": "board-a", "to": "board-b"}
    ]
    # The target board's viewers get the thread itself, to list it.
    assert [(d["thread"]["id"], d["thread"]["board"]) for d in moved_events] == [
        (thread_id, "board-b")
    ]
    [entry] = await AuditEntry.filter(action="thread.move")
    assert (entry.before, entry.after, entry.reason) == (
        {"board": "board-a"},
        {"board": "board-b"},
        "話題の掲示板へ",
    )
    unknown = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": "nowhere"},
        headers=moderator.headers,
    )
    assert unknown.status_code == 422


async def test_a_moved_threads_open_items_follow_it_to_the_new_boards_queue(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, "board-a", moderation="premoderated")
    await new_board(client, admin, "board-b")
    thread_id = (await new_thread(client, admin, "board-a"))["thread"]["id"]
    await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "保留される返信"}, headers=alice.headers
    )
    [item] = await queue(client, admin)
    response = await client.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": "board-b"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert (await QueueItem.get(id=item["id"]).select_related("board")).board.slug == "board-b"
    assert [i["board"]["slug"] for i in await queue(client, admin)] == ["board-b"]
    assert (await events("moderation:board-a"))[-1] == (
        "item.moved",
        {"id": item["id"], "board": "board-b"},
    )
    assert (await event_names("moderation:board-b")) == ["item.created"]


async def test_a_silenced_user_is_told_until_when_and_why_on_the_board_the_thread_and_the_api(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    moderator = await site_moderator()
    assert (await sanction(client, moderator, "alice", "silence", 24)).status_code == 200
    until = format_datetime((await User.get(id=alice.user.id)).silenced_until)
    refused = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "こんにちは"}, headers=alice.headers
    )
    assert refused.status_code == 403 and error_code(refused) == "silenced"
    message = refused.json()["error"]["message"]
    assert until in message and "理由：繰り返しの宣伝" in message
    raw, _session = await accounts.start_session(alice.user, days=1)
    client.cookies.set("koryu_session", raw)
    for path in ("/b/kankei", f"/t/{thread_id}"):
        page = (await client.get(path)).text
        assert f"発言停止中のため、{until}まで投稿できません。" in page, path
        assert "理由：繰り返しの宣伝" in page, path


async def test_a_suspended_user_is_told_until_when_and_whom_to_ask(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    assert (await sanction(client, admin, "alice", "suspend", 72)).status_code == 200
    until = format_datetime((await User.get(id=alice.user.id)).suspended_until)
    refused = await client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 401 and error_code(refused) == "suspended"
    message = refused.json()["error"]["message"]
    assert f"{until}まで利用停止中です。" in message and "管理者にお問い合わせ" in message
