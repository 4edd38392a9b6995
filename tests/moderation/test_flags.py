"""Flags: one per user per post, shared queue items, and the threshold that hides a post."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from forum.models import Post, PostStatus, Thread
from moderation.models import Flag, QueueItem
from tests.conftest import Member, make_member
from tests.moderation.support import (
    decide,
    error_code,
    event_names,
    events,
    new_board,
    new_thread,
    queue,
)

pytestmark = pytest.mark.asyncio


async def flag(
    client: httpx2.AsyncClient, member: Member, post_id: int, reason: str = "spam", note: str = ""
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/posts/{post_id}/flags",
        json={"reason": reason, "note": note},
        headers=member.headers,
    )


async def published(client: httpx2.AsyncClient, admin: Member, author: Member) -> tuple[int, int]:
    await new_board(client, admin)
    created = await new_thread(client, author)
    return created["thread"]["id"], created["post"]["id"]


async def test_a_flag_puts_the_post_in_the_queue_with_its_reason_and_note(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post_id = await published(client, admin, alice)
    response = await flag(client, bob, post_id, "offtopic", "別の掲示板の話題です")
    assert response.status_code == 201
    assert response.json() == {
        "post_id": post_id,
        "reason": "offtopic",
        "flags": 1,
        "hidden": False,
    }
    [item] = await queue(client, admin)
    assert item["kind"] == "flagged"
    assert [r["code"] for r in item["reasons"]] == ["offtopic"]
    assert [(f["reason"], f["note"], f["user"]) for f in item["flags"]] == [
        ("offtopic", "別の掲示板の話題です", "bob")
    ]
    assert await event_names("moderation:kankei") == ["item.created"]
    assert (await Post.get(id=post_id)).status is PostStatus.PUBLISHED


async def test_one_flag_per_user_per_post_the_second_is_409(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post_id = await published(client, admin, alice)
    assert (await flag(client, bob, post_id)).status_code == 201
    again = await flag(client, bob, post_id, "other")
    assert again.status_code == 409
    assert error_code(again) == "already_flagged"
    assert await Flag.filter(post_id=post_id).count() == 1


async def test_flags_are_refused_for_bad_input_own_posts_and_anonymous_callers(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post_id = await published(client, admin, alice)
    bad = await flag(client, bob, post_id, "boring", "x" * 501)
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"reason", "note"}
    own = await flag(client, alice, post_id)
    assert (own.status_code, error_code(own)) == (403, "own_post")
    anonymous = await client.post(f"/api/v1/posts/{post_id}/flags", json={"reason": "spam"})
    assert anonymous.status_code == 401
    assert (await flag(client, bob, 99999)).status_code == 404


async def test_reaching_the_threshold_hides_the_post_and_tells_the_threads_viewers(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post_id = await published(client, admin, alice)
    carol = await make_member(username="carol")
    dave = await make_member(username="dave")
    first = await flag(client, bob, post_id)
    second = await flag(client, carol, post_id, "inappropriate")
    assert first.json()["hidden"] is second.json()["hidden"] is False
    third = await flag(client, dave, post_id)
    assert third.json() == {"post_id": post_id, "reason": "spam", "flags": 3, "hidden": True}
    assert (await Post.get(id=post_id)).status is PostStatus.PENDING
    assert (await Thread.get(id=thread_id)).post_count == 0
    name, data = (await events(f"thread:{thread_id}"))[-1]
    assert (name, data) == ("post.deleted", {"id": post_id, "reason": "hidden"})
    for headers in ({}, bob.headers):
        assert (await client.get(f"/api/v1/posts/{post_id}", headers=headers)).status_code == 404
    [item] = await queue(client, admin)
    assert len(item["flags"]) == 3
    assert {r["code"] for r in item["reasons"]} == {"spam", "inappropriate", "hidden"}
    assert await event_names("moderation:kankei") == [
        "item.created",
        "item.updated",
        "item.updated",
    ]
    assert await QueueItem.all().count() == 1


async def test_the_threshold_is_configurable(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await client.patch(
        "/api/v1/moderation/rules", json={"flag_threshold": 1}, headers=admin.headers
    )
    _thread_id, post_id = await published(client, admin, alice)
    assert (await flag(client, bob, post_id)).json()["hidden"] is True


async def test_approving_a_hidden_post_brings_it_back_and_rejecting_removes_it(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await client.patch(
        "/api/v1/moderation/rules", json={"flag_threshold": 1}, headers=admin.headers
    )
    thread_id, post_id = await published(client, admin, alice)
    await flag(client, bob, post_id)
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "approve")).status_code == 200
    assert (await Post.get(id=post_id)).status is PostStatus.PUBLISHED
    assert (await Thread.get(id=thread_id)).post_count == 1
    assert (await event_names(f"thread:{thread_id}"))[-1] == "post.created"
    carol = await make_member(username="carol")
    await flag(client, carol, post_id, "inappropriate")
    [again] = await queue(client, admin)
    assert again["id"] != item["id"]
    assert (await decide(client, admin, again, "reject", reason="不適切")).status_code == 200
    assert (await Post.get(id=post_id)).status is PostStatus.REJECTED


async def test_rejecting_a_flagged_post_that_was_still_visible_takes_it_down(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post_id = await published(client, admin, alice)
    await flag(client, bob, post_id)
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "reject")).status_code == 200
    assert (await Thread.get(id=thread_id)).post_count == 0
    assert (await events(f"thread:{thread_id}"))[-1] == (
        "post.deleted",
        {"id": post_id, "reason": "rejected"},
    )


async def test_two_first_flags_at_once_share_one_queue_item(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    _thread_id, post_id = await published(client, admin, alice)
    carol = await make_member(username="carol")
    responses = await asyncio.gather(flag(client, bob, post_id), flag(client, carol, post_id))
    assert [r.status_code for r in responses] == [201, 201]
    [item] = await queue(client, admin)
    assert len(item["flags"]) == 2
    assert await QueueItem.all().count() == 1


async def test_only_published_posts_can_be_flagged(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    created = await new_thread(client, alice)
    moderator = admin
    response = await flag(client, moderator, created["post"]["id"])
    assert response.status_code == 422
    assert error_code(response) == "not_flaggable"
