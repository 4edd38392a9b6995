"""SMTP delivery; the only module that imports aiosmtplib.

Off unless ``KORYU_SMTP_URL`` is set: ``smtp://[user:password@]host[:port]`` (STARTTLS when
the server offers it), ``smtps://…`` for TLS from the start, ``?from=koryu@example.jp`` for
the sender. The client's errors are translated here into two: a refusal that will not change
(5xx) and a failure worth retrying (4xx, a connection that failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

__all__ = ["MailDeferred", "MailRefused", "SmtpConfig", "parse_smtp_url", "send"]


class MailRefused(Exception):
    """The server refused the message for good (a 5xx answer): do not try again."""


class MailDeferred(Exception):
    """The message did not go out this time (4xx, connection lost): try again later."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    tls: bool = False
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("KORYU_SMTP_URL must be smtp://HOST[:PORT] or smtps://HOST[:PORT]")
    tls = parts.scheme == "smtps"
    sender = parse_qs(parts.query).get("from", [f"koryu@{parts.hostname}"])[0]
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if tls else 25),
        sender=sender,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        tls=tls,
    )


async def send(config: SmtpConfig, message: EmailMessage) -> None:
    if "From" not in message:
        message["From"] = config.sender
    # Flattened here, with the message's own policy: the client's would fold long headers
    # into encoded words, and a List-Unsubscribe URL so encoded is one no mail program uses.
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    recipients = [str(a) for a in message.get_all("To", [])]
    try:
        await aiosmtplib.send(
            raw,
            sender=config.sender,
            recipients=recipients,
            hostname=config.host,
            port=config.port,
            username=config.username or None,
            password=config.password or None,
            use_tls=config.tls,
            start_tls=None if not config.tls else False,
            timeout=config.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= code < 600 for code in codes):
            raise MailRefused(f"recipient refused: {codes}") from exc
        raise MailDeferred(f"recipient deferred: {codes}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            raise MailRefused(f"{exc.code} {exc.message}") from exc
        raise MailDeferred(f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailDeferred(str(exc) or type(exc).__name__) from exc
