"""Password reset by email: a signed link, valid for an hour, good for one use.

The link names the account and a fingerprint of its current password hash: once the
password changes (by this link or otherwise) every earlier link is worthless, so there is
nothing to store. Asking for a link answers the same whether or not the address is known.
Using it goes through ``accounts.replace_password``: every session and token ends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from forum import accounts, i18n, mailbox, signing
from forum.errors import Unavailable, ValidationFailed
from forum.i18n import gettext as _
from forum.models import MailSettings, User

__all__ = ["VALID_FOR", "request_reset", "reset_password"]

PURPOSE = "password-reset"
VALID_FOR = timedelta(hours=1)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


async def request_reset(address: str, *, now: datetime | None = None) -> None:
    """Mail a reset link to a confirmed address; silently nothing for an unknown one."""
    site = mailbox.site()
    if site is None:
        raise Unavailable(_("この環境ではメールを送信できません。"), code="mail_disabled")
    found = await MailSettings.get_or_none(
        email_key=mailbox.email_key(address), confirmed_at__isnull=False
    ).select_related("user")
    if found is None or found.email is None:
        return
    user, now = found.user, now or datetime.now(UTC)
    token = signing.sign(
        site.secret_key, PURPOSE, {"u": user.id, "f": _fingerprint(user)}, expires=now + VALID_FOR
    )
    previous = i18n.locale()
    i18n.set_locale(user.locale or "ja")
    try:
        subject = _("【koryu】パスワードの再設定")
        text = _(
            "パスワードを再設定するには、1時間以内に次のリンクを開いてください。\n{link}\n\n"
            "心当たりがない場合は、このメールを無視してください。パスワードは変わりません。"
        ).format(link=f"{site.site_url}/password/reset?t={token}")
    finally:
        i18n.set_locale(previous)
    await mailbox.send_plain(user, found.email, subject, text, now=now)


async def reset_password(
    secret_key: str, token: str, new_password: str, *, now: datetime | None = None
) -> User:
    """Set the new password from a valid link; every session and API token of the user ends."""
    invalid = ValidationFailed(
        _("このリンクは使えません。期限が切れたか、すでに使われています。"), code="invalid_link"
    )
    try:
        payload = signing.unsign(secret_key, PURPOSE, token, now=now)
    except signing.BadSignature:
        raise invalid from None
    user_id = payload.get("u")
    user = await User.get_or_none(id=user_id) if isinstance(user_id, int) else None
    if user is None or payload.get("f") != _fingerprint(user):
        raise invalid
    await accounts.replace_password(user, new_password)
    return user
