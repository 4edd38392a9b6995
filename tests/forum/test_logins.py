"""The per-process cache of logins (forum.logins): served from memory, dropped at once.

Every access change is made through the product's own paths (API, domain actions), so
the event that invalidates the cache is the one production emits. The same across
processes, on PostgreSQL and Redis: tests/forum/test_scaleout.py.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from forum import accounts, boards
from forum.logins import LoginCache
from forum.models import ApiToken, BoardMember, Role
from tests.conftest import PASSWORD, Member, make_member, make_user

pytestmark = pytest.mark.asyncio


def logins_of(app: Starlette) -> LoginCache:
    cache = app.state.logins
    assert isinstance(cache, LoginCache)
    return cache


async def me(client: httpx2.AsyncClient, headers: dict[str, str]) -> httpx2.Response:
    return await client.get("/api/v1/me", headers=headers)


def cookie(raw: str) -> dict[str, str]:
    return {"Cookie": f"koryu_session={raw}"}


async def warm(client: httpx2.AsyncClient, cache: LoginCache, headers: dict[str, str]) -> None:
    """Two requests: the second is answered from memory."""
    assert (await me(client, headers)).status_code == 200
    hits = cache.hits
    assert (await me(client, headers)).status_code == 200
    assert cache.hits == hits + 1


async def test_a_login_is_read_once_and_then_served_from_memory(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    cache = logins_of(app)
    await warm(client, cache, alice.headers)
    raw, _session = await accounts.start_session(alice.user, days=1)
    await warm(client, cache, cookie(raw))
    assert len(cache) == 2
    answer = await me(client, cookie(raw))
    assert answer.json()["username"] == "alice"


async def test_logout_ends_a_remembered_session_at_once(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    raw, _session = await accounts.start_session(alice.user, days=1)
    await warm(client, logins_of(app), cookie(raw))
    await accounts.end_session(raw)
    assert (await me(client, cookie(raw))).status_code == 401


async def test_a_revoked_token_is_refused_at_once(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    await warm(client, logins_of(app), alice.headers)
    token = await ApiToken.get(user=alice.user)
    revoked = await client.delete(f"/api/v1/tokens/{token.id}", headers=alice.headers)
    assert revoked.status_code == 204
    assert (await me(client, alice.headers)).status_code == 401


async def test_a_password_change_ends_every_remembered_login(
    app: Starlette, client: httpx2.AsyncClient, alice: Member
) -> None:
    cache = logins_of(app)
    raw, _session = await accounts.start_session(alice.user, days=1)
    await warm(client, cache, cookie(raw))
    await warm(client, cache, alice.headers)
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (await me(client, cookie(raw))).status_code == 401
    assert (await me(client, alice.headers)).status_code == 401


async def test_a_site_role_change_is_seen_by_the_next_request(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    raw, _session = await accounts.start_session(alice.user, days=1)
    await warm(client, logins_of(app), cookie(raw))
    await warm(client, logins_of(app), alice.headers)
    done = await client.put(
        "/api/v1/users/alice/role", json={"role": "moderator"}, headers=admin.headers
    )
    assert done.status_code == 200
    # Her login sessions end with the change; her token goes on, with the new role.
    assert (await me(client, cookie(raw))).status_code == 401
    assert (await me(client, alice.headers)).json()["role"] == "moderator"
    queue = await client.get("/api/v1/moderation/queue", headers=alice.headers)
    assert queue.status_code == 200, queue.text


async def test_a_board_role_withdrawn_is_refused_at_once(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    made = await client.post(
        "/api/v1/boards", json={"slug": "kankei", "title": "関係人口"}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    staff = "/api/v1/boards/kankei/moderators/alice"
    added = await client.put(staff, json={"role": "moderator"}, headers=admin.headers)
    assert added.status_code in {200, 201}, added.text
    queue = "/api/v1/moderation/queue?board=kankei"
    assert (await client.get(queue, headers=alice.headers)).status_code == 200
    assert (await client.get(queue, headers=alice.headers)).status_code == 200
    assert await BoardMember.filter(user_id=alice.user.id).exists()
    removed = await client.delete(staff, headers=admin.headers)
    assert removed.status_code == 204
    assert (await client.get(queue, headers=alice.headers)).status_code == 403


async def test_silence_and_suspension_reach_remembered_logins_at_once(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await client.post(
        "/api/v1/boards", json={"slug": "kankei", "title": "関係人口"}, headers=admin.headers
    )
    thread = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "移住の相談", "body": "はじめます"},
        headers=alice.headers,
    )
    assert thread.status_code == 201, thread.text
    posts = f"/api/v1/threads/{thread.json()['thread']['id']}/posts"

    async def post() -> int:
        answer = await client.post(posts, json={"body": "こんにちは"}, headers=alice.headers)
        return answer.status_code

    assert await post() == 201
    sanctions = "/api/v1/moderation/users/alice/sanctions"
    silenced = await client.post(
        sanctions, json={"kind": "silence", "hours": 1}, headers=admin.headers
    )
    assert silenced.status_code == 200, silenced.text
    assert await post() == 403
    suspended = await client.post(
        sanctions, json={"kind": "suspend", "hours": 1}, headers=admin.headers
    )
    assert suspended.status_code == 200, suspended.text
    assert (await me(client, alice.headers)).status_code == 401


# --- the cache itself -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_remembered_login_is_read_again_after_the_ttl(db: None) -> None:
    user = await make_user(username="sato")
    raw, _session = await accounts.start_session(user, days=1)
    clock = Clock()
    cache = LoginCache(ttl=5.0, clock=clock)
    first = await cache.session(raw)
    assert first is not None and (await cache.session(raw)) is first
    clock.now += 5.0
    again = await cache.session(raw)
    assert again is not None and again is not first
    assert (cache.hits, cache.misses) == (1, 2)


async def test_the_cache_keeps_at_most_its_bound_least_recently_used_out(db: None) -> None:
    user = await make_user(username="sato")
    cache = LoginCache(max_entries=2)
    raws = [(await accounts.start_session(user, days=1))[0] for _ in range(3)]
    for raw in raws:
        assert await cache.session(raw) is not None
    assert len(cache) == 2
    hits = cache.hits
    assert await cache.session(raws[0]) is not None  # the oldest went first: read again
    assert cache.hits == hits
    cache.forget_user(user.id)
    assert len(cache) == 0


async def test_a_fill_that_raced_an_access_change_is_not_kept(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user(username="sato")
    raw, _session = await accounts.start_session(user, days=1)
    cache = LoginCache()
    read = accounts.session_for

    async def racing(secret: str) -> Any:
        found = await read(secret)
        cache.forget_user(user.id)  # the access change lands while the request reads
        return found

    monkeypatch.setattr(accounts, "session_for", racing)
    assert await cache.session(raw) is not None
    assert len(cache) == 0


async def test_nothing_is_remembered_while_invalidations_may_be_lost(db: None) -> None:
    member = await make_member(username="sato", role=Role.PARTICIPANT)
    trusted = False
    cache = LoginCache(trusted=lambda: trusted)
    assert await cache.token(member.token) is not None
    assert await cache.token(member.token) is not None
    assert (len(cache), cache.hits) == (0, 0)
    trusted = True
    assert await cache.token(member.token) is not None
    assert await cache.token(member.token) is not None
    assert (len(cache), cache.hits) == (1, 1)


async def test_unknown_and_junk_credentials_are_never_remembered(db: None) -> None:
    cache = LoginCache()
    for junk in ("", "x" * 101, "kr_unknown", "not-a-token"):
        assert await cache.session(junk) is None
        assert await cache.token(junk) is None
    assert len(cache) == 0


async def test_board_roles_are_remembered_with_the_login(db: None) -> None:
    admin = await make_user(username="admin-sato", role=Role.ADMIN)
    user = await make_user(username="sato")
    board = await boards.create_board(
        await boards.load_actor(admin), boards.BoardFields(slug="kankei", title="関係人口")
    )
    await BoardMember.create(board_id=board.id, user_id=user.id, role="expert")
    raw, _session = await accounts.start_session(user, days=1)
    cache = LoginCache()
    login = await cache.session(raw)
    assert login is not None and login.actor.board_roles == {board.id: "expert"}
