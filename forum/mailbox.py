"""The mail outbox: notices by email, written with the notice, sent by a worker.

A mail is a row of ``mail_outbox`` written in the transaction of the notice it reports, so a
notice and its mail exist together or not at all. The worker (``run_forever``, in the app's
lifespan) claims due rows with a conditional UPDATE — any number of processes may run one,
each row goes to one of them — sends, and marks the row sent under its claim token.

Never twice, as far as a mail server allows: a worker that dies between the server's "250 OK"
and its own mark leaves the row in ``sending``; nobody touches it until ``STALE`` has passed,
then it is sent again (at least once beats never). The copy carries the same Message-ID, so
mail programs recognise it as the same message. Exactly-once would need the SMTP server to
take part, which it does not.

A mail about a post is checked again just before it goes out: if the post left view
meanwhile (hidden, rejected, deleted), the mail is dropped, not sent.
"""

from __future__ import annotations

import asyncio
import email.policy
import html
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from forum import i18n, signing
from forum.errors import Unavailable, ValidationFailed
from forum.i18n import gettext as _
from forum.mail import MailDeferred, MailRefused
from forum.models import (
    MailFrequency,
    MailSettings,
    MailStatus,
    Notification,
    NotificationKind,
    OutgoingMail,
    PostStatus,
    User,
)
from forum.outbox import Tx

__all__ = [
    "MAX_ATTEMPTS",
    "STALE",
    "MailSite",
    "bind",
    "check_address",
    "confirm_address",
    "digest_due",
    "enqueue_digest",
    "enqueue_notices",
    "preferences",
    "request_address",
    "run_forever",
    "run_once",
    "send_plain",
    "set_preferences",
    "site",
    "unsubscribe",
    "unsubscribe_url",
]

log = logging.getLogger("koryu.mail")

JST = ZoneInfo("Asia/Tokyo")
DIGEST_HOUR = 7  # the daily digest goes out from 7:00 Japan time, before the working day
MAX_ATTEMPTS = 8
# A row claimed this long ago and never marked: its worker died; send it again.
STALE = timedelta(minutes=10)
_BATCH = 20
UNSUBSCRIBE = "unsubscribe"

Sender = Callable[[EmailMessage], Awaitable[None]]
# forum.notifications.notification_resource, passed in: it is called in each recipient's
# language, and this module stays below forum.notifications.
Describe = Callable[[Notification], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class MailSite:
    site_url: str
    secret_key: str


_site: MailSite | None = None


def bind(site: MailSite | None) -> None:
    """Mail is written only while bound (the app binds it when ``KORYU_SMTP_URL`` is set)."""
    global _site
    _site = site


def unsubscribe_url(site: MailSite, user_id: int) -> str:
    token = signing.sign(site.secret_key, UNSUBSCRIBE, {"u": user_id}, expires=None)
    return f"{site.site_url}/mail/unsubscribe?t={token}"


async def unsubscribe(secret_key: str, token: str) -> bool:
    """One-click unsubscribe (RFC 8058) by the signed link alone; False if the link is bad."""
    try:
        payload = signing.unsign(secret_key, UNSUBSCRIBE, token)
    except signing.BadSignature:
        return False
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return False
    await MailSettings.filter(user_id=user_id).update(frequency=MailFrequency.NEVER)
    return True


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Recipient:
    user_id: int
    email: str
    locale: str


async def _recipients(
    tx: Tx, user_ids: Sequence[int], kind: str, frequency: MailFrequency
) -> dict[int, _Recipient]:
    rows = (
        await MailSettings.filter(
            user_id__in=list(user_ids),
            confirmed_at__isnull=False,
            email__isnull=False,
            frequency=frequency,
        )
        .using_db(tx.conn)
        .select_related("user")
    )
    return {
        row.user.id: _Recipient(row.user.id, str(row.email), row.user.locale or "ja")
        for row in rows
        if kind not in row.email_kinds_off
    }


def _compose(
    resources: Sequence[dict[str, Any]], site: MailSite, *, digest: bool
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a mail, in the current locale."""
    lines, items = [], []
    for notice in resources:
        link = site.site_url + str(notice.get("url") or f"/t/{notice.get('thread_id')}")
        excerpt = str(notice.get("excerpt") or "")
        lines.append(f"・{notice['message']}\n  {excerpt}\n  {link}")
        items.append(
            f'<li><p><a href="{html.escape(link)}">{html.escape(str(notice["message"]))}</a></p>'
            f"<p>{html.escape(excerpt)}</p></li>"
        )
    if digest:
        subject = _("【koryu】新しいお知らせ（{count}件）").format(count=len(resources))
        intro = _("前回のまとめ以降に、次のお知らせがありました。")
    else:
        subject = _("【koryu】{message}").format(message=resources[0]["message"])[:200]
        intro = _("koryu からのお知らせです。")
    footer = _("メールの受け取り方は設定画面で変えられます：{url}").format(
        url=f"{site.site_url}/settings"
    )
    text = f"{intro}\n\n" + "\n\n".join(lines) + f"\n\n--\n{footer}\n"
    body = (
        f'<!doctype html><html lang="{i18n.locale()}"><body><p>{html.escape(intro)}</p>'
        f"<ul>{''.join(items)}</ul><hr><p>{html.escape(footer)}</p></body></html>"
    )
    return subject, text, body


def _row(
    site: MailSite,
    recipient: _Recipient,
    notices: Sequence[Notification],
    describe: Describe,
    *,
    digest: bool,
    now: datetime,
) -> OutgoingMail:
    previous = i18n.locale()
    i18n.set_locale(recipient.locale)
    try:
        resources = [describe(notice) for notice in notices]
        subject, text, body = _compose(resources, site, digest=digest)
    finally:
        i18n.set_locale(previous)
    domain = site.site_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "koryu"
    return OutgoingMail(
        user_id=recipient.user_id,
        notification_id=None if digest else notices[0].id,
        to_addr=recipient.email,
        subject=subject,
        text_body=text,
        html_body=body,
        unsubscribe_url=unsubscribe_url(site, recipient.user_id),
        message_id=make_msgid(domain=domain),
        status=MailStatus.QUEUED,
        next_attempt_at=now,
    )


async def enqueue_notices(tx: Tx, notices: Sequence[Notification], describe: Describe) -> int:
    """Mails for fresh notices of one kind, to the people who want each at once; in the
    notices' own transaction, in one INSERT."""
    site = _site
    if site is None or not notices:
        return 0
    users = [int(n.user_id) for n in notices]  # type: ignore[attr-defined]
    wanted = await _recipients(tx, users, notices[0].kind.value, MailFrequency.IMMEDIATELY)
    now = datetime.now(UTC)
    rows = [
        _row(site, wanted[user_id], [notice], describe, digest=False, now=now)
        for user_id, notice in zip(users, notices, strict=True)
        if user_id in wanted
    ]
    if rows:
        await OutgoingMail.bulk_create(rows, using_db=tx.conn)
    return len(rows)


def digest_due(now: datetime) -> datetime | None:
    """This morning's digest time if it has come (Japan time), else None."""
    local = now.astimezone(JST)
    start = datetime.combine(local.date(), time(DIGEST_HOUR), tzinfo=JST)
    return start if local >= start else None


async def enqueue_digest(
    tx: Tx,
    settings: MailSettings,
    notices: Sequence[Notification],
    describe: Describe,
    *,
    now: datetime,
) -> bool:
    """One digest mail of the given notices; the caller has claimed ``settings`` for today."""
    site = _site
    if site is None or not notices or settings.email is None:
        return False
    user = await settings.user
    recipient = _Recipient(user.id, settings.email, user.locale or "ja")
    row = _row(site, recipient, notices, describe, digest=True, now=now)
    await row.save(using_db=tx.conn)
    return True


# --- sending --------------------------------------------------------------------------------


async def _claim(now: datetime) -> list[tuple[OutgoingMail, str]]:
    due = (
        await OutgoingMail.filter(
            Q(status=MailStatus.QUEUED, next_attempt_at__lte=now)
            | Q(status=MailStatus.SENDING, claimed_at__lt=now - STALE)
        )
        .order_by("id")
        .limit(_BATCH)
    )
    claimed = []
    for row in due:
        token = secrets.token_hex(16)
        # Conditional on the row being as we read it: of several workers, one wins.
        won = await OutgoingMail.filter(
            id=row.id, status=row.status, claim_token=row.claim_token
        ).update(
            status=MailStatus.SENDING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
        if won == 1:
            row.attempts += 1
            claimed.append((row, token))
    return claimed


async def _still_in_view(row: OutgoingMail) -> bool:
    notification_id: int | None = row.notification_id  # type: ignore[attr-defined]
    if notification_id is None:
        return True
    notice = await Notification.get_or_none(id=notification_id).select_related(
        "post", "post__thread"
    )
    if notice is None or notice.post is None:
        return False
    return notice.post.status is PostStatus.PUBLISHED and not notice.post.thread.deleted


# Long lines are allowed up to SMTP's 998: a folded or encoded List-Unsubscribe URL is one
# that mail programs cannot use.
_POLICY = email.policy.SMTP.clone(max_line_length=998)


def message_of(row: OutgoingMail) -> EmailMessage:
    message = EmailMessage(policy=_POLICY)
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at or datetime.now(UTC))
    if row.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


async def _finish(row: OutgoingMail, token: str, **changes: Any) -> None:
    await OutgoingMail.filter(id=row.id, claim_token=token).update(**changes)


async def run_once(send: Sender, *, now: datetime | None = None) -> int:
    """Claim due mails and send them; returns how many went out."""
    now = now or datetime.now(UTC)
    sent = 0
    for row, token in await _claim(now):
        if not await _still_in_view(row):
            await _finish(row, token, status=MailStatus.DROPPED, claim_token=None)
            continue
        try:
            await send(message_of(row))
        except MailRefused as exc:
            await _finish(row, token, status=MailStatus.FAILED, last_error=str(exc)[:500])
            log.warning("mail %s refused: %s", row.id, exc)
        except MailDeferred as exc:
            final = row.attempts >= MAX_ATTEMPTS
            await _finish(
                row,
                token,
                status=MailStatus.FAILED if final else MailStatus.QUEUED,
                next_attempt_at=now + _backoff(row.attempts),
                claim_token=None,
                last_error=str(exc)[:500],
            )
        else:
            await _finish(row, token, status=MailStatus.SENT, sent_at=datetime.now(UTC))
            sent += 1
    return sent


async def run_forever(
    send: Sender,
    stop: asyncio.Event,
    *,
    interval: float = 5.0,
    digests: Callable[[datetime], Awaitable[int]] | None = None,
) -> None:
    """The worker of the app's lifespan: digests when due, then due mails, until ``stop``."""
    while not stop.is_set():
        try:
            if digests is not None:
                await digests(datetime.now(UTC))
            await run_once(send)
        except Exception:
            log.exception("the mail worker's round failed; next round in %ss", interval)
        try:
            async with asyncio.timeout(interval):
                await stop.wait()
        except TimeoutError:
            pass


# --- addresses and preferences --------------------------------------------------------------

CONFIRM = "confirm-email"
CONFIRM_FOR = timedelta(days=2)
_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def email_key(address: str) -> str:
    return address.strip().casefold()


def check_address(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"email": _("メールアドレスの形式が正しくありません。")},
        )
    return address


async def request_address(user: User, address: str, *, now: datetime | None = None) -> None:
    """Mail a signed confirmation link to a new address. The answer is the same whether or not
    another account holds it (addresses are shown to nobody); then no mail goes out."""
    address = check_address(address)
    site = _site
    if site is None:
        raise Unavailable(_("この環境ではメールを送信できません。"), code="mail_disabled")
    taken = (
        await MailSettings.filter(email_key=email_key(address)).exclude(user_id=user.id).exists()
    )
    if taken:
        return
    now = now or datetime.now(UTC)
    token = signing.sign(
        site.secret_key, CONFIRM, {"u": user.id, "e": address}, expires=now + CONFIRM_FOR
    )
    link = f"{site.site_url}/mail/confirm?t={token}"
    previous = i18n.locale()
    i18n.set_locale(user.locale or "ja")
    try:
        subject = _("【koryu】メールアドレスの確認")
        text = _(
            "koryu でこのメールアドレスを登録するには、48時間以内に次のリンクを開いてください。\n{link}\n\n"
            "心当たりがない場合は、このメールを無視してください。"
        ).format(link=link)
    finally:
        i18n.set_locale(previous)
    await send_plain(user, address, subject, text, now=now)


def site() -> MailSite | None:
    """Where links in mail point, and the key that signs them; None while mail is off."""
    return _site


async def send_plain(
    user: User, address: str, subject: str, text: str, *, now: datetime | None = None
) -> None:
    """A mail of one text (a confirmation, a password reset) into the outbox."""
    body = html.escape(text).replace("\n", "<br>")
    await OutgoingMail.create(
        user_id=user.id,
        to_addr=address,
        subject=subject,
        text_body=text,
        html_body=f"<!doctype html><html><body><p>{body}</p></body></html>",
        message_id=make_msgid(domain="koryu"),
        next_attempt_at=now or datetime.now(UTC),
    )


async def confirm_address(secret_key: str, token: str) -> bool:
    """Take the address of a confirmation link; False if the link is bad, expired, or the
    address went to another account meanwhile."""
    try:
        payload = signing.unsign(secret_key, CONFIRM, token)
    except signing.BadSignature:
        return False
    user_id, address = payload.get("u"), payload.get("e")
    if not isinstance(user_id, int) or not isinstance(address, str):
        return False
    settings, _created = await MailSettings.get_or_create(user_id=user_id)
    try:
        await MailSettings.filter(id=settings.id).update(
            email=address, email_key=email_key(address), confirmed_at=datetime.now(UTC)
        )
    except IntegrityError:
        return False
    return True


async def preferences(user: User) -> MailSettings:
    settings, _created = await MailSettings.get_or_create(user_id=user.id)
    return settings


async def set_preferences(
    user: User,
    *,
    frequency: str | None = None,
    email_kinds_off: list[str] | None = None,
    page_kinds_off: list[str] | None = None,
) -> MailSettings:
    errors: dict[str, str] = {}
    if frequency is not None and frequency not in {f.value for f in MailFrequency}:
        errors["frequency"] = _("メールの頻度を一覧から選んでください。")
    kinds = {k.value for k in NotificationKind}
    for name, chosen in (("email_kinds_off", email_kinds_off), ("page_kinds_off", page_kinds_off)):
        if chosen is not None and not all(k in kinds for k in chosen):
            errors[name] = _("お知らせの種類が正しくありません。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    settings = await preferences(user)
    if frequency is not None:
        settings.frequency = MailFrequency(frequency)
    if email_kinds_off is not None:
        settings.email_kinds_off = sorted(set(email_kinds_off))
    if page_kinds_off is not None:
        settings.page_kinds_off = sorted(set(page_kinds_off))
    await settings.save(update_fields=["frequency", "email_kinds_off", "page_kinds_off"])
    return settings
