"""Edits meet every rule a new post meets; idempotency keys; staff badges on live posts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import pytest

import forum
from forum import events, outbox
from forum.models import Post, Role, Thread
from tests.conftest import Member, make_member
from tests.forum.test_api import error_code, new_board, new_thread

pytestmark = pytest.mark.asyncio


# --- idempotency -------------------------------------------------------------------------


async def test_a_reused_idempotency_key_with_another_post_body_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    headers = {**alice.headers, "Idempotency-Key": "retry-2"}
    url = f"/api/v1/threads/{thread_id}/posts"
    first = await client.post(url, json={"body": "一度だけ"}, headers=headers)
    assert first.status_code == 201
    other = await client.post(url, json={"body": "別の本文"}, headers=headers)
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_mismatch"
    spaced = {**headers, "Content-Type": "application/json"}
    same = await client.post(url, content='{ "body" : "一度だけ" }', headers=spaced)
    assert same.status_code == 201
    assert same.json() == first.json()
    assert await Post.filter(thread_id=thread_id).count() == 2


async def test_a_reused_idempotency_key_with_another_thread_title_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    headers = {**alice.headers, "Idempotency-Key": "thread-1"}
    url = "/api/v1/boards/kankei/threads"
    first = await client.post(url, json={"title": "移住相談", "body": "本文"}, headers=headers)
    assert first.status_code == 201
    other = await client.post(url, json={"title": "別の題", "body": "本文"}, headers=headers)
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_mismatch"
    again = await client.post(url, json={"body": "本文", "title": "移住相談"}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await Thread.all().count() == 1


# --- thread titles, sanctions, rate limits --------------------------------------------------


async def watch(client: httpx2.AsyncClient, admin: Member, word: str, action: str) -> None:
    response = await client.post(
        "/api/v1/moderation/rules/words",
        json={"word": word, "action": action},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text


async def retitle(
    client: httpx2.AsyncClient, member: Member, thread_id: int, title: str
) -> httpx2.Response:
    return await client.patch(
        f"/api/v1/threads/{thread_id}", json={"title": title}, headers=member.headers
    )


async def test_a_retitle_meets_the_blocked_and_held_words_a_new_thread_meets(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = (await new_thread(client, alice))["thread"]
    await watch(client, admin, "禁止語", "block")
    await watch(client, admin, "要確認", "hold")
    blocked = await retitle(client, alice, thread["id"], "禁止語のタイトル")
    assert blocked.status_code == 422
    assert error_code(blocked) == "blocked_word"
    assert "title" in blocked.json()["error"]["fields"]
    # Half-width and case variants are the same word to the rules.
    held = await retitle(client, alice, thread["id"], "ﾖｳｶｸﾆﾝ ではなく 要確認 の話")
    assert held.status_code == 422
    assert error_code(held) == "title_held"
    assert (await Thread.get(id=thread["id"])).title == thread["title"]
    assert (await retitle(client, alice, thread["id"], "移住の相談")).status_code == 200
    # A moderator's own wording is not held.
    assert (await retitle(client, admin, thread["id"], "要確認：移住の相談")).status_code == 200
    assert (await Thread.get(id=thread["id"])).title == "要確認：移住の相談"


async def test_a_new_threads_title_meets_the_same_words(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await watch(client, admin, "禁止語", "block")
    await watch(client, admin, "要確認", "hold")
    url = "/api/v1/boards/kankei/threads"
    blocked = await client.post(
        url, json={"title": "禁止語について", "body": "本文"}, headers=alice.headers
    )
    assert blocked.status_code == 422
    assert error_code(blocked) == "blocked_word"
    held = await client.post(
        url, json={"title": "要確認の件", "body": "本文"}, headers=alice.headers
    )
    assert held.status_code == 201
    assert held.json()["post"]["status"] == "pending"
    items = (await client.get("/api/v1/moderation/queue", headers=admin.headers)).json()["items"]
    assert {"code": "watched_word", "detail": "要確認"} in [
        {"code": r["code"], "detail": r["detail"]} for r in items[0]["reasons"]
    ]


async def test_a_silenced_author_can_neither_retitle_nor_edit_nor_delete_their_posts(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    created = await new_thread(client, alice)
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    silenced = await client.post(
        "/api/v1/moderation/users/alice/sanctions",
        json={"kind": "silence", "hours": 24},
        headers=admin.headers,
    )
    assert silenced.status_code == 200, silenced.text
    assert (await retitle(client, alice, thread_id, "新しい題")).status_code == 403
    edit = await client.patch(
        f"/api/v1/posts/{post_id}", json={"body": "書き換え"}, headers=alice.headers
    )
    assert edit.status_code == 403
    assert (await client.delete(f"/api/v1/posts/{post_id}", headers=alice.headers)).status_code == (
        403
    )
    stored = await Post.get(id=post_id)
    assert (stored.body, stored.deleted_at) == (created["post"]["body"], None)
    assert (await Thread.get(id=thread_id)).title == created["thread"]["title"]


async def test_a_suspended_author_cannot_edit_retitle_or_delete(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    created = await new_thread(client, alice)
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    suspended = await client.post(
        "/api/v1/moderation/users/alice/sanctions",
        json={"kind": "suspend", "hours": 24},
        headers=admin.headers,
    )
    assert suspended.status_code == 200, suspended.text
    for response in (
        await retitle(client, alice, thread_id, "新しい題"),
        await client.patch(
            f"/api/v1/posts/{post_id}", json={"body": "書き換え"}, headers=alice.headers
        ),
        await client.delete(f"/api/v1/posts/{post_id}", headers=alice.headers),
    ):
        assert response.status_code == 401
    assert (await Post.get(id=post_id)).body == created["post"]["body"]


async def test_edits_and_retitles_spend_the_posting_allowance(
    client: httpx2.AsyncClient, admin: Member, alice: Member, app: Any
) -> None:
    await new_board(client, admin)
    created = await new_thread(client, alice)  # one post of the allowance
    thread_id, post_id = created["thread"]["id"], created["post"]["id"]
    limit = app.state.settings.posts_per_minute
    for i in range(limit - 2):
        edited = await client.patch(
            f"/api/v1/posts/{post_id}", json={"body": f"訂正 {i}"}, headers=alice.headers
        )
        assert edited.status_code == 200, edited.text
    assert (await retitle(client, alice, thread_id, "最後の題")).status_code == 200
    refused = await client.patch(
        f"/api/v1/posts/{post_id}", json={"body": "もう一度"}, headers=alice.headers
    )
    assert refused.status_code == 429
    assert error_code(refused) == "rate_limited"
    again = await retitle(client, alice, thread_id, "さらに別の題")
    assert again.status_code == 429
    assert (await Thread.get(id=thread_id)).title == "最後の題"


# --- staff badges on live posts -----------------------------------------------------------


def _article(page: str, post_id: int) -> str:
    start = page.index(f'id="post-{post_id}"')
    return page[start : page.index("</article>", start)]


def _badges(article: str) -> list[str]:
    header = article[: article.index("</header>")]
    return re.findall(r'<span class="badge[^"]*">([^<]*)</span>', header)


async def test_a_live_post_carries_the_staff_badge_the_server_rendered_page_shows(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    moderator = await make_member(username="mod-kato", role=Role.MODERATOR)
    expert = await make_member(username="dr-yamada", role=Role.EXPERT)
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    made = {}
    for member in (admin, moderator, expert, alice):
        response = await client.post(
            f"/api/v1/threads/{thread_id}/posts", json={"body": "回答"}, headers=member.headers
        )
        made[member.user.username] = response.json()["id"]
    page = await client.get(f"/t/{thread_id}")
    found = re.search(
        r'<script type="application/json" id="live-strings">(.*?)</script>', page.text
    )
    assert found is not None
    strings = json.loads(found[1])
    # live.js labels a badge with these strings.
    labels = {
        "expert": strings["expert"],
        "moderator": strings["role_moderator"],
        "admin": strings["role_admin"],
    }
    stored = await outbox.read_events(events.thread_channel(thread_id), 0)
    live = {e.data["id"]: e.data for e in stored if e.name == "post.created"}
    expected = {"admin-sato": "admin", "mod-kato": "moderator", "dr-yamada": "expert"}
    for username, post_id in made.items():
        badge = live[post_id]["badge"]
        assert badge == expected.get(username)
        assert _badges(_article(page.text, post_id)) == ([labels[badge]] if badge else [])
    assert _badges(_article(page.text, made["admin-sato"])) == ["管理者"]
    script = (Path(forum.__file__).parent / "static" / "live.js").read_text()
    assert "strings[`role_${post.badge}`]" in script
