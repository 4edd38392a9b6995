"""Credentials: token expiry, listing and revocation, password change, session rotation,
reserved and look-alike names, protected display names; the API and the settings page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from forum import accounts
from forum.config import ConfigError, Settings
from forum.errors import NotAuthenticated, ValidationFailed
from forum.models import ApiToken, LoginSession, Role, User
from tests.conftest import PASSWORD, Member, make_member, make_user
from tests.forum.support import log_in, token_for

pytestmark = pytest.mark.asyncio

NEW_PASSWORD = "a brand new passphrase"


def error_code(response: httpx2.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    return str(body["error"]["code"])


@pytest.fixture
async def other_client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    """A second browser on the same site."""
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def signed_in_as(client: httpx2.AsyncClient, raw_cookie: str) -> str | None:
    """Who a session cookie value authenticates, asked by a browser holding only it."""
    transport = httpx2.ASGITransport(app=client_app(client))
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
        response = await fresh.get("/api/v1/me", headers={"Cookie": f"koryu_session={raw_cookie}"})
    return str(response.json()["username"]) if response.status_code == 200 else None


def client_app(client: httpx2.AsyncClient) -> Starlette:
    app: Starlette = client._transport.app  # type: ignore[attr-defined]
    return app


async def new_token(
    client: httpx2.AsyncClient, username: str = "alice", **extra: Any
) -> httpx2.Response:
    body = {"username": username, "password": PASSWORD, **extra}
    return await client.post("/api/v1/tokens", json=body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- API tokens ---------------------------------------------------------------------------


async def test_a_named_token_is_listed_by_name_and_hint_and_never_by_its_secret(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    created = await new_token(client, name="集計スクリプト", days=7)
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["token"]
    assert body["user"]["username"] == "alice"
    info = body["api_token"]
    assert info["name"] == "集計スクリプト"
    assert secret.startswith(info["hint"]) and len(info["hint"]) < 12
    expires = datetime.fromisoformat(info["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    listed = await client.get("/api/v1/tokens", headers=bearer(secret))
    assert listed.status_code == 200
    items = listed.json()["items"]
    # alice's fixture token and the new one, newest first.
    assert [item["name"] for item in items] == ["集計スクリプト", ""]
    assert secret not in listed.text
    assert alice.token not in listed.text
    assert items[0]["id"] == info["id"] and items[0]["expired"] is False


async def test_a_token_lasts_the_configured_days_unless_fewer_are_asked_for(
    client: httpx2.AsyncClient, alice: Member, app: Starlette
) -> None:
    days = app.state.settings.token_days
    assert days == 90
    info = (await new_token(client)).json()["api_token"]
    expires = datetime.fromisoformat(info["expires_at"])
    assert timedelta(days=days - 1) < expires - datetime.now(UTC) <= timedelta(days=days)
    too_long = await new_token(client, days=days + 1)
    assert too_long.status_code == 422
    assert set(too_long.json()["error"]["fields"]) == {"days"}
    for bad in (0, -3, "30", True):
        assert (await new_token(client, days=bad)).status_code == 422, bad
    long_name = await new_token(client, name="名" * 51)
    assert set(long_name.json()["error"]["fields"]) == {"name"}
    assert await ApiToken.filter(user=alice.user).count() == 2


async def test_an_expired_token_authenticates_nobody_and_says_so(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await ApiToken.filter(user=alice.user).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    me = await client.get("/api/v1/me", headers=alice.headers)
    assert me.status_code == 401
    assert error_code(me) == "token_expired"
    # Not served as a visitor either: the client learns at once that it must renew.
    boards = await client.get("/api/v1/boards", headers=alice.headers)
    assert boards.status_code == 401
    assert error_code(boards) == "token_expired"


async def test_a_token_from_before_expiry_existed_lasts_the_default_lifetime(
    alice: Member,
) -> None:
    token = await ApiToken.get(user=alice.user)
    token.expires_at = None
    token.created_at = datetime.now(UTC) - timedelta(days=accounts.DEFAULT_TOKEN_DAYS - 1)
    await token.save(update_fields=["expires_at", "created_at"])
    assert await accounts.user_for_token(alice.token) is not None
    later = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(NotAuthenticated) as refused:
        await accounts.user_for_token(alice.token, now=later)
    assert refused.value.code == "token_expired"


async def test_last_used_is_written_at_most_once_a_minute(alice: Member) -> None:
    assert (await ApiToken.get(user=alice.user)).last_used_at is None
    start = datetime.now(UTC)
    await accounts.user_for_token(alice.token, now=start)
    assert (await ApiToken.get(user=alice.user)).last_used_at == start
    await accounts.user_for_token(alice.token, now=start + timedelta(seconds=59))
    assert (await ApiToken.get(user=alice.user)).last_used_at == start
    minute_on = start + timedelta(seconds=60)
    await accounts.user_for_token(alice.token, now=minute_on)
    assert (await ApiToken.get(user=alice.user)).last_used_at == minute_on


async def test_using_a_token_over_the_api_shows_in_its_last_used_time(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await client.get("/api/v1/me", headers=alice.headers)
    items = (await client.get("/api/v1/tokens", headers=alice.headers)).json()["items"]
    used = datetime.fromisoformat(items[0]["last_used_at"])
    assert datetime.now(UTC) - used < timedelta(minutes=1)


async def test_an_owner_revokes_their_own_token_and_it_stops_at_once(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    second = (await new_token(client, name="予備")).json()
    revoked = await client.delete(
        f"/api/v1/tokens/{second['api_token']['id']}", headers=alice.headers
    )
    assert revoked.status_code == 204
    gone = await client.get("/api/v1/me", headers=bearer(second["token"]))
    assert gone.status_code == 401
    assert error_code(gone) == "invalid_token"
    again = await client.delete(
        f"/api/v1/tokens/{second['api_token']['id']}", headers=alice.headers
    )
    assert again.status_code == 404


async def test_someone_elses_token_cannot_be_revoked_or_seen(
    client: httpx2.AsyncClient, alice: Member, bob: Member
) -> None:
    bobs = await ApiToken.get(user=bob.user)
    refused = await client.delete(f"/api/v1/tokens/{bobs.id}", headers=alice.headers)
    assert refused.status_code == 404
    assert error_code(refused) == "not_found"
    assert (await client.get("/api/v1/me", headers=bob.headers)).status_code == 200
    listed = (await client.get("/api/v1/tokens", headers=alice.headers)).json()["items"]
    assert bobs.id not in {item["id"] for item in listed}
    assert (await client.delete("/api/v1/tokens/abc", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/tokens")).status_code == 401
    assert (await client.delete(f"/api/v1/tokens/{bobs.id}")).status_code == 401


# --- password change over the API -----------------------------------------------------------


async def change_password(
    client: httpx2.AsyncClient,
    current: str = PASSWORD,
    new: str = NEW_PASSWORD,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    body = {"current_password": current, "new_password": new}
    return await client.post("/api/v1/me/password", json=body, headers=headers)


async def test_a_password_change_ends_every_session_and_token_at_once(
    client: httpx2.AsyncClient, other_client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(other_client, "alice")
    browser_cookie = other_client.cookies["koryu_session"]
    second = (await new_token(client)).json()["token"]
    changed = await change_password(client, headers=alice.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"sessions_ended": 1, "tokens_revoked": 2}
    for token in (alice.token, second):
        refused = await client.get("/api/v1/me", headers=bearer(token))
        assert refused.status_code == 401
        assert error_code(refused) == "invalid_token"
    assert await signed_in_as(client, browser_cookie) is None
    assert (await new_token(client)).status_code == 401
    fresh = await client.post(
        "/api/v1/tokens", json={"username": "alice", "password": NEW_PASSWORD}
    )
    assert fresh.status_code == 201


async def test_a_password_change_needs_the_current_password_and_a_valid_new_one(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    wrong = await change_password(client, current="not my password", headers=alice.headers)
    assert wrong.status_code == 422
    assert error_code(wrong) == "wrong_password"
    assert set(wrong.json()["error"]["fields"]) == {"current_password"}
    for new in ("short", "x" * 257, PASSWORD):
        refused = await change_password(client, new=new, headers=alice.headers)
        assert refused.status_code == 422, new
        assert set(refused.json()["error"]["fields"]) == {"new_password"}
    missing = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD}, headers=alice.headers
    )
    assert missing.status_code == 422
    assert (await change_password(client)).status_code == 401
    # Nothing changed: the old password and the token still work.
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 200
    assert (await new_token(client)).status_code == 201


async def test_guessing_the_current_password_is_rate_limited_like_login(
    client: httpx2.AsyncClient, alice: Member, app: Starlette
) -> None:
    for _ in range(app.state.settings.login_attempts_per_minute):
        wrong = await change_password(client, current="guess guess", headers=alice.headers)
        assert wrong.status_code == 422
    blocked = await change_password(client, headers=alice.headers)
    assert blocked.status_code == 429
    assert error_code(blocked) == "rate_limited"
    assert await accounts.authenticate("alice", PASSWORD)


async def test_a_cookie_password_change_keeps_that_browser_signed_in_under_a_new_session_id(
    client: httpx2.AsyncClient, other_client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    await log_in(other_client, "alice")
    old_cookie = client.cookies["koryu_session"]
    other_cookie = other_client.cookies["koryu_session"]
    csrf = await token_for(client, "/settings")
    without_csrf = await change_password(client)
    assert without_csrf.status_code == 403
    changed = await change_password(client, headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200, changed.text
    assert changed.json()["sessions_ended"] == 1
    new_cookie = client.cookies["koryu_session"]
    assert new_cookie != old_cookie
    assert await signed_in_as(other_client, new_cookie) == "alice"
    assert await signed_in_as(other_client, old_cookie) is None
    assert await signed_in_as(other_client, other_cookie) is None
    assert await LoginSession.filter(user=alice.user).count() == 1


# --- session rotation -------------------------------------------------------------------------


async def test_login_never_adopts_a_session_id_the_browser_already_had(
    client: httpx2.AsyncClient, other_client: httpx2.AsyncClient, alice: Member, bob: Member
) -> None:
    planted = "attacker-chosen-session-id"
    csrf = await token_for(client, "/login")
    anon = client.cookies["koryu_csrf"]
    response = await client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf},
        headers={"Cookie": f"koryu_csrf={anon}; koryu_session={planted}"},
    )
    assert response.status_code == 303
    first = client.cookies["koryu_session"]
    assert first != planted
    assert await signed_in_as(other_client, planted) is None
    assert await signed_in_as(other_client, first) == "alice"
    # Logging in again from a signed-in browser ends the old session and starts a new one.
    csrf = await token_for(client, "/settings")
    again = await client.post(
        "/login", data={"username": "bob", "password": PASSWORD, "csrf_token": csrf}
    )
    assert again.status_code == 303
    second = client.cookies["koryu_session"]
    assert second != first
    assert await signed_in_as(other_client, first) is None
    assert await signed_in_as(other_client, second) == "bob"


async def test_a_role_change_ends_the_users_sessions_but_not_their_tokens(
    client: httpx2.AsyncClient, other_client: httpx2.AsyncClient, admin: Member, bob: Member
) -> None:
    await log_in(other_client, "bob")
    cookie = other_client.cookies["koryu_session"]
    same = await client.put(
        "/api/v1/users/bob/role", json={"role": "participant"}, headers=admin.headers
    )
    assert same.status_code == 200
    assert await signed_in_as(client, cookie) == "bob"  # no change, nothing ends
    changed = await client.put(
        "/api/v1/users/bob/role", json={"role": "moderator"}, headers=admin.headers
    )
    assert changed.status_code == 200
    assert await signed_in_as(client, cookie) is None
    page = await other_client.get("/settings")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    me = await client.get("/api/v1/me", headers=bob.headers)
    assert me.json()["role"] == "moderator"
    await log_in(other_client, "bob")
    assert other_client.cookies["koryu_session"] != cookie


# --- names --------------------------------------------------------------------------------------


async def register(client: httpx2.AsyncClient, username: str, display_name: str) -> httpx2.Response:
    body = {"username": username, "password": PASSWORD, "display_name": display_name}
    return await client.post("/api/v1/users", json=body)


@pytest.mark.parametrize(
    "username",
    [
        "administrator",
        "administrators",
        "support",
        "staff",
        "official",
        "security",
        "admin",
        "sup-port",
        "staf_f",
    ],
)
async def test_reserved_names_and_their_separated_look_alikes_are_refused(
    client: httpx2.AsyncClient, username: str
) -> None:
    response = await register(client, username, "佐藤")
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"username"}
    assert not await User.filter(username=username).exists()


async def test_a_name_that_reads_like_an_existing_one_is_refused(
    client: httpx2.AsyncClient, app: Starlette
) -> None:
    await make_user(username="mod-tanaka", role=Role.MODERATOR, display_name="田中")
    response = await register(client, "mod_tanaka", "田中")
    assert response.status_code == 422
    assert error_code(response) == "username_confusable"
    assert "mod-tanaka" in response.json()["error"]["fields"]["username"]
    assert not await User.filter(username="mod_tanaka").exists()
    exact = await register(client, "mod-tanaka", "田中")
    assert error_code(exact) == "username_taken"
    await make_user(username="sato_town")
    assert error_code(await register(client, "sato-town", "佐藤")) == "username_confusable"
    assert (await register(client, "sato-towns", "佐藤")).status_code == 201


async def test_the_canonical_form_folds_width_case_and_separators() -> None:
    assert accounts.canonical_username("ＭＯＤ_Tanaka") == "mod-tanaka"
    assert accounts.canonical_username("mod.tanaka") == accounts.canonical_username("mod-tanaka")


@pytest.mark.parametrize(
    "display_name",
    [
        "運営事務局",
        "koryu 運営",
        "事務局 佐藤",
        "管理者",
        "ﾓﾃﾞﾚｰﾀｰ",
        "公 式",
        "ＡＤＭＩＮ",
        "Koryu Staff",
        "official_info",
        "koryuadmin",
        "Ａｄｍｉｎｉｓｔｒａｔｏｒ",
    ],
)
async def test_participants_cannot_take_a_display_name_that_reads_as_the_operators(
    client: httpx2.AsyncClient, display_name: str
) -> None:
    response = await register(client, "sato-town", display_name)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {"display_name"}


async def test_staff_may_take_a_protected_display_name_and_others_may_not_edit_to_one(
    app: Starlette,
) -> None:
    moderator = await make_user(
        username="jimukyoku", role=Role.MODERATOR, display_name="運営事務局"
    )
    assert moderator.display_name == "運営事務局"
    admin = await make_user(username="admin-sato", role=Role.ADMIN)
    assert (await accounts.update_profile(admin, display_name="公式 佐藤")).display_name
    expert = await make_user(username="expert-suzuki", role=Role.EXPERT)
    with pytest.raises(ValidationFailed) as refused:
        await accounts.update_profile(expert, display_name="事務局の鈴木")
    assert set(refused.value.fields) == {"display_name"}
    assert (await User.get(id=expert.id)).display_name == "expert-suzuki さん"
    assert (await accounts.update_profile(expert, display_name="鈴木 一郎")).display_name
    # A protected Latin word inside another word is no claim to run the site.
    assert (await accounts.update_profile(expert, display_name="Badminton 鈴木")).display_name


# --- the settings page ------------------------------------------------------------------------


def secret_on(page: httpx2.Response) -> str | None:
    match = re.search(r'id="new-token" type="text" readonly value="([^"]+)"', page.text)
    return match.group(1) if match else None


async def test_the_settings_page_issues_a_named_token_once_and_lists_it_in_japan_time(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    csrf = await token_for(client, "/settings")
    refused = await client.post("/settings/tokens", data={"name": "集計", "days": "30"})
    assert refused.status_code == 403
    issued = await client.post(
        "/settings/tokens", data={"name": "集計", "days": "30", "csrf_token": csrf}
    )
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    secret = secret_on(issued)
    assert secret is not None
    assert (await client.get("/api/v1/me", headers=bearer(secret))).status_code == 200
    token = await ApiToken.get(user=alice.user, name="集計")
    assert token.expires_at is not None
    assert timedelta(days=29) < token.expires_at - datetime.now(UTC) <= timedelta(days=30)

    await ApiToken.filter(id=token.id).update(
        created_at=datetime(2026, 1, 1, 0, 30, tzinfo=UTC),
        last_used_at=datetime(2026, 1, 2, 15, 5, tzinfo=UTC),
    )
    page = await client.get("/settings")
    assert secret_on(page) is None and secret not in page.text
    assert "集計" in page.text and f"{token.hint}…" in page.text
    assert "2026年1月1日 09:30" in page.text  # created, in JST
    assert "2026年1月3日 00:05" in page.text  # last used, in JST
    assert "未使用" in page.text  # alice's fixture token has not been used


async def test_a_token_asked_for_longer_than_allowed_is_refused_on_the_page(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    csrf = await token_for(client, "/settings")
    for days in ("91", "0", "abc", ""):
        refused = await client.post(
            "/settings/tokens", data={"name": "長期", "days": days, "csrf_token": csrf}
        )
        assert refused.status_code == 422, days
        assert "有効期間は1〜90日で指定してください。" in refused.text
    assert not await ApiToken.filter(name="長期").exists()


async def test_the_settings_page_revokes_ones_own_tokens_only(
    client: httpx2.AsyncClient, alice: Member, bob: Member
) -> None:
    await log_in(client, "alice")
    csrf = await token_for(client, "/settings")
    own = await ApiToken.get(user=alice.user)
    assert f'action="/settings/tokens/{own.id}/revoke"' in (await client.get("/settings")).text
    bobs = await ApiToken.get(user=bob.user)
    other = await client.post(f"/settings/tokens/{bobs.id}/revoke", data={"csrf_token": csrf})
    assert other.status_code == 404
    assert await ApiToken.filter(id=bobs.id).exists()
    no_csrf = await client.post(f"/settings/tokens/{own.id}/revoke")
    assert no_csrf.status_code == 403
    done = await client.post(f"/settings/tokens/{own.id}/revoke", data={"csrf_token": csrf})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/settings?done=token_revoked")
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    page = await client.get(done.headers["location"])
    assert "API トークンを無効にしました。" in page.text
    assert "発行済みのトークンはありません。" in page.text


async def test_the_password_form_rotates_this_session_and_ends_every_other_way_in(
    client: httpx2.AsyncClient, other_client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    await log_in(other_client, "alice")
    old_cookie = client.cookies["koryu_session"]
    other_cookie = other_client.cookies["koryu_session"]
    csrf = await token_for(client, "/settings")
    wrong = await client.post(
        "/settings/password",
        data={
            "current_password": "not it at all",
            "new_password": NEW_PASSWORD,
            "csrf_token": csrf,
        },
    )
    assert wrong.status_code == 422
    assert "現在のパスワードが違います。" in wrong.text
    assert await signed_in_as(other_client, other_cookie) == "alice"
    changed = await client.post(
        "/settings/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": csrf},
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/settings?done=password"
    new_cookie = client.cookies["koryu_session"]
    assert new_cookie != old_cookie
    assert await signed_in_as(other_client, old_cookie) is None
    assert await signed_in_as(other_client, other_cookie) is None
    assert (await client.get("/api/v1/me", headers=alice.headers)).status_code == 401
    page = await client.get("/settings?done=password")
    assert page.status_code == 200
    assert "パスワードを変更しました。" in page.text
    assert await accounts.authenticate("alice", NEW_PASSWORD)


async def test_the_settings_form_refuses_a_protected_display_name_for_a_participant(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    csrf = await token_for(client, "/settings")
    form = {
        "display_name": "運営事務局",
        "affiliation": "municipality",
        "organisation": "",
        "bio": "",
        "locale": "ja",
        "csrf_token": csrf,
    }
    refused = await client.post("/settings", data=form)
    assert refused.status_code == 422
    assert "運営者と紛らわしい表示名は使えません。" in refused.text
    assert (await User.get(id=alice.user.id)).display_name == "alice さん"


async def test_tokens_made_by_the_shortcut_expire_and_carry_their_hint(app: Starlette) -> None:
    member = await make_member(username="kato")
    token = await ApiToken.get(user=member.user)
    assert token.expires_at is not None
    assert member.token.startswith(token.hint)


async def test_the_token_and_password_sections_read_in_english_too(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    client.cookies.set("koryu_lang", "en")
    page = await client.get("/settings")
    assert page.status_code == 200
    for text in ("Change password", "Current password", "API tokens", "Never used", "90 days"):
        assert text in page.text, text


async def test_the_token_lifetime_setting_is_read_once_and_must_be_positive(
    tmp_path: Path,
) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).token_days == 90
    assert Settings.from_env({**env, "KORYU_TOKEN_DAYS": "30"}).token_days == 30
    for bad in ("0", "-1", "ninety"):
        with pytest.raises(ConfigError, match="KORYU_TOKEN_DAYS"):
            Settings.from_env({**env, "KORYU_TOKEN_DAYS": bad})
