"""Each moderator works within their boards: the queue, the items and the audit log."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum.models import PostStatus
from moderation.models import AuditEntry, QueueItem
from tests.conftest import Member
from tests.moderation.support import (
    board_staff,
    decide,
    error_code,
    new_board,
    new_thread,
    queue,
    site_moderator,
)

pytestmark = pytest.mark.asyncio


async def two_boards(
    client: httpx2.AsyncClient, admin: Member, author: Member
) -> tuple[Member, dict[str, Any], dict[str, Any]]:
    """Boards a and b, premoderated, one held thread each; a moderator of a only."""
    await new_board(client, admin, "board-a", moderation="premoderated")
    await new_board(client, admin, "board-b", moderation="premoderated")
    await new_thread(client, author, "board-a", title="A のスレッド")
    await new_thread(client, author, "board-b", title="B のスレッド")
    moderator = await board_staff(client, admin, "board-a", username="mod-a")
    items = {i["board"]["slug"]: i for i in await queue(client, admin)}
    return moderator, items["board-a"], items["board-b"]


async def test_a_board_moderator_sees_only_their_boards_items(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    moderator, item_a, item_b = await two_boards(client, admin, alice)
    assert [i["id"] for i in await queue(client, moderator)] == [item_a["id"]]
    assert await queue(client, moderator, board="board-b") == []
    hidden = await client.get(f"/api/v1/moderation/items/{item_b['id']}", headers=moderator.headers)
    assert hidden.status_code == 404
    shown = await client.get(f"/api/v1/moderation/items/{item_a['id']}", headers=moderator.headers)
    assert shown.status_code == 200


@pytest.mark.parametrize("action", ["claim", "approve", "reject", "revise"])
async def test_a_board_a_moderator_cannot_act_on_board_b_items(
    client: httpx2.AsyncClient, admin: Member, alice: Member, action: str
) -> None:
    moderator, _item_a, item_b = await two_boards(client, admin, alice)
    response = await decide(client, moderator, item_b, action)
    assert response.status_code == 404
    stored = await QueueItem.get(id=item_b["id"]).select_related("post")
    assert stored.version == 1 and stored.claimed_by_id is None  # type: ignore[attr-defined]
    assert stored.post.status is PostStatus.PENDING


async def test_site_moderators_and_admins_see_every_boards_items(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _moderator, item_a, item_b = await two_boards(client, admin, alice)
    everyone = await site_moderator()
    ids = [i["id"] for i in await queue(client, everyone)]
    assert ids == [item_a["id"], item_b["id"]]


async def test_the_queue_filters_by_board_kind_and_reason_oldest_first_with_a_cursor(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _moderator, item_a, item_b = await two_boards(client, admin, alice)
    assert [i["id"] for i in await queue(client, admin, board="board-b")] == [item_b["id"]]
    assert await queue(client, admin, kind="flagged") == []
    assert len(await queue(client, admin, kind="pending", reason="premoderated")) == 2
    assert await queue(client, admin, reason="burst") == []
    first = await client.get("/api/v1/moderation/queue?limit=1", headers=admin.headers)
    page = first.json()
    assert [i["id"] for i in page["items"]] == [item_a["id"]]
    second = await client.get(
        f"/api/v1/moderation/queue?limit=1&cursor={page['next_cursor']}", headers=admin.headers
    )
    assert [i["id"] for i in second.json()["items"]] == [item_b["id"]]
    assert second.json()["next_cursor"] is None
    bad = await client.get("/api/v1/moderation/queue?kind=weird", headers=admin.headers)
    assert (bad.status_code, error_code(bad)) == (400, "bad_query")


async def test_the_audit_log_is_scoped_to_the_moderators_boards(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    moderator, item_a, item_b = await two_boards(client, admin, alice)
    assert (await decide(client, moderator, item_a, "approve")).status_code == 200
    assert (await decide(client, admin, item_b, "reject", reason="重複")).status_code == 200
    own = await client.get("/api/v1/moderation/log", headers=moderator.headers)
    assert [(e["action"], e["board"]) for e in own.json()["items"]] == [("post.approve", "board-a")]
    entry = own.json()["items"][0]
    assert entry["actor"] == "mod-a"
    assert entry["before"] == {"status": "pending"}
    assert entry["after"] == {"status": "published"}
    assert entry["created_at"]
    other = await client.get("/api/v1/moderation/log?board=board-b", headers=moderator.headers)
    assert other.json()["items"] == []
    everything = await client.get("/api/v1/moderation/log", headers=admin.headers)
    assert [e["action"] for e in everything.json()["items"]] == ["post.reject", "post.approve"]
    assert everything.json()["items"][0]["reason"] == "重複"


async def test_admin_only_entries_stay_admin_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    moderator, _item_a, _item_b = await two_boards(client, admin, alice)
    everyone = await site_moderator()
    await client.patch("/api/v1/moderation/rules", json={"first_posts": 5}, headers=admin.headers)
    await client.post(
        "/api/v1/moderation/rules/words", json={"word": "宣伝"}, headers=admin.headers
    )
    assert await AuditEntry.filter(admin_only=True).count() == 2
    for member in (moderator, everyone):
        log = (await client.get("/api/v1/moderation/log", headers=member.headers)).json()
        assert [e for e in log["items"] if e["admin_only"]] == []
    admin_log = (await client.get("/api/v1/moderation/log", headers=admin.headers)).json()
    assert [e["action"] for e in admin_log["items"]] == ["word.add", "rules.update"]
    assert admin_log["items"][1]["before"] == {"first_posts": 3}
    assert admin_log["items"][1]["after"] == {"first_posts": 5}


async def test_participants_have_no_queue_and_no_log(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    for path in ("/api/v1/moderation/queue", "/api/v1/moderation/log", "/api/v1/moderation/stats"):
        assert (await client.get(path, headers=alice.headers)).status_code == 403
        assert (await client.get(path)).status_code == 401
