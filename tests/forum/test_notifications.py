"""Notices about others' posts: mentions, replies, quotes, followed threads and boards, made
after commit for those who may see the post, and never naming an anonymous asker."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum import boards, follows, notifications, outbox, posts
from forum.gate import OpenGate
from forum.models import Board, FollowLevel, Notification, NotificationKind, Post, Thread
from tests.conftest import Member, make_member
from tests.forum.support import question
from tests.moderation.support import (
    age,
    board_staff,
    decide,
    event_names,
    new_board,
    new_thread,
    queue,
    reply,
)

pytestmark = pytest.mark.asyncio


async def notices(client: httpx2.AsyncClient, member: Member) -> list[dict[str, Any]]:
    await outbox.settled()  # notices are written after the post's commit, in a task
    response = await client.get("/api/v1/notifications", headers=member.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def kinds(client: httpx2.AsyncClient, member: Member) -> list[tuple[str, int]]:
    return [(n["kind"], n["post_id"]) for n in await notices(client, member)]


async def follow(
    client: httpx2.AsyncClient, member: Member, path: str, level: str
) -> dict[str, Any]:
    response = await client.put(
        f"/api/v1/{path}/follow", json={"level": level}, headers=member.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_mention_before_japanese_text_tells_the_user_and_links_the_exact_post(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    await outbox.settled()  # its author's watch on the thread is written after commit
    post = await reply(
        client, bob, thread_id, "@aliceさん、資料を共有します。@nobody-here もどうぞ"
    )
    assert '<a href="/u/alice" class="mention">@alice</a>さん' in post["html"]
    [notice] = await notices(client, alice)
    assert (notice["kind"], notice["post_id"]) == ("mentioned", post["id"])
    assert notice["url"] == f"/t/{thread_id}#post-{post['id']}"
    assert notice["by"] == bob.user.display_name
    assert "メンション" in notice["message"] and bob.user.display_name in notice["message"]
    assert "notification.created" in await event_names(f"user:{alice.user.id}")
    # The thread's author watches it, so hears of the post as a new post, not as a mention.
    assert await kinds(client, admin) == [("watched_post", post["id"])]
    assert await notices(client, bob) == []


async def test_a_reply_and_a_quote_tell_the_author_of_the_post_they_answer(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    original = await reply(client, alice, thread_id, "移住相談会の資料です")
    await age(bob, days=30)  # links from new accounts wait for a moderator
    answer = await reply(client, bob, thread_id, "ありがとうございます", reply_to=original["id"])
    quoting = await reply(
        client,
        bob,
        thread_id,
        f"[こちら](https://koryu.example.jp/t/{thread_id}#post-{original['id']}) の件",
    )
    assert await kinds(client, alice) == [("quoted", quoting["id"]), ("replied", answer["id"])]
    # Replying to oneself tells nobody anything new.
    await reply(client, alice, thread_id, "補足です", reply_to=original["id"])
    assert len(await notices(client, alice)) == 2


async def test_one_post_makes_one_notice_per_person_the_most_personal_reason_winning(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    first = await Post.filter(thread_id=thread_id).first()
    assert first is not None
    post = await reply(client, bob, thread_id, "@alice さん、いかがですか", reply_to=first.id)
    assert await kinds(client, alice) == [("mentioned", post["id"])]


async def test_watching_a_board_brings_every_new_post_and_muting_a_thread_silences_it(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    assert (await follow(client, alice, "boards/kankei", "watching"))["level"] == "watching"
    first = (await new_thread(client, bob))["thread"]["id"]
    second = (await new_thread(client, bob, title="関係人口の数え方", body="指標は？"))["thread"][
        "id"
    ]
    assert [k for k, _ in await kinds(client, alice)] == ["watched_post", "watched_post"]
    # The thread's own level wins over the board's: a muted thread says nothing, even a mention.
    assert (await follow(client, alice, f"threads/{first}", "muted"))["level"] == "muted"
    await reply(client, bob, first, "@alice さん、こちらもどうぞ")
    await reply(client, bob, second, "続報です")
    assert len(await notices(client, alice)) == 3
    assert (await follow(client, alice, f"threads/{first}", "none"))["level"] == "watching"


async def test_tracking_counts_unread_posts_without_notices(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    await reply(client, alice, thread_id, "参加します")
    await outbox.settled()
    # Writing in a thread tracks it, from the writer's own post on.
    tracked = await client.get(f"/api/v1/threads/{thread_id}/follow", headers=alice.headers)
    assert tracked.json() == {"level": "tracking", "unread": 0}
    for text in ("一件目", "二件目", "三件目"):
        last = await reply(client, bob, thread_id, text)
    response = await client.get(f"/api/v1/threads/{thread_id}/follow", headers=alice.headers)
    assert response.json() == {"level": "tracking", "unread": 3}
    assert await notices(client, alice) == []
    await follows.mark_seen(alice.user, await Thread.get(id=thread_id), last["id"])
    assert await follows.unread_in(alice.user, [thread_id]) == {}


async def test_a_bad_follow_level_is_a_422_and_an_unknown_thread_a_404(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    bad = await client.put(
        f"/api/v1/threads/{thread_id}/follow", json={"level": "always"}, headers=alice.headers
    )
    assert bad.status_code == 422 and "level" in bad.json()["error"]["fields"]
    missing = await client.put(
        "/api/v1/threads/999999/follow", json={"level": "watching"}, headers=alice.headers
    )
    assert missing.status_code == 404
    anonymous = await client.get(f"/api/v1/threads/{thread_id}/follow")
    assert anonymous.status_code == 401


async def test_nobody_outside_a_private_board_hears_of_its_posts(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, slug="naibu", private=True)
    insider = await board_staff(client, admin, "naibu", username="insider", role="member")
    thread_id = (await new_thread(client, admin, "naibu"))["thread"]["id"]
    await follows.set_board_level(bob.user, await Board.get(slug="naibu"), FollowLevel.WATCHING)
    post = await reply(client, insider, thread_id, "@alice さん @admin-sato さん、ご確認を")
    assert await notices(client, alice) == []
    assert await notices(client, bob) == []
    assert await kinds(client, admin) == [("mentioned", post["id"])]


async def test_a_held_post_tells_nobody_until_approved_and_a_deleted_one_takes_its_notice(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    for item in await queue(client, admin):
        await decide(client, admin, item, "approve")
    held = await reply(client, bob, thread_id, "@alice さん、よろしくお願いします")
    assert held["status"] == "pending"
    assert await notices(client, alice) == []
    [item] = await queue(client, admin)
    assert (await decide(client, admin, item, "approve")).status_code == 200
    assert await kinds(client, alice) == [("mentioned", held["id"])]
    deleted = await client.delete(f"/api/v1/posts/{held['id']}", headers=bob.headers)
    assert deleted.status_code in (200, 204), deleted.text
    assert await notices(client, alice) == []
    body = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert body["unread"] == 0


async def test_an_anonymous_question_never_names_its_asker(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    asker = await make_member(username="tokumei", display_name="匿名希望の山田")
    thread = await Thread.get(id=thread_id)
    board = await Board.get(slug="kankei")
    draft = posts.Draft(body="@alice さんに質問です", kind="question", anonymous=True)
    actor = await boards.load_actor(asker.user)
    await posts.create_post(actor, thread, board, draft, gate=OpenGate())
    [notice] = await notices(client, alice)
    assert notice["kind"] == "mentioned" and notice["by"] is None
    assert "匿名希望" not in str(notice) and "tokumei" not in str(notice)
    stored = await Notification.get(id=notice["id"])
    assert stored.data["by"] is None


async def test_notify_many_tells_readers_only_and_never_the_author_or_a_muter(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    asked = await question(thread_id, bob, "財源はどう確保しましたか？")
    thread = await Thread.get(id=thread_id)
    board = await Board.get(slug="kankei")
    await follows.set_thread_level(alice.user, thread, FollowLevel.MUTED)
    carol = await make_member(username="carol")
    sent = await notifications.notify_many(
        None,
        NotificationKind.ANSWERED,
        [bob.user.id, alice.user.id, carol.user.id],
        post=asked,
        thread=thread,
        board=board,
    )
    # bob wrote the question: the post's own author is never told of it by others' events.
    assert sent == 1
    [notice] = await notices(client, carol)
    assert notice["kind"] == "answered" and "回答" in notice["message"]
    assert await notices(client, alice) == []


async def test_mentions_are_capped_and_all_stored_in_one_go(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    people = [await make_member(username=f"user{i:02d}") for i in range(55)]
    body = " ".join(f"@{p.user.username}" for p in people)
    post = await reply(client, admin, thread_id, body)
    await outbox.settled()
    stored = await Notification.filter(post_id=post["id"], kind=NotificationKind.MENTIONED)
    assert len(stored) == notifications.MAX_MENTIONS
    assert {n.user_id for n in stored} == {p.user.id for p in people[:50]}  # type: ignore[attr-defined]
