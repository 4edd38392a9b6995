"""An edit of a published post that the gate would hold waits as a proposal in the queue."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum import accounts, events
from forum.models import Notification, NotificationKind, Post, PostRevision, PostStatus
from tests.conftest import Member
from tests.moderation.support import (
    decide,
    error_code,
    event_names,
    new_board,
    new_thread,
    queue,
    reply,
)
from tests.moderation.support import events as read_events

pytestmark = pytest.mark.asyncio

LINKED = "出典は https://example.jp/jirei です"


async def published_reply(
    client: httpx2.AsyncClient, admin: Member, author: Member
) -> tuple[int, dict[str, Any]]:
    """A reply of a new account, published on an open board (it has no link yet)."""
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    post = await reply(client, author, thread_id, "事例の紹介です")
    assert post["status"] == "published"
    return thread_id, post


async def edit(
    client: httpx2.AsyncClient, member: Member, post_id: int, body: str
) -> httpx2.Response:
    return await client.patch(
        f"/api/v1/posts/{post_id}", json={"body": body}, headers=member.headers
    )


async def test_a_held_edit_of_a_published_post_waits_and_readers_keep_the_published_body(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post = await published_reply(client, admin, alice)
    thread_events = await event_names(events.thread_channel(thread_id))
    edited = await edit(client, alice, post["id"], LINKED)
    assert edited.status_code == 200, edited.text
    mine = edited.json()
    assert (mine["status"], mine["body"]) == ("published", "事例の紹介です")
    assert mine["proposal"]["body"] == LINKED
    assert 'href="https://example.jp/jirei"' in mine["proposal"]["html"]
    public = (await client.get(f"/api/v1/posts/{post['id']}")).json()
    assert public["body"] == "事例の紹介です"
    assert "proposal" not in public
    assert await event_names(events.thread_channel(thread_id)) == thread_events
    name, data = (await read_events(events.user_channel(alice.user.id)))[-1]
    assert (name, data["proposal"]["body"]) == ("post.pending", LINKED)
    [item] = await queue(client, admin)
    assert item["kind"] == "edit"
    assert item["post"]["body"] == "事例の紹介です"
    assert item["post"]["proposal"]["body"] == LINKED
    assert "new_account_link" in {r["code"] for r in item["reasons"]}


async def test_an_approved_edit_replaces_the_body_keeps_a_revision_and_tells_its_author(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    [item] = await queue(client, admin)
    approved = await decide(client, admin, item, "approve")
    assert approved.status_code == 200, approved.text
    stored = await Post.get(id=post["id"])
    assert (stored.body, stored.status) == (LINKED, PostStatus.PUBLISHED)
    assert stored.proposed_body is None
    [revision] = await PostRevision.filter(post_id=post["id"])
    assert (revision.body, revision.editor_id) == ("事例の紹介です", alice.user.id)  # type: ignore[attr-defined]
    name, data = (await read_events(events.thread_channel(thread_id)))[-1]
    assert (name, data["body"]) == ("post.updated", LINKED)
    assert "proposal" not in data
    notice = await Notification.get(user_id=alice.user.id)
    assert notice.kind is NotificationKind.EDIT_APPROVED
    assert await queue(client, admin) == []


async def test_a_rejected_edit_is_dropped_the_post_stays_and_its_author_is_told(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    [item] = await queue(client, admin)
    thread_events = await event_names(events.thread_channel(thread_id))
    rejected = await decide(client, admin, item, "reject", reason="出典が確認できません")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["post_status"] == "published"
    stored = await Post.get(id=post["id"])
    assert (stored.body, stored.status) == ("事例の紹介です", PostStatus.PUBLISHED)
    assert stored.proposed_body is None
    assert await event_names(events.thread_channel(thread_id)) == thread_events
    notice = await Notification.get(user_id=alice.user.id)
    assert notice.kind is NotificationKind.EDIT_REJECTED
    assert notice.data["reason"] == "出典が確認できません"
    assert (await edit(client, alice, post["id"], "事例の紹介です（追記）")).json()["body"] == (
        "事例の紹介です（追記）"
    )


async def test_a_second_edit_while_one_waits_replaces_the_proposal_under_a_new_version(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    [item] = await queue(client, admin)
    # No link this time, yet it waits too: what readers see changes only once seen.
    second = await edit(client, alice, post["id"], "出典を外しました")
    assert second.json()["proposal"]["body"] == "出典を外しました"
    stale = await decide(client, admin, item, "approve")
    assert stale.status_code == 409
    assert error_code(stale) == "stale_version"
    [fresh] = await queue(client, admin)
    assert (fresh["id"], fresh["version"]) == (item["id"], item["version"] + 1)
    assert fresh["post"]["proposal"]["body"] == "出典を外しました"
    assert "new_account_link" not in {r["code"] for r in fresh["reasons"]}
    assert (await decide(client, admin, fresh, "approve")).status_code == 200
    assert (await Post.get(id=post["id"])).body == "出典を外しました"


async def test_an_edit_on_a_board_made_premoderated_waits_for_approval(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    changed = await client.patch(
        "/api/v1/boards/kankei", json={"moderation": "premoderated"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    edited = await edit(client, alice, post["id"], "言い換えました")
    assert edited.json()["body"] == "事例の紹介です"
    [item] = await queue(client, admin, kind="edit")
    assert "premoderated" in {r["code"] for r in item["reasons"]}


async def test_a_moderators_edit_of_a_published_post_goes_out_at_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    edited = await edit(client, admin, post["id"], LINKED)
    assert edited.json()["body"] == LINKED
    assert "proposal" not in edited.json()
    assert await queue(client, admin) == []


async def test_the_queue_page_shows_a_proposal_beside_the_published_body(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    raw, _session = await accounts.start_session(admin.user, days=1)
    client.cookies.set("koryu_session", raw)
    page = await client.get("/moderation")
    assert page.status_code == 200
    assert "編集の承認待ち" in page.text
    assert "公開中の本文" in page.text and "事例の紹介です" in page.text
    assert 'class="post-body mod-post mod-proposed"' in page.text
    assert 'href="https://example.jp/jirei"' in page.text
    # "Edit and approve" starts from the proposal, keyboard actions as for any item.
    assert f">{LINKED}</textarea>" in page.text
    for key in ("c", "a", "e", "r"):
        assert f'data-key="{key}"' in page.text


async def test_the_author_sees_on_the_thread_page_that_their_edit_waits_and_others_do_not(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    note = "編集した内容はモデレーターの承認待ちです"
    anonymous = await client.get(f"/t/{thread_id}")
    assert "事例の紹介です" in anonymous.text
    assert note not in anonymous.text and "example.jp" not in anonymous.text
    for member, sees in ((bob, False), (alice, True)):
        raw, _session = await accounts.start_session(member.user, days=1)
        client.cookies.set("koryu_session", raw)
        page = await client.get(f"/t/{thread_id}")
        assert (note in page.text) is sees
        assert "example.jp" not in page.text


async def test_a_flagged_posts_item_carries_the_proposal_and_approval_applies_it(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    flagged = await client.post(
        f"/api/v1/posts/{post['id']}/flags", json={"reason": "spam"}, headers=bob.headers
    )
    assert flagged.status_code == 201, flagged.text
    [item] = await queue(client, admin)
    await edit(client, alice, post["id"], LINKED)
    [fresh] = await queue(client, admin)
    assert (fresh["id"], fresh["kind"], fresh["version"]) == (
        item["id"],
        "flagged",
        item["version"] + 1,
    )
    assert {"spam", "new_account_link"} <= {r["code"] for r in fresh["reasons"]}
    assert fresh["post"]["proposal"]["body"] == LINKED
    assert (await decide(client, admin, fresh, "approve")).status_code == 200
    stored = await Post.get(id=post["id"])
    assert (stored.body, stored.status) == (LINKED, PostStatus.PUBLISHED)
    assert stored.proposed_body is None
    notice = await Notification.get(user_id=alice.user.id)
    assert notice.kind is NotificationKind.EDIT_APPROVED


async def test_rejecting_a_flagged_post_drops_its_proposal_with_it(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    await client.post(
        f"/api/v1/posts/{post['id']}/flags", json={"reason": "spam"}, headers=bob.headers
    )
    await edit(client, alice, post["id"], LINKED)
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "reject")).status_code == 200
    stored = await Post.get(id=post["id"])
    assert (stored.body, stored.status) == ("事例の紹介です", PostStatus.REJECTED)
    assert stored.proposed_body is None


async def test_a_moderator_may_approve_an_edit_in_their_own_words_or_keep_the_published_text(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post = await published_reply(client, admin, alice)
    await edit(client, alice, post["id"], LINKED)
    [item] = await queue(client, admin)
    reworded = await decide(client, admin, item, "approve", body="出典は自治体の公式サイトです")
    assert reworded.status_code == 200, reworded.text
    [revision] = await PostRevision.filter(post_id=post["id"])
    assert revision.editor_id == admin.user.id  # type: ignore[attr-defined]
    assert (await Post.get(id=post["id"])).body == "出典は自治体の公式サイトです"
    await edit(client, alice, post["id"], LINKED)
    [again] = await queue(client, admin)
    kept = await decide(client, admin, again, "approve", body="出典は自治体の公式サイトです")
    assert kept.status_code == 200, kept.text
    stored = await Post.get(id=post["id"])
    assert stored.body == "出典は自治体の公式サイトです"
    assert stored.proposed_body is None
    kinds = [n.kind for n in await Notification.filter(user_id=alice.user.id).order_by("id")]
    assert kinds == [NotificationKind.EDIT_APPROVED, NotificationKind.EDIT_REJECTED]
