"""Sanctions on users: silence (no posting) or suspend (no signing in) for a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from forum import accounts, events, outbox
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Role, User
from forum.permissions import Actor
from forum.resources import iso
from moderation import audit
from moderation.access import check_site_moderator
from moderation.models import AuditEntry

__all__ = ["MAX_HOURS", "Sanction", "SanctionKind", "SanctionOrder", "reason_in_force", "sanction"]

MAX_HOURS = 24 * 365 * 5


class SanctionKind(StrEnum):
    SILENCE = "silence"
    SUSPEND = "suspend"


FIELDS = {SanctionKind.SILENCE: "silenced_until", SanctionKind.SUSPEND: "suspended_until"}


@dataclass(frozen=True, slots=True)
class SanctionOrder:
    """What a moderator asks: ``hours`` is None when the request gave no whole number."""

    kind: str
    hours: int | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Sanction:
    username: str
    kind: str
    until: datetime | None
    changed: bool


def _check(actor: Actor, target: User, order: SanctionOrder) -> tuple[SanctionKind, int]:
    errors: dict[str, str] = {}
    try:
        sanction_kind = SanctionKind(order.kind)
    except ValueError:
        errors["kind"] = _("制限の種類は「発言停止」か「利用停止」を選んでください。")
        sanction_kind = SanctionKind.SILENCE
    hours = order.hours
    if hours is None or not 0 <= hours <= MAX_HOURS:
        errors["hours"] = _("期間は0〜43,800時間の整数で入力してください（0で解除します）。")
        hours = 0
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    if target.id == actor.id:
        raise Forbidden(_("自分自身には制限をかけられません。"))
    if target.role is Role.ADMIN or (target.role is Role.MODERATOR and not actor.is_admin):
        raise Forbidden(_("このユーザーには制限をかけられません。"))
    return sanction_kind, hours


async def sanction(actor: Actor, username: str, order: SanctionOrder) -> Sanction:
    """Site moderators and admins only; ``hours=0`` lifts it. Suspension ends every session."""
    check_site_moderator(actor)
    target = await User.get_or_none(username=username)
    if target is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    sanction_kind, span = _check(actor, target, order)
    field = FIELDS[sanction_kind]
    now = datetime.now(UTC)
    until = now + timedelta(hours=span) if span else None
    before: datetime | None = getattr(target, field)
    if until is None and (before is None or before <= now):
        return Sanction(target.username, sanction_kind.value, None, changed=False)
    async with outbox.atomic() as tx:
        await User.filter(id=target.id).using_db(tx.conn).update(**{field: until})
        await audit.write(
            tx,
            actor,
            f"user.{sanction_kind.value}",
            audit.Target("user", target.id, target.username),
            before={field: iso(before)},
            after={field: iso(until)},
            reason=order.reason.strip()[:1000],
        )
        tx.emit(events.user_sanctioned(target.id, kind=sanction_kind.value, until=until))
        if sanction_kind is SanctionKind.SUSPEND and until is not None:
            # Sessions of a suspended user are refused already; this drops them for good,
            # and closes the user's open sockets in every process.
            await accounts.end_all_sessions(target, tx)
            accounts.access_changed(tx, target.id, events.AccessReason.SUSPENDED)
    setattr(target, field, until)
    return Sanction(target.username, sanction_kind.value, until, changed=True)


async def reason_in_force(user_id: int, kind: str) -> str:
    """The reason the moderator gave for the latest silence or suspension of a user."""
    entry = (
        await AuditEntry.filter(action=f"user.{kind}", target_type="user", target_id=user_id)
        .order_by("-id")
        .first()
    )
    return entry.reason if entry is not None else ""
