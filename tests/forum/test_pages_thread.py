"""The thread page's tools: paging past others' pending posts, flag and manage links, votes."""

from __future__ import annotations

import re

import httpx2

from forum.models import Post, PostStatus, Vote
from tests.conftest import Member, make_member
from tests.forum.support import log_in, new_board, new_thread, question, reply, token_in

# --- paging ---------------------------------------------------------------------------------


async def test_other_peoples_pending_posts_do_not_shorten_a_page_of_posts(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = await new_thread(client, admin)
    for n in range(3):
        assert await reply(client, bob, thread["id"], f"保留される意見{n}") == "pending"
    assert await reply(client, admin, thread["id"], "公開される返信A") == "published"
    assert await reply(client, admin, thread["id"], "公開される返信B") == "published"
    url = f"/api/v1/threads/{thread['id']}/posts"

    first = (await client.get(url, params={"limit": 2}, headers=alice.headers)).json()
    assert [p["status"] for p in first["items"]] == ["published", "published"]
    assert first["items"][1]["body"] == "公開される返信A"
    assert first["next_cursor"] == str(first["items"][1]["id"])
    rest = await client.get(
        url, params={"limit": 2, "after": first["next_cursor"]}, headers=alice.headers
    )
    assert [p["body"] for p in rest.json()["items"]] == ["公開される返信B"]

    own = (await client.get(url, params={"limit": 3}, headers=bob.headers)).json()
    assert [p["status"] for p in own["items"]] == ["published", "pending", "pending"]
    assert own["next_cursor"] is not None
    everything = (await client.get(url, params={"limit": 10}, headers=admin.headers)).json()
    assert len(everything["items"]) == 6
    assert sum(p["status"] == "pending" for p in everything["items"]) == 3


async def test_board_moderators_see_pending_posts_on_the_thread_page_and_others_do_not(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = await new_thread(client, admin)
    await reply(client, bob, thread["id"], "承認を待つ意見")
    await log_in(client, "alice")
    assert "承認を待つ意見" not in (await client.get(f"/t/{thread['id']}")).text
    client.cookies.clear()
    await log_in(client, "admin-sato")
    page = await client.get(f"/t/{thread['id']}")
    assert "承認を待つ意見" in page.text
    assert "承認待ち</span>" in page.text


# --- flag and manage links ------------------------------------------------------------------


async def test_signed_in_readers_get_a_flag_link_on_published_posts_of_others_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await reply(client, bob, thread["id"], "ボブの返信")
    first, second = await Post.filter(thread_id=thread["id"]).order_by("id")
    visitor = await client.get(f"/t/{thread['id']}")
    assert "/flag" not in visitor.text
    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}")
    assert f'href="/moderation/posts/{first.id}/flag"' in page.text
    assert f'href="/moderation/posts/{second.id}/flag"' not in page.text
    form = await client.get(f"/moderation/posts/{first.id}/flag")
    assert form.status_code == 200


async def test_only_moderators_of_the_board_get_the_manage_thread_link(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await new_board(client, admin, slug="other")
    thread = await new_thread(client, alice)
    link = f'href="/moderation/threads/{thread["id"]}"'
    await make_member(username="mod-kankei")
    await make_member(username="mod-other")
    for slug, name in (("kankei", "mod-kankei"), ("other", "mod-other")):
        response = await client.put(
            f"/api/v1/boards/{slug}/moderators/{name}",
            json={"role": "moderator"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
    for username, expected in (("alice", False), ("mod-other", False), ("mod-kankei", True)):
        client.cookies.clear()
        await log_in(client, username)
        page = await client.get(f"/t/{thread['id']}")
        assert (link in page.text) is expected, username
        assert ("スレッドを管理" in page.text) is expected, username


# --- votes -----------------------------------------------------------------------------------


async def test_a_reader_votes_for_a_question_through_the_form_and_takes_the_vote_back(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    asked = await question(thread["id"], alice)
    action = f'action="/t/{thread["id"]}/posts/{asked.id}/vote"'
    visitor = await client.get(f"/t/{thread['id']}")
    assert '<span class="vote-count">0</span>' in visitor.text
    assert action not in visitor.text

    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}")
    assert action in page.text and "この質問に投票" in page.text
    response = await client.post(
        f"/t/{thread['id']}/posts/{asked.id}/vote", data={"up": "1", "csrf_token": token_in(page)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{thread['id']}#post-{asked.id}"
    assert (await Post.get(id=asked.id)).votes == 1
    page = await client.get(f"/t/{thread['id']}")
    assert '<span class="vote-count">1</span>' in page.text
    assert "投票を取り消す" in page.text
    assert 'name="up" value="0"' in page.text

    response = await client.post(
        f"/t/{thread['id']}/posts/{asked.id}/vote", data={"up": "0", "csrf_token": token_in(page)}
    )
    assert response.status_code == 303
    assert (await Post.get(id=asked.id)).votes == 0
    assert not await Vote.exists(post_id=asked.id)


async def test_a_vote_without_the_csrf_token_is_refused_and_counts_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    asked = await question(thread["id"], alice)
    await log_in(client, "bob")
    for bad in ({}, {"csrf_token": "forged"}):
        response = await client.post(
            f"/t/{thread['id']}/posts/{asked.id}/vote", data={"up": "1", **bad}
        )
        assert response.status_code == 403
    assert (await Post.get(id=asked.id)).votes == 0


async def test_the_asker_sees_the_count_but_no_vote_button_and_cannot_vote_for_themselves(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    asked = await question(thread["id"], alice)
    await log_in(client, "alice")
    page = await client.get(f"/t/{thread['id']}")
    assert '<span class="vote-count">0</span>' in page.text
    assert f"/posts/{asked.id}/vote" not in page.text
    response = await client.post(
        f"/t/{thread['id']}/posts/{asked.id}/vote", data={"up": "1", "csrf_token": token_in(page)}
    )
    assert response.status_code == 403
    assert (await Post.get(id=asked.id)).votes == 0


async def test_a_vote_keeps_the_page_of_the_thread_it_came_from(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    asked = await question(thread["id"], alice)
    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}?after=1")
    assert re.search(r'name="after" value="1"', page.text)
    response = await client.post(
        f"/t/{thread['id']}/posts/{asked.id}/vote",
        data={"up": "1", "after": "1", "csrf_token": token_in(page)},
    )
    assert response.headers["location"] == f"/t/{thread['id']}?after=1#post-{asked.id}"


async def test_voting_through_another_threads_address_is_404_and_counts_nothing(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    other = await new_thread(client, alice, title="別の話題")
    asked = await question(thread["id"], alice)
    await log_in(client, "bob")
    page = await client.get(f"/t/{thread['id']}")
    response = await client.post(
        f"/t/{other['id']}/posts/{asked.id}/vote", data={"up": "1", "csrf_token": token_in(page)}
    )
    assert response.status_code == 404
    assert (await Post.get(id=asked.id)).votes == 0


async def test_plain_posts_and_pending_questions_show_no_votes(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    asked = await question(thread["id"], alice)
    await Post.filter(id=asked.id).update(status=PostStatus.PENDING)
    await log_in(client, "alice")
    page = await client.get(f"/t/{thread['id']}")
    assert "vote-count" not in page.text


# --- following -------------------------------------------------------------------------------


async def test_a_reader_follows_a_thread_and_a_board_from_their_pages(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    visitor = await client.get(f"/t/{thread['id']}")
    assert 'class="follow-form"' not in visitor.text

    await log_in(client, "bob")
    board_page = await client.get("/b/kankei")
    assert 'action="/b/kankei/follow"' in board_page.text
    assert '<option value="none" selected>フォローしない</option>' in board_page.text
    done = await client.post(
        "/b/kankei/follow", data={"level": "tracking", "csrf_token": token_in(board_page)}
    )
    assert done.status_code == 303 and done.headers["location"] == "/b/kankei"
    page = await client.get(f"/t/{thread['id']}")
    # The thread follows its board until the reader chooses for the thread itself.
    assert '<option value="none" selected>掲示板の設定に従う</option>' in page.text
    assert "掲示板の設定：追跡（未読数のみ）" in page.text
    done = await client.post(
        f"/t/{thread['id']}/follow", data={"level": "watching", "csrf_token": token_in(page)}
    )
    assert done.status_code == 303
    follow = await client.get(f"/api/v1/threads/{thread['id']}/follow", headers=bob.headers)
    assert follow.json()["level"] == "watching"
    page = await client.get(f"/t/{thread['id']}")
    assert '<option value="watching" selected>' in page.text
    assert "掲示板の設定：" not in page.text
    bad = await client.post(
        f"/t/{thread['id']}/follow", data={"level": "loud", "csrf_token": token_in(page)}
    )
    assert bad.status_code == 422
    refused = await client.post(f"/t/{thread['id']}/follow", data={"level": "muted"})
    assert refused.status_code == 403
    follow = await client.get(f"/api/v1/threads/{thread['id']}/follow", headers=bob.headers)
    assert follow.json()["level"] == "watching"
