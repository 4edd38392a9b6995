"""Notices to users about their own posts: approved, rejected (with the reason), sent back.

A notice is written in the transaction of the decision that caused it, and announced on
the user's own channel ``user:{id}`` as ``notification.created``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import events
from forum.errors import BadRequest
from forum.i18n import gettext as _
from forum.models import Notification, NotificationKind, Post, Thread, User
from forum.outbox import Tx
from forum.resources import iso

__all__ = [
    "NotificationPage",
    "list_notifications",
    "mark_read",
    "notification_resource",
    "notify",
    "unread_count",
]

EXCERPT = 80


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


async def notify(
    tx: Tx,
    *,
    user_id: int,
    kind: NotificationKind,
    post: Post,
    thread: Thread,
    reason: str = "",
    url: str = "",
) -> Notification:
    notice = await Notification.create(
        user_id=user_id,
        kind=kind,
        post_id=post.id,
        data={
            "thread_id": thread.id,
            "thread_title": thread.title,
            "excerpt": _excerpt(post.body),
            "reason": reason,
            "url": url,
        },
        using_db=tx.conn,
    )
    tx.emit(events.notification_created(user_id, notification_resource(notice)))
    return notice


def message(notice: Notification) -> str:
    title = str(notice.data.get("thread_title", ""))
    if notice.kind is NotificationKind.POST_APPROVED:
        return _("「{title}」への投稿が承認され、公開されました。").format(title=title)
    if notice.kind is NotificationKind.POST_REJECTED:
        return _("「{title}」への投稿は公開されませんでした。").format(title=title)
    if notice.kind is NotificationKind.EDIT_APPROVED:
        return _("「{title}」への投稿の編集が承認され、反映されました。").format(title=title)
    if notice.kind is NotificationKind.EDIT_REJECTED:
        return _("「{title}」への投稿の編集は反映されませんでした。").format(title=title)
    if notice.kind is NotificationKind.SESSION_LIVE:
        return _("フォローしているセッション「{title}」が始まりました。").format(title=title)
    return _("「{title}」への投稿について、修正の依頼があります。").format(title=title)


def notification_resource(notice: Notification) -> dict[str, Any]:
    data = notice.data
    return {
        "id": notice.id,
        "kind": notice.kind.value,
        "message": message(notice),
        "reason": data.get("reason", ""),
        "excerpt": data.get("excerpt", ""),
        "post_id": notice.post_id,  # type: ignore[attr-defined]
        "thread_id": data.get("thread_id"),
        "thread_title": data.get("thread_title", ""),
        "url": data.get("url", ""),
        "read": notice.read_at is not None,
        "created_at": iso(notice.created_at),
    }


@dataclass(frozen=True, slots=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None
    unread: int


async def list_notifications(
    user: User, *, cursor: str | None = None, limit: int = 30, unread_only: bool = False
) -> NotificationPage:
    """Newest first; the cursor is the id of the last notice of the previous page."""
    query = Notification.filter(user_id=user.id)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    if cursor:
        # The cursor is a notice id: past the id column's range, it is no cursor.
        if not cursor.isdigit() or len(cursor) > 10 or int(cursor) > 2**31 - 1:
            raise BadRequest(_("カーソルが正しくありません。"), code="invalid_cursor")
        query = query.filter(id__lt=int(cursor))
    rows = await query.order_by("-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return NotificationPage(
        rows, str(rows[-1].id) if more and rows else None, await unread_count(user)
    )


async def unread_count(user: User) -> int:
    return await Notification.filter(user_id=user.id, read_at__isnull=True).count()


async def mark_read(user: User, ids: list[int] | None = None) -> int:
    """Mark the given notices (all of them when ``ids`` is None) read; returns how many changed."""
    query = Notification.filter(user_id=user.id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=ids)
    return int(await query.update(read_at=datetime.now(UTC)))
