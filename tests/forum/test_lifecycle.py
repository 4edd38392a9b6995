"""forum.lifecycle: one publish, one withdraw, one revise, whoever calls them."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum import events, outbox
from forum.models import Post, PostStatus, Thread, User
from tests.conftest import Member
from tests.moderation.support import age, decide, new_board, new_thread, queue, reply

pytestmark = pytest.mark.asyncio


async def _events(channel: str) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, e.data) for e in await outbox.read_events(channel, 0)]


async def _block(client: httpx2.AsyncClient, admin: Member, word: str) -> None:
    response = await client.post(
        "/api/v1/moderation/rules/words",
        json={"word": word, "action": "block"},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


async def test_an_authors_edit_meets_the_blocked_words_a_new_post_meets(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await age(alice, days=30)
    created = await new_thread(client, alice)
    post_id = created["post"]["id"]
    assert created["post"]["status"] == "published"
    await _block(client, admin, "禁止語")
    refused = await client.patch(
        f"/api/v1/posts/{post_id}", json={"body": "禁止語を含む訂正"}, headers=alice.headers
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "blocked_word"
    assert (await Post.get(id=post_id)).body == created["post"]["body"]


async def test_editing_a_waiting_post_gives_its_queue_item_a_new_version(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = await new_thread(client, admin)
    post = await reply(client, alice, thread["thread"]["id"], "承認待ちの投稿")
    [item] = await queue(client, admin)
    edited = await client.patch(
        f"/api/v1/posts/{post['id']}", json={"body": "書き直した投稿"}, headers=alice.headers
    )
    assert edited.status_code == 200, edited.text
    # A decision on the body the moderator saw before the edit is refused as stale.
    stale = await decide(client, admin, item, "approve")
    assert stale.status_code == 409
    [fresh] = await queue(client, admin)
    assert (fresh["version"], fresh["post"]["body"]) == (item["version"] + 1, "書き直した投稿")
    assert ("item.updated", fresh) == (await _events(events.moderation_channel("kankei")))[-1]
    assert (await decide(client, admin, fresh, "approve")).status_code == 200


async def test_a_resubmitted_body_meets_the_link_rule_a_new_post_meets(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = await new_thread(client, admin)
    post = await reply(client, alice, thread["thread"]["id"], "事例の紹介です")
    [item] = await queue(client, admin)
    assert "new_account_link" not in {r["code"] for r in item["reasons"]}
    assert (await decide(client, admin, item, "revise", reason="出典を")).status_code == 200
    resubmitted = await client.post(
        f"/api/v1/posts/{post['id']}/resubmit",
        json={"body": "出典は https://example.jp/jirei です"},
        headers=alice.headers,
    )
    assert resubmitted.status_code == 200, resubmitted.text
    [again] = await queue(client, admin)
    codes = [r["code"] for r in again["reasons"]]
    assert "new_account_link" in codes and "resubmitted" in codes


async def test_a_new_post_and_an_approved_one_move_the_same_counters(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    await new_board(client, admin, "jirei", moderation="premoderated")
    open_thread = await new_thread(client, admin)
    held_thread = await new_thread(client, admin, "jirei")
    await age(alice, days=30)
    await age(bob, days=30)
    await reply(client, alice, open_thread["thread"]["id"], "すぐに公開")
    await reply(client, bob, held_thread["thread"]["id"], "承認後に公開")
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "approve")).status_code == 200
    for member, thread in ((alice, open_thread), (bob, held_thread)):
        counted = await Thread.get(id=thread["thread"]["id"])
        author = await User.get(id=member.user.id)
        assert (counted.post_count, author.published_posts) == (2, 1)


async def test_an_approved_first_post_announces_its_thread_at_the_seq_the_outbox_gave(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    created = await new_thread(client, alice)
    assert (created["thread"]["seq"], created["post"]["status"]) == (0, "pending")
    assert await _events(events.board_channel("kankei")) == []
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "approve")).status_code == 200
    [(name, announced)] = await _events(events.board_channel("kankei"))
    thread_channel = events.thread_channel(created["thread"]["id"])
    assert name == "thread.created"
    assert announced["seq"] == await outbox.head(thread_channel) == 1
    assert announced["post_count"] == 1


async def test_a_post_leaving_view_sends_one_payload_shape_whatever_the_reason(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, admin)
    thread_id = thread["thread"]["id"]
    post = await reply(client, admin, thread_id, "消される投稿")
    deleted = await client.delete(f"/api/v1/posts/{post['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    name, payload = (await _events(events.thread_channel(thread_id)))[-1]
    assert (name, payload) == ("post.deleted", {"id": post["id"], "reason": "deleted"})
    assert (await Post.get(id=post["id"])).status is PostStatus.DELETED
    assert (await Thread.get(id=thread_id)).post_count == 1
    # Deleting it again finds nothing in view: no second event, no counter moved.
    again = await client.delete(f"/api/v1/posts/{post['id']}", headers=admin.headers)
    assert again.status_code == 404
    assert len(await _events(events.thread_channel(thread_id))) == 3
