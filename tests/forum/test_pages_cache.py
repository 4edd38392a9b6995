"""The thread page of anonymous viewers: cached per thread seq, revalidated by ETag, never shared
further than it may be (tokens, nonces, languages, permissions, signed-in viewers)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from forum.models import User
from forum.web import pagecache, pages, templating
from tests.conftest import Member
from tests.forum.support import (
    log_in,
    new_board,
    new_thread,
    question,
    reply,
    settle_tallies,
    token_in,
)


@pytest.fixture
async def visitor(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """A second anonymous browser, with a cookie jar of its own."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The page names rendered for the anonymous cache, in order."""
    calls: list[str] = []
    original = templating.render_html

    def counting(request: Any, name: str, context: dict[str, Any] | None = None) -> str:
        calls.append(name)
        return original(request, name, context)

    monkeypatch.setattr(pages, "render_html", counting)
    return calls


def cache_of(app: Starlette) -> pagecache.PageCache:
    cache: pagecache.PageCache = app.state.anonymous_page_cache
    return cache


def nonce_of(page: httpx2.Response) -> str:
    match = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])
    assert match
    return match.group(1)


def form_tokens(page: httpx2.Response) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]*)"', page.text))


async def thread_with_posts(client: httpx2.AsyncClient, admin: Member, alice: Member) -> int:
    await new_board(client, admin, moderation="open")
    thread = await new_thread(client, admin)
    assert await reply(client, alice, thread["id"], "- 一つ目\n- 二つ目") == "published"
    assert await reply(client, admin, thread["id"], "参考: https://example.jp") == "published"
    return int(thread["id"])


# --- the cache itself ---------------------------------------------------------------------


async def test_a_cached_page_is_the_page_a_fresh_render_gives(
    app: Starlette,
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    renders: list[str],
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    first = await client.get(f"/t/{thread_id}")
    second = await client.get(f"/t/{thread_id}")
    assert first.status_code == second.status_code == 200
    assert renders == ["forum/thread.html"], "the second view must come from the cache"
    assert second.text == first.text
    assert second.headers["ETag"] == first.headers["ETag"]
    assert pagecache.CSRF_PLACEHOLDER not in second.text

    cache_of(app).clear()
    fresh = await client.get(f"/t/{thread_id}")
    assert len(renders) == 2
    assert fresh.text == first.text
    assert fresh.headers["ETag"] == first.headers["ETag"]
    assert "一つ目" in fresh.text and 'href="https://example.jp"' in fresh.text


async def test_the_anonymous_page_is_revalidated_with_its_etag(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    page = await client.get(f"/t/{thread_id}")
    etag = page.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', etag)
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert page.headers["Vary"] == "Accept-Language, Cookie"

    for sent in (etag, f"W/{etag}", f'"other", {etag}'):
        again = await client.get(f"/t/{thread_id}", headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Cache-Control"] == "private, no-cache"
        assert again.headers["Vary"] == "Accept-Language, Cookie"
    stale = await client.get(f"/t/{thread_id}", headers={"If-None-Match": '"stale-0"'})
    assert stale.status_code == 200
    assert stale.text == page.text


async def test_pages_of_posts_and_one_off_queries_are_cached_apart_or_not_at_all(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    first = await client.get(f"/t/{thread_id}")
    later = await client.get(f"/t/{thread_id}?after=1")
    assert "一つ目" in later.text and 'id="post-1"' not in later.text
    assert later.headers["ETag"] != first.headers["ETag"]
    assert f'name="next" value="/t/{thread_id}?after=1"' in later.text
    pending = await client.get(f"/t/{thread_id}?posted=pending")
    assert "ETag" not in pending.headers
    assert "承認待ち" in pending.text


# --- every change to the thread shows at once ----------------------------------------------


async def assert_changes(
    client: httpx2.AsyncClient,
    thread_id: int,
    change: Callable[[], Awaitable[None]],
    *,
    shows: str = "",
    hides: str = "",
) -> None:
    before = await client.get(f"/t/{thread_id}")
    assert before.status_code == 200
    await change()
    after = await client.get(f"/t/{thread_id}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200, "a changed thread must not be answered 304"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.text != before.text
    if shows:
        assert shows not in before.text and shows in after.text
    if hides:
        assert hides in before.text and hides not in after.text


async def test_a_new_post_an_edit_and_a_deletion_change_the_page_and_its_etag(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    url = f"/api/v1/threads/{thread_id}/posts"
    created: dict[str, Any] = {}

    async def new_post() -> None:
        response = await client.post(url, json={"body": "新しい意見です"}, headers=alice.headers)
        assert response.status_code == 201, response.text
        created.update(response.json())

    async def edit() -> None:
        response = await client.patch(
            f"/api/v1/posts/{created['id']}", json={"body": "書き直した意見"}, headers=alice.headers
        )
        assert response.status_code == 200, response.text

    async def delete() -> None:
        response = await client.delete(f"/api/v1/posts/{created['id']}", headers=alice.headers)
        assert response.status_code == 204, response.text

    await assert_changes(client, thread_id, new_post, shows="新しい意見です")
    await assert_changes(client, thread_id, edit, shows="書き直した意見", hides="新しい意見です")
    await assert_changes(client, thread_id, delete, hides="書き直した意見")


async def test_locking_the_thread_and_a_vote_change_the_page_and_its_etag(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    asked = await question(thread_id, alice)

    async def lock() -> None:
        response = await client.patch(
            f"/api/v1/threads/{thread_id}", json={"locked": True}, headers=admin.headers
        )
        assert response.status_code == 200, response.text

    async def vote() -> None:
        response = await client.put(f"/api/v1/posts/{asked.id}/vote", headers=bob.headers)
        assert response.status_code == 200, response.text
        # A vote reaches the thread's channel, and so the page's key, with the tally.
        await settle_tallies(thread_id)

    await assert_changes(client, thread_id, lock, shows="このスレッドはロックされています")
    await assert_changes(client, thread_id, vote, shows='<span class="vote-count">1</span>')


async def test_what_no_thread_event_announces_is_stale_for_the_ttl_at_most(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    now = [1000.0]
    cache_of_app = pagecache.PageCache(clock=lambda: now[0])
    app.state.anonymous_page_cache = cache_of_app
    before = await client.get(f"/t/{thread_id}")
    assert "alice さん" in before.text
    await User.filter(id=alice.user.id).update(display_name="有田アリス")
    now[0] += cache_of_app.ttl - 1
    assert "alice さん" in (await client.get(f"/t/{thread_id}")).text
    now[0] += 1
    after = await client.get(f"/t/{thread_id}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "有田アリス" in after.text and "alice さん" not in after.text


# --- what must never be shared -------------------------------------------------------------


async def test_a_signed_in_viewer_never_gets_the_anonymous_page_and_sees_their_pending_post(
    client: httpx2.AsyncClient, visitor: httpx2.AsyncClient, admin: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread = await new_thread(client, admin)
    thread_id = thread["id"]
    anonymous = await visitor.get(f"/t/{thread_id}")
    assert "ETag" in anonymous.headers
    assert await reply(client, bob, thread_id, "承認を待つボブの意見") == "pending"

    await log_in(client, "bob")
    own = await client.get(f"/t/{thread_id}")
    assert own.status_code == 200
    assert "ETag" not in own.headers
    assert "承認を待つボブの意見" in own.text and "承認待ち</span>" in own.text
    assert "ログアウト" in own.text and "ログインして返信する" not in own.text
    assert token_in(own) != token_in(anonymous)
    again = await client.get(
        f"/t/{thread_id}", headers={"If-None-Match": anonymous.headers["ETag"]}
    )
    assert again.status_code == 200 and "承認を待つボブの意見" in again.text

    still = await visitor.get(f"/t/{thread_id}")
    assert "承認を待つボブの意見" not in still.text
    assert "ログインして返信する" in still.text


async def test_a_board_made_private_stops_its_cached_page_at_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    page = await client.get(f"/t/{thread_id}")
    assert page.status_code == 200
    response = await client.patch(
        "/api/v1/boards/kankei", json={"private": True}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    for headers in ({}, {"If-None-Match": page.headers["ETag"]}):
        refused = await client.get(f"/t/{thread_id}", headers=headers)
        assert refused.status_code == 404
        assert "一つ目" not in refused.text
        assert "ETag" not in refused.headers


async def test_two_visitors_never_share_a_csrf_token_or_a_nonce(
    client: httpx2.AsyncClient,
    visitor: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    renders: list[str],
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    await client.get("/")  # each has their visitor cookie before the thread page
    await visitor.get("/")
    first = await client.get(f"/t/{thread_id}")
    second = await visitor.get(f"/t/{thread_id}")
    assert renders == ["forum/thread.html"], "the second visitor must get the cached page"

    mine, theirs = client.cookies["koryu_csrf"], visitor.cookies["koryu_csrf"]
    assert mine != theirs
    assert token_in(first) == mine and form_tokens(first) == {mine}
    assert token_in(second) == theirs and form_tokens(second) == {theirs}
    assert theirs not in first.text and mine not in second.text
    assert first.text.replace(mine, theirs) == second.text

    assert nonce_of(first) != nonce_of(second)
    for page in (first, second):
        assert "nonce=" not in page.text
        assert nonce_of(first) not in page.text and nonce_of(second) not in page.text
    assert first.headers["ETag"] != second.headers["ETag"]
    crossed = await visitor.get(f"/t/{thread_id}", headers={"If-None-Match": first.headers["ETag"]})
    assert crossed.status_code == 200 and token_in(crossed) == theirs

    # The token of the cached page works: the language switch accepts it.
    switched = await visitor.post(
        "/lang", data={"lang": "en", "next": f"/t/{thread_id}", "csrf_token": token_in(second)}
    )
    assert switched.status_code == 303


async def test_a_first_visit_gets_the_token_of_its_own_new_cookie(
    client: httpx2.AsyncClient, visitor: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    warm = await client.get(f"/t/{thread_id}")
    new = await visitor.get(f"/t/{thread_id}")
    assert new.status_code == 200
    assert token_in(new) == visitor.cookies["koryu_csrf"] != token_in(warm)
    # Without a cookie the next visit is another new visitor: never 304 on someone's page.
    visitor.cookies.clear()
    bare = await visitor.get(f"/t/{thread_id}", headers={"If-None-Match": new.headers["ETag"]})
    assert bare.status_code == 200
    assert token_in(bare) == visitor.cookies["koryu_csrf"] != token_in(new)


async def test_each_language_gets_its_own_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    thread_id = await thread_with_posts(client, admin, alice)
    japanese = await client.get(f"/t/{thread_id}")
    english = await client.get(f"/t/{thread_id}", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in japanese.text and "ログインして返信する" in japanese.text
    assert '<html lang="en">' in english.text and "ログインして返信する" not in english.text
    assert english.headers["ETag"] != japanese.headers["ETag"]
    crossed = await client.get(
        f"/t/{thread_id}",
        headers={"Accept-Language": "en", "If-None-Match": japanese.headers["ETag"]},
    )
    assert crossed.status_code == 200 and '<html lang="en">' in crossed.text
    again = await client.get(f"/t/{thread_id}")
    assert again.text == japanese.text
