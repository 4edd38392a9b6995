"""The audit log: every moderation action, written in the transaction that made the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forum.errors import BadRequest
from forum.i18n import gettext as _
from forum.outbox import Tx
from forum.permissions import Actor
from forum.resources import iso
from moderation.access import check_moderator, moderated_boards
from moderation.models import AuditEntry

__all__ = ["LogPage", "Target", "entry_resource", "list_log", "parse_cursor", "write"]


@dataclass(frozen=True, slots=True)
class Target:
    type: str
    id: int | None = None
    label: str = ""


async def write(
    tx: Tx,
    actor: Actor | None,
    action: str,
    target: Target,
    *,
    board_id: int | None = None,
    admin_only: bool = False,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """``actor`` None is the system itself (a post hidden by its flags)."""
    return await AuditEntry.create(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target.type,
        target_id=target.id,
        target_label=target.label[:200],
        board_id=board_id,
        admin_only=admin_only,
        before=before or {},
        after=after or {},
        reason=reason,
        using_db=tx.conn,
    )


def entry_resource(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "actor": entry.actor.username if entry.actor else None,
        "action": entry.action,
        "target": {"type": entry.target_type, "id": entry.target_id, "label": entry.target_label},
        "board": entry.board.slug if entry.board else None,
        "admin_only": entry.admin_only,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
    }


def parse_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    # An entry id: past the id column's range (32 bits on PostgreSQL), it is no cursor.
    if not cursor.isdigit() or len(cursor) > 10 or int(cursor) > 2**31 - 1:
        raise BadRequest(
            _("ページの指定が正しくありません。一覧を最初のページから開き直してください。"),
            code="invalid_cursor",
        )
    return int(cursor)


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[AuditEntry]
    next_cursor: str | None


async def list_log(
    actor: Actor, *, board: str | None = None, cursor: str | None = None, limit: int = 50
) -> LogPage:
    """Newest first. Board staff see their boards' entries, admins also the admin-only ones."""
    check_moderator(actor)
    query = AuditEntry.all()
    if not actor.is_admin:
        query = query.filter(admin_only=False)
    boards = moderated_boards(actor)
    if boards is not None:
        query = query.filter(board_id__in=sorted(boards))
    if board:
        query = query.filter(board__slug=board)
    before = parse_cursor(cursor)
    if before is not None:
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(limit + 1).select_related("actor", "board")
    more = len(rows) > limit
    rows = rows[:limit]
    return LogPage(rows, str(rows[-1].id) if more and rows else None)
