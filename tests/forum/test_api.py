"""API v1: every route, its errors and its permissions, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from forum import avatars
from forum.models import Board, Post, PostRevision, PostStatus, Role, Thread, User
from tests.conftest import PASSWORD, Member, make_member

pytestmark = pytest.mark.asyncio


async def new_board(
    client: httpx2.AsyncClient, admin: Member, slug: str = "kankei", **extra: Any
) -> dict[str, Any]:
    body = {"slug": slug, "title": "関係人口の創出・拡大", "description": "説明", **extra}
    response = await client.post("/api/v1/boards", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def new_thread(
    client: httpx2.AsyncClient,
    member: Member,
    slug: str = "kankei",
    title: str = "ふるさと納税の活用",
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/boards/{slug}/threads",
        json={"title": title, "body": "寄附者と**継続的な関係**をつくるには？"},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def error_code(response: httpx2.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return str(body["error"]["code"])


# --- accounts ---------------------------------------------------------------------------


async def test_registration_creates_a_participant_and_a_token_authenticates_them(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/users",
        json={
            "username": "sato-town",
            "password": PASSWORD,
            "display_name": "佐藤 大輔",
            "affiliation": "municipality",
            "organisation": "小海町 企画課",
        },
    )
    assert response.status_code == 201
    created = response.json()
    # The generated avatar: the name's first character on a colour from the user's id.
    user_id = (await User.get(username="sato-town")).id
    assert created.pop("avatar") == {"initials": "佐", "hue": avatars.hue_of(user_id)}
    assert created == {
        "username": "sato-town",
        "display_name": "佐藤 大輔",
        "role": "participant",
        "affiliation": "municipality",
        "organisation": "小海町 企画課",
        "expert_field": "",
    }
    token = await client.post(
        "/api/v1/tokens", json={"username": "sato-town", "password": PASSWORD}
    )
    assert token.status_code == 201
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    assert me.json()["display_name"] == "佐藤 大輔"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "A"),
        ("username", "has space"),
        ("username", "admin"),
        ("username", "日本語"),
        ("password", "short"),
        ("display_name", ""),
        ("display_name", "x" * 51),
        ("affiliation", "alien"),
    ],
)
async def test_registration_rejects_bad_fields_with_422_and_creates_nothing(
    client: httpx2.AsyncClient, field: str, value: str
) -> None:
    body = {
        "username": "goodname",
        "password": PASSWORD,
        "display_name": "良い名前",
        "affiliation": "citizen",
    }
    body[field] = value
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["fields"]
    assert (
        await client.post("/api/v1/tokens", json={"username": "goodname", "password": PASSWORD})
    ).status_code == 401


async def test_registration_with_a_taken_username_is_422(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    body = {"username": "alice", "password": PASSWORD, "display_name": "別人"}
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 422
    assert error_code(response) == "username_taken"


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    wrong = await client.post(
        "/api/v1/tokens", json={"username": "alice", "password": "wrong password!"}
    )
    unknown = await client.post("/api/v1/tokens", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == error_code(unknown) == "invalid_credentials"


async def test_me_without_credentials_is_401_and_a_bad_token_is_401(
    client: httpx2.AsyncClient,
) -> None:
    assert error_code(await client.get("/api/v1/me")) == "not_authenticated"
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer kr_forged"})
    assert bad.status_code == 401
    assert error_code(bad) == "invalid_token"


async def test_a_suspended_users_token_stops_working_at_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200
    suspended = await client.post(
        "/api/v1/moderation/users/alice/sanctions",
        json={"kind": "suspend", "hours": 24},
        headers=admin.headers,
    )
    assert suspended.status_code == 200, suspended.text
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401


async def test_only_an_admin_changes_roles(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    refused = await client.put(
        "/api/v1/users/bob/role", json={"role": "admin"}, headers=alice.headers
    )
    assert refused.status_code == 403
    done = await client.put(
        "/api/v1/users/bob/role", json={"role": "expert"}, headers=admin.headers
    )
    assert done.status_code == 200
    assert done.json()["role"] == "expert"
    bad = await client.put(
        "/api/v1/users/bob/role", json={"role": "emperor"}, headers=admin.headers
    )
    assert bad.status_code == 422
    missing = await client.put(
        "/api/v1/users/ghost/role", json={"role": "expert"}, headers=admin.headers
    )
    assert missing.status_code == 404


async def test_user_profile_is_public_and_unknown_users_are_404(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    assert (await client.get("/api/v1/users/alice")).json()["username"] == "alice"
    assert error_code(await client.get("/api/v1/users/ghost")) == "not_found"


# --- boards -----------------------------------------------------------------------------


async def test_admin_creates_edits_and_lists_boards(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    board = await new_board(client, admin, moderation="premoderated")
    assert board["moderation"] == "premoderated"
    patched = await client.patch(
        "/api/v1/boards/kankei",
        json={"title": "関係人口", "moderation": "first_posts"},
        headers=admin.headers,
    )
    assert patched.json()["title"] == "関係人口"
    assert patched.json()["moderation"] == "first_posts"
    listing = await client.get("/api/v1/boards")
    assert [b["slug"] for b in listing.json()["items"]] == ["kankei"]
    assert listing.json()["next_cursor"] is None


async def test_participants_cannot_create_or_edit_boards(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    created = await client.post(
        "/api/v1/boards", json={"slug": "x", "title": "x"}, headers=alice.headers
    )
    assert created.status_code == 403
    patched = await client.patch(
        "/api/v1/boards/kankei", json={"title": "乗っ取り"}, headers=alice.headers
    )
    assert patched.status_code == 403
    assert (await Board.get(slug="kankei")).title == "関係人口の創出・拡大"


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "Bad Slug", "title": "t"},
        {"slug": "ok", "title": ""},
        {"slug": "ok", "title": "t", "moderation": "anarchy"},
        {"slug": "ok", "title": "t", "private": "yes"},
        {"title": "no slug"},
    ],
)
async def test_bad_board_input_is_422(
    client: httpx2.AsyncClient, admin: Member, body: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/boards", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert await Board.all().count() == 0


async def test_duplicate_board_slug_is_422(client: httpx2.AsyncClient, admin: Member) -> None:
    await new_board(client, admin)
    again = await client.post(
        "/api/v1/boards", json={"slug": "kankei", "title": "二つ目"}, headers=admin.headers
    )
    assert error_code(again) == "slug_taken"


async def test_a_private_board_is_invisible_to_outsiders_and_visible_to_its_members(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, slug="secret", private=True)
    assert (await client.get("/api/v1/boards/secret", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/boards", headers=alice.headers)).json()["items"] == []
    put = await client.put(
        "/api/v1/boards/secret/moderators/alice", json={"role": "member"}, headers=admin.headers
    )
    assert put.status_code == 200
    assert (await client.get("/api/v1/boards/secret", headers=alice.headers)).status_code == 200
    thread = await new_thread(client, alice, slug="secret")
    assert (
        await client.get(f"/api/v1/threads/{thread['thread']['id']}", headers=bob.headers)
    ).status_code == 404
    assert (await client.get(f"/api/v1/posts/{thread['post']['id']}")).status_code == 404


async def test_board_staff_are_set_and_removed_by_admins_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    assert (
        await client.put("/api/v1/boards/kankei/moderators/bob", headers=alice.headers)
    ).status_code == 403
    made = await client.put("/api/v1/boards/kankei/moderators/bob", headers=admin.headers)
    assert made.json() == {"board": "kankei", "username": "bob", "role": "moderator"}
    expert = await client.put(
        "/api/v1/boards/kankei/moderators/bob", json={"role": "expert"}, headers=admin.headers
    )
    assert expert.json()["role"] == "expert"
    assert (
        await client.delete("/api/v1/boards/kankei/moderators/bob", headers=admin.headers)
    ).status_code == 204
    assert (
        await client.delete("/api/v1/boards/kankei/moderators/bob", headers=admin.headers)
    ).status_code == 404
    assert (
        await client.put("/api/v1/boards/kankei/moderators/ghost", headers=admin.headers)
    ).status_code == 404


# --- threads ----------------------------------------------------------------------------


async def test_a_new_thread_comes_with_its_first_post_rendered_once(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    created = await new_thread(client, alice)
    thread, post = created["thread"], created["post"]
    assert thread["board"] == "kankei"
    assert thread["post_count"] == 1
    assert thread["seq"] == 1
    assert post["html"] == "<p>寄附者と<strong>継続的な関係</strong>をつくるには？</p>\n"
    assert post["author"]["username"] == "alice"
    assert post["status"] == "published"
    fetched = await client.get(f"/api/v1/threads/{thread['id']}")
    assert fetched.json()["seq"] == 1
    assert fetched.json()["title"] == "ふるさと納税の活用"


async def test_thread_creation_errors(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    anonymous = await client.post("/api/v1/boards/kankei/threads", json={"title": "t", "body": "b"})
    assert anonymous.status_code == 401
    no_title = await client.post(
        "/api/v1/boards/kankei/threads", json={"title": " ", "body": "b"}, headers=alice.headers
    )
    assert no_title.status_code == 422
    assert set(no_title.json()["error"]["fields"]) == {"title"}
    no_board = await client.post(
        "/api/v1/boards/nope/threads", json={"title": "t", "body": "b"}, headers=alice.headers
    )
    assert no_board.status_code == 404
    not_json = await client.post(
        "/api/v1/boards/kankei/threads",
        content=b"{",
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert error_code(not_json) == "bad_json"
    form = await client.post(
        "/api/v1/boards/kankei/threads", data={"title": "t"}, headers=alice.headers
    )
    assert error_code(form) == "bad_media_type"
    assert await Thread.all().count() == 0


async def test_threads_page_by_cursor_without_skipping_or_repeating(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    ids = [
        (await new_thread(client, admin, title=f"スレッド{i}"))["thread"]["id"] for i in range(7)
    ]
    pinned = ids[2]
    await client.patch(f"/api/v1/threads/{pinned}", json={"pinned": True}, headers=admin.headers)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/boards/kankei/threads", params=params)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[0] == pinned
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    bad = await client.get("/api/v1/boards/kankei/threads", params={"cursor": "!!!"})
    assert error_code(bad) == "invalid_cursor"
    assert (
        await client.get("/api/v1/boards/kankei/threads", params={"limit": "0"})
    ).status_code == 400


async def test_moderators_lock_and_pin_but_authors_only_retitle(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    refused = await client.patch(
        f"/api/v1/threads/{thread_id}", json={"locked": True}, headers=alice.headers
    )
    assert refused.status_code == 403
    retitled = await client.patch(
        f"/api/v1/threads/{thread_id}", json={"title": "新しい題"}, headers=alice.headers
    )
    assert retitled.json()["title"] == "新しい題"
    locked = await client.patch(
        f"/api/v1/threads/{thread_id}", json={"locked": True}, headers=admin.headers
    )
    assert locked.json()["locked"] is True
    assert locked.json()["seq"] == 3  # post.created, thread.updated (title), thread.updated (lock)
    unknown = await client.patch(
        f"/api/v1/threads/{thread_id}", json={"owner": "me"}, headers=admin.headers
    )
    assert unknown.status_code == 422
    reply = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "まだ書ける？"}, headers=alice.headers
    )
    assert reply.status_code == 403
    assert error_code(reply) == "thread_locked"


async def test_unknown_and_malformed_thread_ids_are_404(client: httpx2.AsyncClient) -> None:
    assert (await client.get("/api/v1/threads/999")).status_code == 404
    assert error_code(await client.get("/api/v1/threads/abc")) == "not_found"
    assert error_code(await client.get("/api/v1/nowhere")) == "not_found"


async def test_wrong_method_is_405_with_an_error_code(client: httpx2.AsyncClient) -> None:
    response = await client.delete("/api/v1/boards")
    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"


# --- posts ------------------------------------------------------------------------------


async def test_reply_list_edit_and_delete_a_post(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    created = await new_thread(client, alice)
    thread_id, first = created["thread"]["id"], created["post"]["id"]
    reply = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "賛成です", "reply_to": first},
        headers=bob.headers,
    )
    assert reply.status_code == 201
    assert reply.json()["reply_to"] == first
    reply_id = reply.json()["id"]
    listing = (await client.get(f"/api/v1/threads/{thread_id}/posts")).json()
    assert [p["id"] for p in listing["items"]] == [first, reply_id]
    after = (await client.get(f"/api/v1/threads/{thread_id}/posts", params={"after": first})).json()
    assert [p["id"] for p in after["items"]] == [reply_id]

    assert (
        await client.patch(
            f"/api/v1/posts/{reply_id}", json={"body": "乗っ取り"}, headers=alice.headers
        )
    ).status_code == 403
    edited = await client.patch(
        f"/api/v1/posts/{reply_id}", json={"body": "大賛成です"}, headers=bob.headers
    )
    assert edited.json()["body"] == "大賛成です"
    assert edited.json()["edited_at"] is not None
    assert [r.body for r in await PostRevision.filter(post_id=reply_id)] == ["賛成です"]

    assert (
        await client.delete(f"/api/v1/posts/{reply_id}", headers=alice.headers)
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/posts/{reply_id}", headers=bob.headers)
    ).status_code == 204
    assert (await client.get(f"/api/v1/posts/{reply_id}")).status_code == 404
    assert (await Post.get(id=reply_id)).status is PostStatus.DELETED  # soft delete keeps the row
    thread = (await client.get(f"/api/v1/threads/{thread_id}")).json()
    assert thread["post_count"] == 1


async def test_post_errors(client: httpx2.AsyncClient, admin: Member, alice: Member) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    url = f"/api/v1/threads/{thread_id}/posts"
    assert (await client.post(url, json={"body": "x"})).status_code == 401
    assert (await client.post(url, json={"body": ""}, headers=alice.headers)).status_code == 422
    assert (
        await client.post(url, json={"body": "x" * 20001}, headers=alice.headers)
    ).status_code == 422
    assert (await client.post(url, json={"body": 5}, headers=alice.headers)).status_code == 422
    assert (
        await client.post(url, json={"body": "x", "kind": "poll"}, headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post(url, json={"body": "x", "reply_to": 999}, headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post(url, json={"body": "x", "reply_to": "1"}, headers=alice.headers)
    ).status_code == 422
    assert (
        await client.post(url, json={"body": "x", "anonymous": True}, headers=alice.headers)
    ).status_code == 422
    assert (await client.post(url, json=["x"], headers=alice.headers)).status_code == 400
    assert await Post.all().count() == 1


async def test_an_anonymous_question_hides_its_author_from_everyone_asker_and_admin_included(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    asked = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "質問です", "kind": "question", "anonymous": True},
        headers=alice.headers,
    )
    assert asked.json()["author"] is None and asked.json()["anonymous"] is True
    post_id = asked.json()["id"]
    for headers in (bob.headers, alice.headers, admin.headers, {}):
        seen = await client.get(f"/api/v1/posts/{post_id}", headers=headers)
        assert seen.json()["author"] is None


async def test_questions_take_one_vote_per_user(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    asked = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "質問", "kind": "question"},
        headers=alice.headers,
    )
    url = f"/api/v1/posts/{asked.json()['id']}/vote"
    assert (await client.put(url, headers=bob.headers)).json() == {
        "id": asked.json()["id"],
        "votes": 1,
        "voted": True,
    }
    assert (await client.put(url, headers=bob.headers)).json()["votes"] == 1
    assert (await client.put(url, headers=alice.headers)).status_code == 403
    assert (await client.put(url, headers=admin.headers)).json()["votes"] == 2
    assert (await client.delete(url, headers=bob.headers)).json()["votes"] == 1
    assert (await client.put(url)).status_code == 401
    plain = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "ふつう"}, headers=alice.headers
    )
    assert (
        error_code(
            await client.put(f"/api/v1/posts/{plain.json()['id']}/vote", headers=bob.headers)
        )
        == "not_votable"
    )


# --- idempotency, CSRF, limits ----------------------------------------------------------


async def test_the_same_idempotency_key_returns_the_first_post_and_never_a_second(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    headers = {**alice.headers, "Idempotency-Key": "retry-1"}
    first = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "一度だけ"}, headers=headers
    )
    second = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "一度だけ"}, headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await Post.filter(thread_id=thread_id).count() == 2
    elsewhere = await client.post(
        "/api/v1/boards/kankei/threads", json={"title": "t", "body": "b"}, headers=headers
    )
    assert elsewhere.status_code == 409
    assert error_code(elsewhere) == "idempotency_key_reused"


async def test_concurrent_retries_with_one_key_make_one_thread(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    import asyncio

    await new_board(client, admin)
    headers = {**alice.headers, "Idempotency-Key": "storm"}
    body = {"title": "同時送信", "body": "二重投稿しない"}
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/boards/kankei/threads", json=body, headers=headers)
            for _ in range(5)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["thread"]["id"] for r in responses}) == 1
    assert await Thread.filter(title="同時送信").count() == 1


async def test_cookie_authenticated_unsafe_api_requests_need_the_csrf_header(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    from forum import accounts

    await new_board(client, admin)
    raw, session = await accounts.start_session(alice.user, days=1)
    client.cookies.set("koryu_session", raw)
    refused = await client.post("/api/v1/boards/kankei/threads", json={"title": "t", "body": "b"})
    assert refused.status_code == 403
    assert error_code(refused) == "csrf_failed"
    wrong = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "t", "body": "b"},
        headers={"X-CSRF-Token": "guess"},
    )
    assert wrong.status_code == 403
    assert await Thread.all().count() == 0
    allowed = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "t", "body": "b"},
        headers={"X-CSRF-Token": session.csrf_token},
    )
    assert allowed.status_code == 201
    assert (await client.get("/api/v1/me")).json()["username"] == "alice"


async def test_login_is_rate_limited_per_account_with_retry_after(
    client: httpx2.AsyncClient, alice: Member, app: Any
) -> None:
    limit = app.state.settings.login_attempts_per_minute
    for _ in range(limit):
        response = await client.post(
            "/api/v1/tokens", json={"username": "alice", "password": "wrong password"}
        )
        assert response.status_code == 401
    blocked = await client.post("/api/v1/tokens", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert error_code(blocked) == "rate_limited"
    assert int(blocked.headers["Retry-After"]) >= 1


async def test_posting_is_rate_limited_per_user(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member, app: Any
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, bob))["thread"]["id"]
    limit = app.state.settings.posts_per_minute
    url = f"/api/v1/threads/{thread_id}/posts"
    for i in range(limit):
        assert (
            await client.post(url, json={"body": f"投稿{i}"}, headers=alice.headers)
        ).status_code == 201
    blocked = await client.post(url, json={"body": "もう一つ"}, headers=alice.headers)
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert await Post.filter(author_id=alice.user.id).count() == limit


async def test_oversized_bodies_are_413(
    client: httpx2.AsyncClient, admin: Member, alice: Member, app: Any
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    huge = "あ" * app.state.settings.max_body_bytes
    response = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": huge}, headers=alice.headers
    )
    assert response.status_code == 413
    assert error_code(response) == "payload_too_large"


async def test_security_headers_are_on_every_response(client: httpx2.AsyncClient) -> None:
    response = await client.get("/api/v1/boards")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "'nonce-" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


async def test_expert_role_is_visible_in_the_user_resource(client: httpx2.AsyncClient) -> None:
    expert = await make_member(username="yamamoto", role=Role.EXPERT)
    expert.user.expert_field = "関係人口"
    await expert.user.save(update_fields=["expert_field"])
    body = (await client.get("/api/v1/users/yamamoto")).json()
    assert (body["role"], body["expert_field"]) == ("expert", "関係人口")


async def test_an_unexpected_error_is_a_500_with_a_code_and_a_japanese_page(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forum import boards

    # Starlette re-raises after answering, for the server's log; a real server logs it.
    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx2.AsyncClient(transport=transport, base_url="http://testserver")

    async def broken(actor: object) -> list[object]:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(boards, "list_boards", broken)
    api = await client.get("/api/v1/boards")
    assert api.status_code == 500
    assert error_code(api) == "internal"
    page = await client.get("/boards")
    assert page.status_code == 500
    assert "サーバーで問題が起きました" in page.text
    assert "<html" in page.text
    assert "database exploded" not in page.text
    await client.aclose()


async def test_a_board_listing_gives_each_thread_the_seq_of_its_own_channel(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    slug = "seq-list"
    made = await client.post(
        "/api/v1/boards", json={"slug": slug, "title": "一覧"}, headers=admin.headers
    )
    assert made.status_code == 201
    ids = []
    for n in range(3):
        started = await client.post(
            f"/api/v1/boards/{slug}/threads",
            json={"title": f"スレッド{n}", "body": "本文"},
            headers=admin.headers,
        )
        ids.append(started.json()["thread"]["id"])
    for _ in range(2):
        await client.post(
            f"/api/v1/threads/{ids[1]}/posts", json={"body": "返信"}, headers=admin.headers
        )
    listed = (await client.get(f"/api/v1/boards/{slug}/threads")).json()["items"]
    assert len(listed) == 3
    for item in listed:
        single = (await client.get(f"/api/v1/threads/{item['id']}")).json()
        assert item["seq"] == single["seq"]
    assert len({item["seq"] for item in listed}) == 2
