"""The mail outbox against a real SMTP server on loopback (aiosmtpd): delivery, retries,
no second copy after a crash, dropped mail about hidden posts, digests, unsubscribing."""

from __future__ import annotations

import asyncio
import email
import re
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, Message
from typing import Any

import httpx2
import pytest
from aiosmtpd.controller import Controller

from forum import mail, mailbox, notifications, outbox
from forum.config import Settings
from forum.models import MailFrequency, MailSettings, MailStatus, OutgoingMail, User
from tests.conftest import PASSWORD, Member
from tests.forum.support import token_in
from tests.moderation.support import new_board, new_thread, reply

pytestmark = pytest.mark.asyncio

SITE = "https://koryu.example.jp"


@dataclass
class Inbox:
    """An SMTP server's handler: keeps what it accepted, answers with ``replies`` first."""

    received: list[Message] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, mail.SmtpConfig]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, mail.parse_smtp_url(f"smtp://127.0.0.1:{port}?from=koryu@example.jp")
    finally:
        controller.stop()


@pytest.fixture
async def bound(settings: Settings, app: Any) -> AsyncIterator[None]:
    mailbox.bind(mailbox.MailSite(SITE, settings.secret_key))
    yield
    mailbox.bind(None)


def sender(config: mail.SmtpConfig) -> mailbox.Sender:
    async def send(message: EmailMessage) -> None:
        await mail.send(config, message)

    return send


async def confirmed(member: Member, frequency: MailFrequency = MailFrequency.IMMEDIATELY) -> None:
    await MailSettings.create(
        user_id=member.user.id,
        email=f"{member.user.username}@city.example.lg.jp",
        email_key=f"{member.user.username}@city.example.lg.jp",
        confirmed_at=datetime.now(UTC),
        frequency=frequency,
    )


async def mention(client: httpx2.AsyncClient, admin: Member, author: Member, *names: str) -> int:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    body = " ".join(f"@{n}さん" for n in names) + " 資料をご確認ください"
    post_id = int((await reply(client, author, thread_id, body))["id"])
    await outbox.settled()
    return post_id


def text_of(message: Message) -> str:
    parts = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


async def test_a_notice_is_mailed_once_with_text_html_and_one_click_unsubscribe(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice)
    post_id = await mention(client, admin, bob, "alice", "bob")
    [row] = await OutgoingMail.all()
    assert (row.to_addr, row.status) == ("alice@city.example.lg.jp", MailStatus.QUEUED)
    assert await mailbox.run_once(sender(config)) == 1
    assert await mailbox.run_once(sender(config)) == 0
    [message] = server.received
    assert message["To"] == "alice@city.example.lg.jp"
    assert message["From"] == "koryu@example.jp"
    assert "メンション" in str(
        email.header.make_header(email.header.decode_header(message["Subject"]))
    )
    assert message["Message-ID"] == row.message_id
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = re.sub(r"\s+", "", str(message["List-Unsubscribe"]))
    unsubscribe = re.fullmatch(r"<(https://koryu\.example\.jp/mail/unsubscribe\?t=[^>]+)>", header)
    assert unsubscribe
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}
    assert f"{SITE}/t/" in text_of(message) and f"#post-{post_id}" in text_of(message)
    assert (await OutgoingMail.get(id=row.id)).status is MailStatus.SENT

    # The one-click POST of RFC 8058, with no login and no CSRF token, stops the mail.
    path = unsubscribe.group(1).removeprefix(SITE)
    asked = await client.get(path)
    assert asked.status_code == 200 and "配信を停止する" in asked.text
    assert (await MailSettings.get(user_id=alice.user.id)).frequency is MailFrequency.IMMEDIATELY
    done = await client.post(path, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200
    assert (await MailSettings.get(user_id=alice.user.id)).frequency is MailFrequency.NEVER
    forged = await client.post(path[:-3] + "AAA", content=b"List-Unsubscribe=One-Click")
    assert forged.status_code == 400


async def test_a_refusing_server_is_tried_again_later_and_a_final_refusal_is_not(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice)
    await confirmed(bob)
    await mention(client, admin, admin, "alice")
    server.replies = ["451 4.3.0 Try again later"]
    now = datetime.now(UTC)
    assert await mailbox.run_once(sender(config), now=now) == 0
    row = await OutgoingMail.get()
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 1)
    assert row.next_attempt_at > now and "451" in row.last_error
    assert await mailbox.run_once(sender(config), now=now) == 0  # not before its time
    assert await mailbox.run_once(sender(config), now=row.next_attempt_at) == 1
    assert len(server.received) == 1

    thread_id = (await new_thread(client, admin, title="別の相談", body="別件です"))["thread"]["id"]
    await reply(client, admin, thread_id, "@bob さん、こちらも")
    await outbox.settled()
    server.replies = ["550 5.1.1 No such user"]
    assert await mailbox.run_once(sender(config), now=datetime.now(UTC)) == 0
    refused = await OutgoingMail.get(to_addr="bob@city.example.lg.jp")
    assert refused.status is MailStatus.FAILED
    later = datetime.now(UTC) + timedelta(days=1)
    assert await mailbox.run_once(sender(config), now=later) == 0


async def test_a_worker_dying_between_send_and_mark_causes_no_second_copy_until_stale(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice)
    await mention(client, admin, admin, "alice")
    now = datetime.now(UTC)

    async def send_then_die(message: EmailMessage) -> None:
        await mail.send(config, message)
        raise asyncio.CancelledError  # the process goes away before it marks the row

    with pytest.raises(asyncio.CancelledError):
        await mailbox.run_once(send_then_die, now=now)
    assert len(server.received) == 1
    assert (await OutgoingMail.get()).status is MailStatus.SENDING
    # Other workers, now and for the next minutes, leave the claimed row alone.
    others = [mailbox.run_once(sender(config), now=now + timedelta(minutes=m)) for m in (0, 1, 9)]
    assert sum(await asyncio.gather(*others)) == 0
    assert len(server.received) == 1
    # Past the claim's timeout it is sent again, recognisably the same message.
    assert (
        await mailbox.run_once(sender(config), now=now + mailbox.STALE + timedelta(seconds=1)) == 1
    )
    first, second = server.received
    assert first["Message-ID"] == second["Message-ID"]
    assert (await OutgoingMail.get()).status is MailStatus.SENT


async def test_two_workers_at_once_send_each_mail_once(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice)
    await confirmed(bob)
    await mention(client, admin, admin, "alice", "bob")
    results = await asyncio.gather(*(mailbox.run_once(sender(config)) for _ in range(3)))
    assert sum(results) == 2
    assert sorted(m["To"] for m in server.received) == [
        "alice@city.example.lg.jp",
        "bob@city.example.lg.jp",
    ]


async def test_a_mail_about_a_post_deleted_before_sending_is_dropped(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice)
    post_id = await mention(client, admin, bob, "alice")
    assert (await client.delete(f"/api/v1/posts/{post_id}", headers=bob.headers)).is_success
    assert await mailbox.run_once(sender(config)) == 0
    assert server.received == []
    assert (await OutgoingMail.get()).status is MailStatus.DROPPED


async def test_the_daily_digest_goes_out_after_seven_in_japan_with_every_unread_notice(
    client: httpx2.AsyncClient,
    admin: Member,
    alice: Member,
    bob: Member,
    bound: None,
    inbox: tuple[Inbox, mail.SmtpConfig],
) -> None:
    server, config = inbox
    await confirmed(alice, MailFrequency.DAILY)
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    for text in ("一つ目の件", "二つ目の件", "三つ目の件"):
        await reply(client, bob, thread_id, f"@alice さん、{text}です")
    await outbox.settled()
    assert await OutgoingMail.all().count() == 0  # nothing at once for a digest reader
    morning = datetime.now(UTC).astimezone(mailbox.JST).replace(hour=6, minute=59) + timedelta(
        days=1
    )
    assert await notifications.queue_digests(morning) == 0
    after_seven = morning + timedelta(minutes=6)
    assert await notifications.queue_digests(after_seven) == 1
    assert await notifications.queue_digests(after_seven + timedelta(hours=1)) == 0
    assert await mailbox.run_once(sender(config), now=after_seven) == 1
    [digest] = server.received
    body = text_of(digest)
    assert body.count("メンションしました") == 3
    assert "（3件）" in str(email.header.make_header(email.header.decode_header(digest["Subject"])))
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_an_address_is_confirmed_by_its_signed_link_and_unique_across_case(
    client: httpx2.AsyncClient, alice: Member, bob: Member, bound: None
) -> None:
    response = await client.put(
        "/api/v1/me/email", json={"email": "Sato@City.example.lg.jp"}, headers=alice.headers
    )
    assert response.status_code == 202
    [confirmation] = await OutgoingMail.all()
    link = re.search(r"https://koryu\.example\.jp(/mail/confirm\?t=\S+)", confirmation.text_body)
    assert link and confirmation.to_addr == "Sato@City.example.lg.jp"
    assert (await client.get(link.group(1))).status_code == 200
    mine = await client.get("/api/v1/me/mail", headers=alice.headers)
    assert mine.json()["email"] == "Sato@City.example.lg.jp" and mine.json()["confirmed"]
    # The same address in other letters: the same answer, and no mail to it.
    again = await client.put(
        "/api/v1/me/email", json={"email": "sato@city.EXAMPLE.lg.jp"}, headers=bob.headers
    )
    assert again.status_code == 202 and again.json() == {"sent": True}
    assert await OutgoingMail.all().count() == 1
    assert (await client.get(link.group(1)[:-4] + "abcd")).status_code == 400
    bad = await client.put(
        "/api/v1/me/email", json={"email": "not-an-address"}, headers=bob.headers
    )
    assert bad.status_code == 422
    settings = await client.patch(
        "/api/v1/me/mail",
        json={"frequency": "daily", "email_kinds_off": ["watched_post"]},
        headers=alice.headers,
    )
    assert settings.json()["frequency"] == "daily"
    wrong = await client.patch(
        "/api/v1/me/mail", json={"frequency": "hourly"}, headers=alice.headers
    )
    assert wrong.status_code == 422
    assert await User.filter(id=alice.user.id).exists()


async def test_without_smtp_no_mail_is_written(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await confirmed(alice)
    await mention(client, admin, bob, "alice")
    assert await OutgoingMail.all().count() == 0
    response = await client.put(
        "/api/v1/me/email", json={"email": "alice@example.jp"}, headers=alice.headers
    )
    assert response.status_code == 503


async def test_a_newcomer_gives_an_address_on_the_registration_form_and_gets_its_link(
    client: httpx2.AsyncClient, bound: None
) -> None:
    page = await client.get("/register")
    assert 'name="email"' in page.text and 'autocomplete="email"' in page.text
    form = {
        "username": "kato-machi",
        "password": PASSWORD,
        "display_name": "加藤 さくら",
        "affiliation": "municipality",
        "csrf_token": token_in(page),
    }
    bad = await client.post("/register", data={**form, "email": "kato@"})
    assert bad.status_code == 422
    assert "メールアドレスの形式が正しくありません。" in bad.text
    assert 'value="kato@"' in bad.text
    assert not await User.exists(username="kato-machi")
    done = await client.post("/register", data={**form, "email": " Kato@Town.example.lg.jp "})
    assert done.status_code == 303
    [confirmation] = await OutgoingMail.all()
    assert confirmation.to_addr == "Kato@Town.example.lg.jp"
    link = re.search(r"https://koryu\.example\.jp(/mail/confirm\?t=\S+)", confirmation.text_body)
    assert link and (await client.get(link.group(1))).status_code == 200
    settings = await MailSettings.get(user__username="kato-machi")
    assert settings.email == "Kato@Town.example.lg.jp" and settings.confirmed_at is not None


async def test_without_mail_the_registration_form_asks_for_no_address(
    client: httpx2.AsyncClient,
) -> None:
    page = await client.get("/register")
    assert 'name="email"' not in page.text
    form = {
        "username": "no-mail",
        "password": PASSWORD,
        "display_name": "メールなし",
        "affiliation": "citizen",
        "email": "ignored@example.jp",
        "csrf_token": token_in(page),
    }
    assert (await client.post("/register", data=form)).status_code == 303
    assert await OutgoingMail.all().count() == 0
