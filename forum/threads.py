"""Thread actions: start a thread with its first post, list, read, and change its state."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from forum import outbox
from forum.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from forum.gate import Gatekeeper
from forum.i18n import gettext as _
from forum.models import Board, IdempotencyRecord, PostStatus, Thread
from forum.permissions import Actor, can_moderate, can_read_board, can_start_thread
from forum.posts import Draft, Outcome, check_key, remembered, visible_post, write_post
from forum.render import render_markdown
from forum.resources import thread_resource

__all__ = [
    "ThreadPage",
    "create_thread",
    "featured_threads",
    "get_thread",
    "list_threads",
    "recent_threads",
    "thread_json",
    "update_thread",
]

MAX_TITLE = 120


async def thread_json(thread: Thread, board: Board) -> dict[str, Any]:
    return thread_resource(
        thread, board_slug=board.slug, seq=await outbox.head(f"thread:{thread.id}")
    )


def _check_title(title: object) -> str:
    if not isinstance(title, str) or not 1 <= len(title.strip()) <= MAX_TITLE:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"title": _("タイトルは1〜120文字で入力してください。")},
        )
    return title.strip()


async def create_thread(
    actor: Actor,
    board: Board,
    title: object,
    body: str,
    *,
    gate: Gatekeeper,
    idempotency_key: str | None = None,
) -> Outcome:
    if actor.user is None:
        raise Forbidden(_("投稿するにはログインしてください。"), code="login_required")
    check_key(idempotency_key)
    scope = f"thread:{board.slug}"
    earlier = await remembered(actor.user, idempotency_key, scope)
    if earlier:
        return earlier
    if not can_start_thread(actor, board):
        raise Forbidden(_("この掲示板にはスレッドを作成できません。"))
    errors: dict[str, str] = {}
    try:
        clean_title = _check_title(title)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        clean_title = ""
    draft = Draft(body=body)
    errors.update(draft.check())
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    verdict = await gate.review(actor, board, None, body)
    html = render_markdown(body)
    try:
        async with outbox.atomic() as tx:
            thread = await Thread.create(
                board_id=board.id, author_id=actor.user.id, title=clean_title, using_db=tx.conn
            )
            post = await write_post(tx, actor, thread, board, draft, verdict, gate, html=html)
            await (
                Board.filter(id=board.id)
                .using_db(tx.conn)
                .update(thread_count=F("thread_count") + 1)
            )
            if verdict.status is PostStatus.PUBLISHED:
                thread.post_count = 1
            seq = 1 if verdict.status is PostStatus.PUBLISHED else 0
            resource = thread_resource(thread, board_slug=board.slug, seq=seq)
            if verdict.status is PostStatus.PUBLISHED:
                tx.emit(f"board:{board.slug}", "thread.created", resource)
            outcome = Outcome(
                201, {"thread": resource, "post": visible_post(actor, post, board.id)}
            )
            if idempotency_key:
                await IdempotencyRecord.create(
                    user_id=actor.user.id,
                    key=idempotency_key,
                    scope=scope,
                    status_code=201,
                    response=outcome.body,
                    using_db=tx.conn,
                )
    except IntegrityError:
        again = await remembered(actor.user, idempotency_key, scope)
        if again is None:
            raise
        return again
    return outcome


def _visible_threads(actor: Actor, board: Board) -> Q:
    """Threads with no published post yet (their first post waits) show only to their author.

    ``_thread_visible`` is the same rule for one loaded row: change both together.
    """
    if can_moderate(actor, board.id):
        return Q(deleted=False)
    visible = Q(post_count__gt=0)
    if actor.id is not None:
        visible |= Q(author_id=actor.id)
    return Q(deleted=False) & visible


def _thread_visible(actor: Actor, board: Board, thread: Thread) -> bool:
    """``_visible_threads`` evaluated on a row already loaded, without asking the database."""
    if thread.deleted:
        return False
    if can_moderate(actor, board.id):
        return True
    author_id = thread.author_id  # type: ignore[attr-defined]
    return thread.post_count > 0 or (actor.id is not None and author_id == actor.id)


async def get_thread(actor: Actor, thread_id: int) -> tuple[Thread, Board]:
    thread = await Thread.get_or_none(id=thread_id).select_related("board")
    if thread is None or not can_read_board(actor, thread.board):
        raise NotFound(_("スレッドが見つかりません。"))
    board = thread.board
    if not _thread_visible(actor, board, thread):
        raise NotFound(_("スレッドが見つかりません。"))
    return thread, board


@dataclass(frozen=True, slots=True)
class ThreadPage:
    threads: list[Thread]
    next_cursor: str | None


def _encode_cursor(thread: Thread) -> str:
    raw = orjson.dumps([int(thread.pinned), thread.last_post_at.isoformat(), thread.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[bool, datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        pinned, stamp, thread_id = orjson.loads(raw)
        return bool(pinned), datetime.fromisoformat(stamp), int(thread_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(_("カーソルが正しくありません。"), code="invalid_cursor") from None


async def list_threads(
    actor: Actor, board: Board, *, cursor: str | None = None, limit: int = 30
) -> ThreadPage:
    """Pinned first, then by latest activity; a keyset cursor so pages never skip or repeat."""
    query = Thread.filter(_visible_threads(actor, board), board_id=board.id)
    if cursor:
        pinned, stamp, last_id = _decode_cursor(cursor)
        after = Q(pinned=pinned, last_post_at=stamp, id__lt=last_id) | Q(
            pinned=pinned, last_post_at__lt=stamp
        )
        if pinned:
            after |= Q(pinned=False)
        query = query.filter(after)
    rows = await query.order_by("-pinned", "-last_post_at", "-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ThreadPage(rows, _encode_cursor(rows[-1]) if more and rows else None)


async def recent_threads(actor: Actor, *, limit: int = 10, featured: bool = False) -> list[Thread]:
    query = Thread.filter(deleted=False, post_count__gt=0, board__private=False)
    if featured:
        query = query.filter(featured=True)
    return await query.order_by("-last_post_at", "-id").limit(limit).select_related("board")


async def featured_threads(actor: Actor, *, limit: int = 6) -> list[Thread]:
    return await recent_threads(actor, limit=limit, featured=True)


THREAD_FLAGS = ("pinned", "locked", "featured", "live")


async def update_thread(actor: Actor, thread: Thread, board: Board, data: dict[str, Any]) -> Thread:
    """Moderators change flags and titles; an author may retitle an unlocked thread of theirs."""
    moderator = can_moderate(actor, board.id)
    is_author = actor.id is not None and thread.author_id == actor.id  # type: ignore[attr-defined]
    changes: dict[str, Any] = {}
    for flag in THREAD_FLAGS:
        if flag in data:
            if not moderator:
                raise Forbidden(_("この操作はモデレーターだけができます。"))
            if not isinstance(data[flag], bool):
                raise ValidationFailed(
                    _("入力内容を確認してください。"), fields={flag: _("true か false です。")}
                )
            changes[flag] = data[flag]
    if "title" in data:
        if not (moderator or (is_author and not thread.locked)):
            raise Forbidden(_("このスレッドのタイトルは変更できません。"))
        changes["title"] = _check_title(data["title"])
    unknown = set(data) - set(THREAD_FLAGS) - {"title"}
    if unknown:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={name: _("この項目は変更できません。") for name in sorted(unknown)},
        )
    changes = {k: v for k, v in changes.items() if getattr(thread, k) != v}
    if not changes:
        return thread
    async with outbox.atomic() as tx:
        thread.update_from_dict(changes)
        await thread.save(update_fields=list(changes), using_db=tx.conn)
        payload = {"id": thread.id, **changes}
        tx.emit(f"thread:{thread.id}", "thread.updated", payload)
        tx.emit(f"board:{board.slug}", "thread.updated", payload)
    return thread
