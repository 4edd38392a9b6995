"""What a restricted user is told: which restriction, until when, why, and what to do.

The reason a moderator gave is kept in moderation's audit log, which forum does not
import; ``forum.app`` binds the lookup (as it gives ``forum.channels`` a session's board).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from forum.formatting import format_datetime
from forum.i18n import gettext as _
from forum.models import User

__all__ = ["ReasonLookup", "Silence", "bind", "silence_of", "suspension_message"]

# (user id, "silence" | "suspend") -> the reason of the sanction in force, or "".
ReasonLookup = Callable[[int, str], Awaitable[str]]
_lookup: ReasonLookup | None = None


def bind(lookup: ReasonLookup | None) -> None:
    global _lookup
    _lookup = lookup


@dataclass(frozen=True, slots=True)
class Silence:
    until: datetime
    reason: str

    @property
    def message(self) -> str:
        return _(
            "発言停止中のため、{until}まで投稿できません。期限を過ぎると、また投稿できるようになります。"
        ).format(until=format_datetime(self.until))

    @property
    def message_with_reason(self) -> str:
        if not self.reason:
            return self.message
        return self.message + "\n" + _("理由：%(reason)s") % {"reason": self.reason}


async def silence_of(user: User | None, now: datetime | None = None) -> Silence | None:
    """The silence in force on ``user``, with its reason; None when they may post."""
    until = user.silenced_until if user else None
    if user is None or until is None or until <= (now or datetime.now(UTC)):
        return None
    reason = await _lookup(user.id, "silence") if _lookup else ""
    return Silence(until, reason)


def suspension_message(until: datetime | None) -> str:
    if until is None:
        return _("このアカウントは利用停止中です。詳しくは、サイトの管理者にお問い合わせください。")
    return _(
        "このアカウントは{until}まで利用停止中です。詳しくは、サイトの管理者にお問い合わせください。"
    ).format(until=format_datetime(until))
