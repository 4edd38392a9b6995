"""Password reset by email: one answer for every address, a link good for an hour and for
one use, and using it ends every session and token of the account."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from forum import accounts, mailbox, password_reset
from forum.config import Settings
from forum.errors import ValidationFailed
from forum.models import ApiToken, MailSettings, OutgoingMail
from tests.conftest import PASSWORD, Member
from tests.forum.support import log_in, token_for

pytestmark = pytest.mark.asyncio

SITE = "https://koryu.example.jp"
NEW_PASSWORD = "sakura-no-hana-2026"


@pytest.fixture
async def bound(settings: Settings, app: Any) -> AsyncIterator[None]:
    mailbox.bind(mailbox.MailSite(SITE, settings.secret_key))
    yield
    mailbox.bind(None)


async def with_address(member: Member) -> None:
    await MailSettings.create(
        user_id=member.user.id,
        email="Alice@City.example.lg.jp",
        email_key="alice@city.example.lg.jp",
        confirmed_at=datetime.now(UTC),
    )


async def ask(client: httpx2.AsyncClient, address: str) -> httpx2.Response:
    token = await token_for(client, "/password/forgot")
    return await client.post("/password/forgot", data={"email": address, "csrf_token": token})


async def test_the_same_answer_for_known_and_unknown_addresses_and_a_link_only_to_known(
    client: httpx2.AsyncClient, alice: Member, bound: None
) -> None:
    await with_address(alice)
    known = await ask(client, "alice@CITY.example.lg.jp")
    unknown = await ask(client, "nobody@example.jp")
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf-token" content="[^"]*"|value="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    [sent] = await OutgoingMail.all()
    assert sent.to_addr == "Alice@City.example.lg.jp"
    assert re.search(r"https://koryu\.example\.jp/password/reset\?t=\S+", sent.text_body)


async def test_the_link_sets_a_new_password_once_and_ends_every_session_and_token(
    client: httpx2.AsyncClient, alice: Member, bound: None
) -> None:
    await with_address(alice)
    await log_in(client, "alice")
    assert await ApiToken.filter(user_id=alice.user.id).exists()
    client.cookies.clear()
    await ask(client, "alice@city.example.lg.jp")
    [sent] = await OutgoingMail.all()
    link = re.search(r"https://koryu\.example\.jp(/password/reset\?t=\S+)", sent.text_body)
    assert link
    page = await client.get(link.group(1))
    assert page.status_code == 200 and 'name="new_password"' in page.text
    token = link.group(1).split("t=", 1)[1]
    csrf = await token_for(client, "/password/forgot")
    done = await client.post(
        "/password/reset", data={"t": token, "new_password": NEW_PASSWORD, "csrf_token": csrf}
    )
    assert done.status_code == 200, done.text
    assert not await ApiToken.filter(user_id=alice.user.id).exists()
    me = await client.get("/api/v1/me", headers=alice.headers)
    assert me.status_code == 401
    assert (await accounts.authenticate("alice", NEW_PASSWORD)).id == alice.user.id
    again = await client.post(
        "/password/reset",
        data={"t": token, "new_password": "another-pass-1234", "csrf_token": csrf},
    )
    assert again.status_code == 422
    assert (await accounts.authenticate("alice", NEW_PASSWORD)).id == alice.user.id


async def test_a_link_older_than_an_hour_or_altered_is_refused(
    settings: Settings, alice: Member, bound: None
) -> None:
    await with_address(alice)
    then = datetime.now(UTC) - timedelta(hours=1, minutes=1)
    await password_reset.request_reset("alice@city.example.lg.jp", now=then)
    [sent] = await OutgoingMail.all()
    match = re.search(r"t=(\S+)", sent.text_body)
    assert match
    with pytest.raises(ValidationFailed):
        await password_reset.reset_password(settings.secret_key, match.group(1), NEW_PASSWORD)
    with pytest.raises(ValidationFailed):
        await password_reset.reset_password(settings.secret_key, "x" + match.group(1), NEW_PASSWORD)
    assert (await accounts.authenticate("alice", PASSWORD)).id == alice.user.id


async def test_asking_again_and_again_is_rate_limited(
    client: httpx2.AsyncClient, alice: Member, bound: None
) -> None:
    await with_address(alice)
    answers = [(await ask(client, "alice@city.example.lg.jp")).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert await OutgoingMail.all().count() == 3


async def test_without_mail_the_reset_pages_do_not_exist_and_login_does_not_offer_them(
    client: httpx2.AsyncClient,
) -> None:
    assert (await client.get("/password/forgot")).status_code == 404
    login = await client.get("/login")
    assert 'href="/password/forgot"' not in login.text


async def test_with_mail_the_login_page_links_to_the_reset_page(
    client: httpx2.AsyncClient, bound: None
) -> None:
    login = await client.get("/login")
    assert 'href="/password/forgot"' in login.text
    assert (await client.get("/password/forgot")).status_code == 200
