"""Thread lists as forum regulars expect them: replies, views, last poster, unread counts
in one query; read positions; batched view counts; generated avatars; relative times."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from starlette.applications import Starlette

from forum import avatars, outbox, reading, threads
from forum.models import Board, ReadPosition, Thread, User
from forum.permissions import Actor
from forum.views import ViewCounter
from forum.web.templating import relative_text, reltime
from tests.conftest import Member
from tests.forum.support import log_in, new_board, new_thread


async def reply(client: httpx2.AsyncClient, member: Member, thread_id: int, body: str) -> int:
    response = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_board_lists_replies_views_and_the_last_poster_of_each_thread(
    client: httpx2.AsyncClient, app: Starlette, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await reply(client, bob, thread["id"], "一件目の返信")
    await reply(client, bob, thread["id"], "二件目の返信")
    for _ in range(3):
        assert (await client.get(f"/t/{thread['id']}")).status_code == 200
    await app.state.view_counter.flush()
    page = (await client.get("/b/kankei")).text
    assert "返信2件" in page and "閲覧3回" in page
    assert '<span class="last-poster">bob さん</span>' in page
    assert "data-rel>たった今</time>" in page


async def test_a_thread_list_reads_its_rows_posters_and_unread_counts_in_one_query(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await new_board(client, admin)
    for n in range(5):
        made = await new_thread(client, alice, title=f"話題{n}", body=f"{n}番目の話題の本文")
        await reply(client, bob, made["id"], f"{n}番目の話題への返信")
    await outbox.settled()  # the starter's watching begins after commit
    board = await Board.get(slug="kankei")
    actor = Actor(user=await User.get(id=alice.user.id), board_roles={})
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        page = await threads.list_threads(actor, board)
    selects = [r for r in caplog.records if "SELECT" in r.getMessage()]
    assert len(selects) == 1
    posters = [t.last_poster.username if t.last_poster else "" for t in page.threads]
    assert posters == ["bob"] * 5
    assert [t.unread for t in page.threads] == [1] * 5  # type: ignore[attr-defined]


async def test_unread_counts_follow_the_read_position_and_the_thread_page_jumps_to_the_first(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, bob)
    thread_id = thread["id"]
    await reply(client, bob, thread_id, "最初の返信")
    await log_in(client, "alice")
    first_visit = (await client.get(f"/t/{thread_id}")).text
    assert 'id="unread"' not in first_visit  # everything is new on a first visit
    assert 'class="badge badge-unread"' not in (await client.get("/b/kankei")).text
    seen = (await ReadPosition.get(user_id=alice.user.id, thread_id=thread_id)).last_read_post_id
    later = [await reply(client, bob, thread_id, f"追加の返信{n}") for n in range(2)]
    assert seen < later[0]
    board = (await client.get("/b/kankei")).text
    assert f'<a class="badge badge-unread" href="/t/{thread_id}#unread">未読2件</a>' in board
    page = (await client.get(f"/t/{thread_id}")).text
    assert '<a class="button" href="#unread">最初の未読へ</a>' in page
    divider = page.index('id="unread"')
    assert page.index(f'id="post-{seen}"') < divider < page.index(f'id="post-{later[0]}"')
    assert (
        await ReadPosition.get(user_id=alice.user.id, thread_id=thread_id)
    ).last_read_post_id == later[1]
    assert 'class="badge badge-unread"' not in (await client.get("/b/kankei")).text


async def test_ones_own_posts_never_count_as_unread(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, bob)
    await log_in(client, "alice")
    await client.get(f"/t/{thread['id']}")
    await reply(client, alice, thread["id"], "自分の返信")
    assert 'class="badge badge-unread"' not in (await client.get("/b/kankei")).text


async def test_a_page_seen_before_writes_no_read_position(
    client: httpx2.AsyncClient, admin: Member, alice: Member, caplog: pytest.LogCaptureFixture
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, admin)
    await log_in(client, "alice")
    await client.get(f"/t/{thread['id']}")
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await client.get(f"/t/{thread['id']}")
    writes = [r for r in caplog.records if "read_positions (" in r.getMessage()]
    assert writes == []


async def test_the_read_beacon_moves_the_position_forward_only_to_published_posts(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, bob)
    thread_id = thread["id"]
    await log_in(client, "alice")
    page = await client.get(f"/t/{thread_id}")
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    newer = await reply(client, bob, thread_id, "ライブで届いた返信")
    sent = await client.post(
        f"/t/{thread_id}/read", data={"csrf_token": token, "post_id": str(newer + 1000)}
    )
    assert sent.status_code == 204
    position = await ReadPosition.get(user_id=alice.user.id, thread_id=thread_id)
    assert position.last_read_post_id == newer  # not past what exists
    back = await client.post(f"/t/{thread_id}/read", data={"csrf_token": token, "post_id": "1"})
    assert back.status_code == 204
    assert (await ReadPosition.get(id=position.id)).last_read_post_id == newer
    refused = await client.post(f"/t/{thread_id}/read", data={"post_id": str(newer)})
    assert refused.status_code == 403


async def test_views_are_counted_in_memory_and_written_as_one_update_per_thread(
    client: httpx2.AsyncClient, admin: Member, caplog: pytest.LogCaptureFixture
) -> None:
    await new_board(client, admin)
    one, two = await new_thread(client, admin), await new_thread(client, admin, title="二つ目")
    counter = ViewCounter(interval=3600)
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        for _ in range(50):
            counter.hit(one["id"])
        counter.hit(two["id"])
        assert [r for r in caplog.records if "view_count" in r.getMessage()] == []
        caplog.clear()
        assert await counter.flush() == 2
    updates = [r for r in caplog.records if r.getMessage().startswith('UPDATE "threads"')]
    assert len(updates) == 2
    assert (await Thread.get(id=one["id"])).view_count == 50
    assert (await Thread.get(id=two["id"])).view_count == 1
    assert counter.pending == {}


async def test_a_due_view_counter_flushes_in_the_background(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin)
    made = await new_thread(client, admin)
    counter = ViewCounter(interval=0)
    counter.hit(made["id"])
    await counter.close()
    assert (await Thread.get(id=made["id"])).view_count == 1


async def test_an_anonymous_question_leaves_no_last_poster_in_the_list(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, admin)
    patched = await client.patch(
        f"/api/v1/threads/{thread['id']}", json={"live": True}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    asked = await client.post(
        f"/api/v1/threads/{thread['id']}/posts",
        json={"body": "匿名の質問です", "kind": "question", "anonymous": True},
        headers=alice.headers,
    )
    assert asked.status_code == 201, asked.text
    queue = (await client.get("/api/v1/moderation/queue", headers=admin.headers)).json()
    (item,) = queue["items"]
    approved = await client.post(
        f"/api/v1/moderation/items/{item['id']}/approve",
        json={"version": item["version"]},
        headers=admin.headers,
    )
    assert approved.status_code == 200, approved.text
    assert (await Thread.get(id=thread["id"])).last_poster_id is None  # type: ignore[attr-defined]
    assert '<span class="last-poster">alice</span>' not in (await client.get("/b/kankei")).text


def test_avatars_take_a_japanese_names_first_character_and_latin_initials() -> None:
    assert avatars.initials_of("佐藤 大輔") == "佐"
    assert avatars.initials_of("ada lovelace") == "AL"
    assert avatars.initials_of("Ｋｏｒｙｕ") == "K"  # folded by NFKC first
    assert avatars.initials_of("  ") == "?"
    assert avatars.hue_of(1) != avatars.hue_of(2)
    assert 0 <= avatars.hue_of(12345) < 360


async def test_posts_and_lists_show_the_generated_avatar_of_their_author(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    hue = avatars.hue_of(alice.user.id)
    svg = f'<circle cx="16" cy="16" r="16" fill="hsl({hue} 50% 30%)"></circle>'
    assert svg in (await client.get(f"/t/{thread['id']}")).text
    assert svg in (await client.get("/b/kankei")).text


def test_relative_times_read_as_people_say_them_with_the_jst_time_on_hover() -> None:
    now = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert relative_text(now - timedelta(seconds=20), now) == "たった今"
    assert relative_text(now - timedelta(minutes=3), now) == "3分前"
    assert relative_text(now - timedelta(hours=5), now) == "5時間前"
    assert relative_text(now - timedelta(days=2), now) == "2日前"
    assert relative_text(now - timedelta(days=30), now) == "2026年10月31日 12:00"
    markup = str(reltime(now - timedelta(minutes=3), now))
    assert markup == (
        '<time datetime="2026-11-30T11:57:00+09:00" title="2026年11月30日 11:57" '
        "data-rel>3分前</time>"
    )


def test_first_unread_skips_ones_own_posts_and_is_nothing_on_a_first_visit() -> None:
    assert reading.first_unread(None, [(5, 2)], 1) == 0
    assert reading.first_unread(4, [(3, 2), (5, 1), (6, 2)], 1) == 6
    assert reading.first_unread(9, [(3, 2)], 1) == 0
