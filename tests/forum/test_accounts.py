"""Accounts without HTTP: registration rules, password hashing, login, sessions, tokens, roles."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from forum import accounts
from forum.app import create_app
from forum.config import Settings
from forum.errors import NotAuthenticated, NotFound, ValidationFailed
from forum.models import Affiliation, ApiToken, LoginSession, Role, User
from tests.conftest import PASSWORD, make_user


def registration(**changes: str) -> accounts.Registration:
    valid = accounts.Registration(
        username="tanaka-01",
        password=PASSWORD,
        display_name="田中 さん",
        affiliation=Affiliation.MUNICIPALITY.value,
        organisation="佐渡市",
    )
    return replace(valid, **changes)


@contextmanager
def hashing(name: str) -> Iterator[None]:
    """Hash at another cost for a while; the fixtures' fast hasher comes back afterwards."""
    accounts.use_password_hasher(name)
    try:
        yield
    finally:
        accounts.use_password_hasher("fast")


async def suspend(user: User, *, days: int = 1) -> None:
    user.suspended_until = datetime.now(UTC) + timedelta(days=days)
    await user.save(update_fields=["suspended_until"])


# --- password hashing -----------------------------------------------------------------------


def test_the_default_setting_hashes_with_argon2id_at_rfc_9106_low_memory_cost(
    settings: Settings,
) -> None:
    create_app(replace(settings, password_hasher=Settings().password_hasher))
    try:
        parameters = extract_parameters(accounts.hash_password(PASSWORD))
    finally:
        create_app(settings)
    assert parameters == profiles.RFC_9106_LOW_MEMORY
    fast = extract_parameters(accounts.hash_password(PASSWORD))
    assert (fast.time_cost, fast.memory_cost, fast.parallelism) == (1, 8, 1)


def test_a_fast_hash_verifies_with_the_full_cost_hasher_and_the_other_way_round() -> None:
    with hashing("fast"):
        fast_hash = accounts.hash_password(PASSWORD)
    assert PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).verify(fast_hash, PASSWORD)
    with hashing("argon2"):
        full_hash = accounts.hash_password(PASSWORD)
    assert PasswordHasher.from_parameters(profiles.CHEAPEST).verify(full_hash, PASSWORD)


async def test_a_login_rehashes_a_password_at_the_cost_in_use(db: None) -> None:
    user = await make_user(username="kato")
    assert extract_parameters(user.password_hash).memory_cost == 8
    with hashing("argon2"):
        assert (await accounts.authenticate("kato", PASSWORD)).id == user.id
    stored = (await User.get(id=user.id)).password_hash
    assert extract_parameters(stored) == profiles.RFC_9106_LOW_MEMORY


# --- registration ---------------------------------------------------------------------------


def test_a_valid_registration_has_no_errors() -> None:
    assert registration().check() == {}


@pytest.mark.parametrize(
    "username", ["ab", "Tanaka", "-tanaka", "tanaka_", "田中", "t" * 33, "tanaka san"]
)
def test_usernames_outside_the_pattern_are_refused(username: str) -> None:
    assert set(registration(username=username).check()) == {"username"}


def test_reserved_usernames_are_refused_with_their_own_message() -> None:
    errors = registration(username="admin").check()
    assert errors == {"username": "このユーザー名は使用できません。"}


def test_passwords_must_be_ten_to_256_characters() -> None:
    assert set(registration(password="x" * 9).check()) == {"password"}
    assert set(registration(password="x" * 257).check()) == {"password"}
    assert registration(password="x" * 10).check() == {}
    assert registration(password="x" * 256).check() == {}


def test_every_wrong_field_is_named_at_once() -> None:
    errors = registration(
        username="a", display_name="\u200b\u0007", affiliation="company", organisation="団" * 101
    ).check()
    assert set(errors) == {"username", "display_name", "affiliation", "organisation"}


async def test_register_stores_cleaned_names_and_a_hash_never_the_password(db: None) -> None:
    user = await accounts.register(
        registration(display_name=" ＴＡＮＡＫＡ\u200b さん ", organisation=" 佐渡市\u0007 ")
    )
    assert (user.display_name, user.organisation) == ("TANAKA さん", "佐渡市")
    assert user.role is Role.PARTICIPANT
    assert user.affiliation is Affiliation.MUNICIPALITY
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_register_refuses_bad_input_and_a_taken_username_with_their_codes(db: None) -> None:
    with pytest.raises(ValidationFailed) as bad:
        await accounts.register(registration(password="short"))
    assert (bad.value.code, set(bad.value.fields)) == ("invalid", {"password"})
    await accounts.register(registration(), role=Role.EXPERT)
    with pytest.raises(ValidationFailed) as taken:
        await accounts.register(registration(display_name="別の人"))
    assert taken.value.code == "username_taken"
    assert set(taken.value.fields) == {"username"}
    assert await User.filter(username="tanaka-01").count() == 1


# --- login ----------------------------------------------------------------------------------


async def test_authenticate_takes_the_username_in_any_case_and_with_spaces(db: None) -> None:
    user = await make_user(username="sato")
    assert (await accounts.authenticate("  SATO ", PASSWORD)).id == user.id


async def test_a_wrong_password_and_an_unknown_name_get_the_same_error(db: None) -> None:
    await make_user(username="sato")
    with pytest.raises(NotAuthenticated) as wrong:
        await accounts.authenticate("sato", PASSWORD + "!")
    with pytest.raises(NotAuthenticated) as unknown:
        await accounts.authenticate("nobody", PASSWORD)
    assert wrong.value.code == unknown.value.code == "invalid_credentials"
    assert wrong.value.message == unknown.value.message


async def test_a_suspended_account_cannot_log_in_even_with_the_right_password(db: None) -> None:
    user = await make_user(username="sato")
    await suspend(user)
    with pytest.raises(NotAuthenticated) as refused:
        await accounts.authenticate("sato", PASSWORD)
    assert refused.value.code == "suspended"
    assert not accounts.is_suspended(user, now=datetime.now(UTC) + timedelta(days=2))


# --- sessions and tokens --------------------------------------------------------------------


async def test_a_session_cookie_finds_its_user_until_the_session_ends(db: None) -> None:
    user = await make_user(username="sato")
    raw, session = await accounts.start_session(user, days=30)
    assert session.id != raw  # the table keeps a digest, never the cookie itself
    assert (await accounts.user_for_session(raw)) == user
    found = await accounts.session_for(raw)
    assert found is not None and found.csrf_token == session.csrf_token
    await accounts.end_session(raw)
    assert await accounts.user_for_session(raw) is None


async def test_expired_sessions_suspended_users_and_junk_cookies_get_no_session(db: None) -> None:
    user = await make_user(username="sato")
    raw, session = await accounts.start_session(user, days=30)
    for junk in ("", "x" * 101, raw[:-1]):
        assert await accounts.session_for(junk) is None
    await LoginSession.filter(id=session.id).update(expires_at=datetime.now(UTC))
    assert await accounts.session_for(raw) is None
    fresh, _session = await accounts.start_session(user, days=30)
    await suspend(user)
    assert await accounts.session_for(fresh) is None


async def test_an_api_token_finds_its_user_and_is_stored_as_a_digest(db: None) -> None:
    user = await make_user(username="sato")
    raw = await accounts.create_token(user)
    assert raw.startswith("kr_")
    assert (await accounts.user_for_token(raw)) == user
    assert not await ApiToken.filter(key_hash=raw).exists()
    for junk in (raw[3:], "kr_" + "x" * 100, raw + "x"):
        assert await accounts.user_for_token(junk) is None
    await suspend(user)
    assert await accounts.user_for_token(raw) is None


async def test_ending_all_sessions_drops_every_session_and_token_of_that_user_only(
    db: None,
) -> None:
    sato, kato = await make_user(username="sato"), await make_user(username="kato")
    sato_cookie, _s = await accounts.start_session(sato, days=30)
    sato_token = await accounts.create_token(sato)
    kato_cookie, _k = await accounts.start_session(kato, days=30)
    kato_token = await accounts.create_token(kato)
    await accounts.end_all_sessions(sato)
    assert await accounts.user_for_session(sato_cookie) is None
    assert await accounts.user_for_token(sato_token) is None
    assert await accounts.user_for_session(kato_cookie) == kato
    assert await accounts.user_for_token(kato_token) == kato


# --- roles and profiles ---------------------------------------------------------------------


async def test_change_role_saves_a_known_role_and_refuses_others(db: None) -> None:
    await make_user(username="sato")
    assert (await accounts.change_role("sato", "moderator")).role is Role.MODERATOR
    assert (await User.get(username="sato")).role is Role.MODERATOR
    with pytest.raises(ValidationFailed) as bad:
        await accounts.change_role("sato", "owner")
    assert set(bad.value.fields) == {"role"}
    with pytest.raises(NotFound):
        await accounts.change_role("nobody", "admin")


async def test_update_profile_changes_only_the_fields_given_cleaned_as_at_registration(
    db: None,
) -> None:
    user = await make_user(username="sato", organisation="佐渡市")
    await accounts.update_profile(user, bio=" 一行目\r\n二行目\u200b ", locale="en")
    saved = await User.get(id=user.id)
    assert (saved.bio, saved.locale, saved.organisation) == ("一行目\n二行目", "en", "佐渡市")


async def test_update_profile_names_every_bad_field_and_saves_nothing(db: None) -> None:
    user = await make_user(username="sato")
    with pytest.raises(ValidationFailed) as bad:
        await accounts.update_profile(
            user, display_name="", bio="あ" * 1001, locale="fr", expert_field="x" * 101
        )
    assert set(bad.value.fields) == {"display_name", "bio", "locale", "expert_field"}
    assert (await User.get(id=user.id)).display_name == "sato さん"
