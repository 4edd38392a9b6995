"""Claim, approve, edit-and-approve, reject, revision requests: versions, events, counters."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest

from forum.models import Post, PostRevision, PostStatus, Thread, User
from moderation.models import ItemState, QueueItem
from tests.conftest import Member
from tests.moderation.support import (
    board_staff,
    decide,
    error_code,
    event_names,
    events,
    new_board,
    new_thread,
    queue,
    reply,
    site_moderator,
)

pytestmark = pytest.mark.asyncio


async def published_ids(thread_id: int) -> list[int]:
    return [d["id"] for n, d in await events(f"thread:{thread_id}") if n == "post.created"]


async def held_reply(
    client: httpx2.AsyncClient, admin: Member, author: Member, body: str = "承認待ちの返信です"
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A premoderated board with a published thread and one held reply: (thread, post, item)."""
    await new_board(client, admin, moderation="premoderated")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    post = await reply(client, author, thread_id, body)
    assert post["status"] == "pending"
    [item] = await queue(client, admin)
    return thread_id, post, item


async def test_a_held_post_becomes_a_queue_item_and_an_event_for_the_boards_moderators(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice)
    assert item["kind"] == "pending"
    assert item["post"]["id"] == post["id"]
    assert [(r["code"], r["detail"]) for r in item["reasons"]] == [("premoderated", "")]
    assert item["board"]["slug"] == "kankei"
    assert item["thread"]["id"] == thread_id
    assert item["version"] == 1 and item["claimed_by"] is None
    [(name, data)] = await events("moderation:kankei")
    assert name == "item.created"
    assert data["id"] == item["id"] and data["post"]["id"] == post["id"]
    assert post["id"] not in await published_ids(thread_id)


async def test_nobody_but_the_author_and_moderators_sees_a_pending_post(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post, _item = await held_reply(client, admin, alice)
    for headers in ({}, bob.headers):
        listed = await client.get(f"/api/v1/threads/{thread_id}/posts", headers=headers)
        assert post["id"] not in [p["id"] for p in listed.json()["items"]]
        assert (await client.get(f"/api/v1/posts/{post['id']}", headers=headers)).status_code == 404
    own = await client.get(f"/api/v1/threads/{thread_id}/posts", headers=alice.headers)
    assert [p["status"] for p in own.json()["items"] if p["id"] == post["id"]] == ["pending"]
    assert (await client.get("/api/v1/moderation/queue", headers=bob.headers)).status_code == 403


async def test_approving_publishes_counts_and_announces_the_post_on_its_thread(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice)
    before = await Thread.get(id=thread_id)
    response = await decide(client, admin, item, "approve")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "item_id": item["id"],
        "version": 2,
        "state": "closed",
        "decision": "approved",
        "post_status": "published",
    }
    assert (await Post.get(id=post["id"])).status is PostStatus.PUBLISHED
    after = await Thread.get(id=thread_id)
    assert after.post_count == before.post_count + 1
    assert (await User.get(id=alice.user.id)).published_posts == 1
    thread_events = await events(f"thread:{thread_id}")
    assert thread_events[-1][0] == "post.created"
    assert thread_events[-1][1]["id"] == post["id"]
    assert thread_events[-1][1]["status"] == "published"
    assert await event_names("moderation:kankei") == ["item.created", "item.decided"]
    assert await queue(client, admin) == []
    listed = await client.get(f"/api/v1/threads/{thread_id}/posts")
    assert post["id"] in [p["id"] for p in listed.json()["items"]]


async def test_approving_a_new_threads_first_post_shows_the_thread_on_its_board(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    created = await new_thread(client, alice)
    assert (await client.get("/api/v1/boards/kankei/threads")).json()["items"] == []
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "approve")).status_code == 200
    threads = (await client.get("/api/v1/boards/kankei/threads")).json()["items"]
    assert [t["id"] for t in threads] == [created["thread"]["id"]]
    assert "thread.created" in await event_names("board:kankei")


async def test_edit_then_approve_keeps_the_old_body_as_a_revision(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice, body="電話番号は 090-0000-0000")
    response = await decide(client, admin, item, "approve", body="電話番号は（削除）")
    assert response.status_code == 200
    stored = await Post.get(id=post["id"])
    assert (stored.body, stored.status) == ("電話番号は（削除）", PostStatus.PUBLISHED)
    assert "090" not in stored.html and stored.edited_at is not None
    [revision] = await PostRevision.filter(post_id=post["id"])
    assert revision.body == "電話番号は 090-0000-0000"
    assert revision.editor_id == admin.user.id  # type: ignore[attr-defined]
    name, data = (await events(f"thread:{thread_id}"))[-1]
    assert (name, data["body"]) == ("post.created", "電話番号は（削除）")


async def test_edit_then_approve_with_an_empty_body_is_422_and_changes_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post, item = await held_reply(client, admin, alice)
    response = await decide(client, admin, item, "approve", body="  ")
    assert response.status_code == 422
    assert (await Post.get(id=post["id"])).status is PostStatus.PENDING
    assert (await QueueItem.get(id=item["id"])).version == 1


async def test_rejecting_keeps_the_post_hidden_and_closes_the_item(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice)
    response = await decide(client, admin, item, "reject", reason="スパムと判断しました")
    assert response.status_code == 200
    assert response.json()["post_status"] == "rejected"
    assert (await Post.get(id=post["id"])).status is PostStatus.REJECTED
    stored = await QueueItem.get(id=item["id"])
    assert (stored.state, stored.decision_reason) == (ItemState.CLOSED, "スパムと判断しました")
    assert post["id"] not in await published_ids(thread_id)
    own = await client.get(f"/api/v1/threads/{thread_id}/posts", headers=alice.headers)
    assert post["id"] not in [p["id"] for p in own.json()["items"]]


async def test_a_stale_version_is_409_and_decides_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post, item = await held_reply(client, admin, alice)
    assert (await decide(client, admin, item, "claim")).status_code == 200
    stale = await decide(client, admin, item, "approve")
    assert stale.status_code == 409
    assert error_code(stale) == "stale_version"
    assert (await Post.get(id=post["id"])).status is PostStatus.PENDING
    fresh = (await queue(client, admin))[0]
    assert fresh["version"] == 2 and fresh["claimed_by"] == admin.user.username
    assert (await decide(client, admin, fresh, "approve")).status_code == 200
    again = await decide(client, admin, fresh, "reject")
    assert again.status_code == 409
    assert error_code(again) == "stale_version"


async def test_a_claim_shows_to_others_and_keeps_them_from_deciding(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, _post, item = await held_reply(client, admin, alice)
    other = await site_moderator()
    assert (await decide(client, other, item, "claim")).status_code == 200
    [seen] = await queue(client, admin)
    assert seen["claimed_by"] == other.user.username
    refused = await decide(client, admin, seen, "approve")
    assert refused.status_code == 409
    assert error_code(refused) == "already_claimed"
    assert (await decide(client, other, seen, "approve")).status_code == 200
    claimed = [d for n, d in await events("moderation:kankei") if n == "item.claimed"]
    assert claimed == [
        {
            "id": item["id"],
            "version": 2,
            "claimed_by": other.user.username,
            "claimed_at": claimed[0]["claimed_at"],
        }
    ]


@pytest.mark.parametrize("action", ["claim", "approve", "reject"])
async def test_two_moderators_at_once_one_wins_and_the_other_gets_409(
    client: httpx2.AsyncClient, admin: Member, alice: Member, action: str
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice)
    other = await site_moderator()
    first, second = await asyncio.gather(
        decide(client, admin, item, action), decide(client, other, item, action)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert error_code(loser) == "stale_version"
    stored = await QueueItem.get(id=item["id"])
    assert stored.version == 2
    decided = [n for n in await event_names("moderation:kankei") if n != "item.created"]
    assert len(decided) == 1
    if action == "approve":
        assert (await event_names(f"thread:{thread_id}")).count("post.created") == 2
        assert (await Thread.get(id=thread_id)).post_count == 2
        assert (await User.get(id=alice.user.id)).published_posts == 1
    assert await Post.filter(id=post["id"]).count() == 1


async def test_a_revision_request_goes_back_to_the_author_who_resubmits_into_the_queue(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post, item = await held_reply(client, admin, alice, body="会社の宣伝です")
    response = await decide(client, admin, item, "revise", reason="宣伝部分を削ってください")
    assert response.status_code == 200
    assert response.json()["state"] == "revision"
    assert await queue(client, admin) == []
    own = await client.get(f"/api/v1/posts/{post['id']}", headers=alice.headers)
    assert own.json()["status"] == "pending"
    refused = await client.post(
        f"/api/v1/posts/{post['id']}/resubmit", json={"body": "x"}, headers=bob.headers
    )
    assert refused.status_code == 404
    resubmitted = await client.post(
        f"/api/v1/posts/{post['id']}/resubmit",
        json={"body": "事例の紹介です"},
        headers=alice.headers,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["body"] == "事例の紹介です"
    [again] = await queue(client, admin)
    assert again["id"] == item["id"] and again["version"] == 3
    assert "resubmitted" in [r["code"] for r in again["reasons"]]
    assert (await event_names("moderation:kankei"))[-1] == "item.created"
    twice = await client.post(
        f"/api/v1/posts/{post['id']}/resubmit", json={"body": "もう一度"}, headers=alice.headers
    )
    assert twice.status_code == 409
    assert error_code(twice) == "not_awaiting_revision"
    assert (await decide(client, admin, again, "approve")).status_code == 200
    assert (await Post.get(id=post["id"])).body == "事例の紹介です"
    assert (await event_names(f"thread:{thread_id}"))[-1] == "post.created"


async def test_an_unknown_item_or_a_bad_version_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, _post, item = await held_reply(client, admin, alice)
    missing = await client.post(
        "/api/v1/moderation/items/9999/approve", json={"version": 1}, headers=admin.headers
    )
    assert missing.status_code == 404
    bad = await client.post(
        f"/api/v1/moderation/items/{item['id']}/approve",
        json={"version": "1"},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert "version" in bad.json()["error"]["fields"]


async def test_a_board_expert_moderates_their_own_board(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post, _item = await held_reply(client, admin, alice)
    expert = await board_staff(client, admin, "kankei", username="expert-ueda", role="expert")
    [item] = await queue(client, expert)
    assert (await decide(client, expert, item, "approve")).status_code == 200
    assert (await Post.get(id=post["id"])).status is PostStatus.PUBLISHED


async def test_the_conditional_update_alone_lets_one_of_two_loaded_deciders_through(
    client: httpx2.AsyncClient, admin: Member, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forum.boards import load_actor
    from forum.errors import Conflict
    from moderation import actions

    thread_id, post, item = await held_reply(client, admin, alice)
    other = await site_moderator()
    loaded = 0
    both = asyncio.Event()
    real_load = actions.load_item  # type: ignore[attr-defined]

    async def load_then_wait(actor: Any, item_id: int) -> QueueItem:
        # Both deciders pass validation with version 1 before either writes.
        nonlocal loaded
        found = await real_load(actor, item_id)
        loaded += 1
        if loaded == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)
        return found

    monkeypatch.setattr(actions, "load_item", load_then_wait)
    results = await asyncio.gather(
        actions.approve(await load_actor(admin.user), item["id"], 1),
        actions.approve(await load_actor(other.user), item["id"], 1),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, actions.Result)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == len(losers) == 1
    assert losers[0].code == "stale_version"
    assert await published_ids(thread_id) == [post["id"] - 1, post["id"]]
    assert (await Thread.get(id=thread_id)).post_count == 2
