"""Moderation of threads: lock, unlock, pin, unpin, and move between moderated boards."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.expressions import F

from forum import events, outbox
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, Thread
from forum.permissions import Actor, can_moderate, can_read_board
from moderation import audit
from moderation.access import check_moderator
from moderation.models import ItemState, QueueItem
from moderation.queue import RELATED, flags_by_item, item_resource

__all__ = ["THREAD_ACTIONS", "ThreadChange", "moderated_thread", "move_thread", "set_thread_flag"]

THREAD_ACTIONS = {
    "lock": ("locked", True),
    "unlock": ("locked", False),
    "pin": ("pinned", True),
    "unpin": ("pinned", False),
}


@dataclass(frozen=True, slots=True)
class ThreadChange:
    thread_id: int
    action: str
    changed: bool


async def moderated_thread(actor: Actor, thread_id: int) -> tuple[Thread, Board]:
    thread = await Thread.get_or_none(id=thread_id, deleted=False).select_related("board")
    if thread is None or not can_read_board(actor, thread.board):
        raise NotFound(_("スレッドが見つかりません。"))
    check_moderator(actor, thread.board.id)
    return thread, thread.board


async def set_thread_flag(
    actor: Actor, thread_id: int, action: str, *, reason: str = ""
) -> ThreadChange:
    """Lock, unlock, pin or unpin; returns ``changed=False`` when it already was so."""
    if action not in THREAD_ACTIONS:
        raise NotFound(_("見つかりません。"))
    thread, board = await moderated_thread(actor, thread_id)
    field, value = THREAD_ACTIONS[action]
    if getattr(thread, field) == value:
        return ThreadChange(thread.id, action, changed=False)
    async with outbox.atomic() as tx:
        changed = await (
            Thread.filter(id=thread.id, **{field: not value})
            .using_db(tx.conn)
            .update(**{field: value})
        )
        if changed:
            tx.emit(*events.thread_updated(thread, board.slug, {field: value}))
            await audit.write(
                tx,
                actor,
                f"thread.{action}",
                audit.Target("thread", thread.id, thread.title),
                board_id=board.id,
                before={field: not value},
                after={field: value},
                reason=reason.strip()[:1000],
            )
    return ThreadChange(thread.id, action, changed=bool(changed))


async def move_thread(
    actor: Actor, thread_id: int, board_slug: str, *, reason: str = ""
) -> ThreadChange:
    """Only between two boards the actor moderates; its open queue items move with it."""
    thread, source = await moderated_thread(actor, thread_id)
    target = await Board.get_or_none(slug=board_slug)
    if target is None:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"board": _("移動先の掲示板が見つかりません。")},
        )
    if target.id == source.id:
        return ThreadChange(thread.id, "move", changed=False)
    if not can_moderate(actor, target.id):
        raise Forbidden(_("移動先の掲示板をモデレートする権限がありません。"))
    # The thread as read before its move: a viewer of the target board who subscribes to
    # it from this seq replays the move itself and whatever came after.
    seq = await outbox.head(events.thread_channel(thread.id))
    async with outbox.atomic() as tx:
        moved = await (
            Thread.filter(id=thread.id, board_id=source.id)
            .using_db(tx.conn)
            .update(board_id=target.id)
        )
        if moved != 1:
            raise Conflict(_("スレッドはすでに移動されています。"), code="stale_version")
        await (
            Board.filter(id=source.id).using_db(tx.conn).update(thread_count=F("thread_count") - 1)
        )
        await (
            Board.filter(id=target.id).using_db(tx.conn).update(thread_count=F("thread_count") + 1)
        )
        live = (
            await QueueItem.filter(
                thread_id=thread.id, state__in=[ItemState.OPEN, ItemState.REVISION]
            )
            .using_db(tx.conn)
            .select_related(*RELATED)
        )
        await QueueItem.filter(thread_id=thread.id).using_db(tx.conn).update(board_id=target.id)
        flags = await flags_by_item([i.id for i in live], tx.conn)
        for item in live:
            tx.emit(events.item_moved(source.slug, item_id=item.id, target_slug=target.slug))
            item.board = target
            item.thread.board_id = target.id  # type: ignore[attr-defined]
            if item.state is ItemState.OPEN:
                tx.emit(events.item_created(target.slug, item_resource(item, flags[item.id])))
        tx.emit(*events.thread_moved(thread, source, target, seq=seq))
        await audit.write(
            tx,
            actor,
            "thread.move",
            audit.Target("thread", thread.id, thread.title),
            board_id=source.id,
            before={"board": source.slug},
            after={"board": target.slug},
            reason=reason.strip()[:1000],
        )
    return ThreadChange(thread.id, "move", changed=True)
