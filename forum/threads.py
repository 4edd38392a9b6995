"""Thread actions: start a thread with its first post, list, read, and change its state."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from forum import events, outbox, reading, restrictions, search_index
from forum.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from forum.gate import Gatekeeper, Verdict
from forum.i18n import gettext as _
from forum.models import Board, ModerationPolicy, PostStatus, Thread
from forum.permissions import Actor, can_moderate, can_read_board, can_retitle, can_start_thread
from forum.posts import (
    Draft,
    check_key,
    content_hash,
    key_scope,
    remember,
    remembered,
    visible_post,
    write_post,
)
from forum.render import render_markdown_async
from forum.resources import thread_resource
from forum.threadreads import ThreadReads

__all__ = [
    "NewThread",
    "ThreadChanges",
    "ThreadPage",
    "ThreadStarted",
    "create_thread",
    "featured_threads",
    "get_thread",
    "list_threads",
    "recent_threads",
    "thread_json",
    "threads_json",
    "update_thread",
]

MAX_TITLE = 120


async def thread_json(thread: Thread, board: Board) -> dict[str, Any]:
    seq = await outbox.head(events.thread_channel(thread.id))
    return thread_resource(thread, board_slug=board.slug, seq=seq)


async def threads_json(rows: Sequence[Thread], board: Board) -> list[dict[str, Any]]:
    """A page of a board's threads with each channel's seq, read in one query."""
    seqs = await outbox.heads([events.thread_channel(t.id) for t in rows])
    return [
        thread_resource(t, board_slug=board.slug, seq=seqs[events.thread_channel(t.id)])
        for t in rows
    ]


@dataclass(frozen=True, slots=True)
class NewThread:
    title: str
    body: str
    attachments: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ThreadStarted:
    """A new thread and its first post as their author sees them; ``replayed`` when a
    repeated idempotency key brought back the first answer."""

    thread_id: int
    post_id: int
    post_status: PostStatus
    resource: dict[str, Any]  # {"thread": …, "post": …}, the API's shapes
    replayed: bool = False

    @classmethod
    def of(cls, resource: dict[str, Any], *, replayed: bool = False) -> ThreadStarted:
        thread, post = resource["thread"], resource["post"]
        return cls(
            int(thread["id"]), int(post["id"]), PostStatus(post["status"]), resource, replayed
        )

    @property
    def pending(self) -> bool:
        return self.post_status is PostStatus.PENDING


@dataclass(frozen=True, slots=True)
class ThreadChanges:
    """What a PATCH asks to change; None leaves a field as it is."""

    title: str | None = None
    pinned: bool | None = None
    locked: bool | None = None
    featured: bool | None = None
    live: bool | None = None
    # A thread's own moderation policy, overriding its board's; "" hands it back to the board.
    moderation: str | None = None

    def flags(self) -> dict[str, bool]:
        found = {name: getattr(self, name) for name in THREAD_FLAGS}
        return {name: value for name, value in found.items() if value is not None}


def _check_policy(value: str) -> ModerationPolicy | None:
    if value == "":
        return None
    try:
        return ModerationPolicy(value)
    except ValueError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"moderation": _("承認の方式を一覧から選んでください。")},
        ) from None


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
    new: NewThread,
    *,
    gate: Gatekeeper,
    idempotency_key: str | None = None,
) -> ThreadStarted:
    if actor.user is None:
        raise Forbidden(_("投稿するにはログインしてください。"), code="login_required")
    check_key(idempotency_key)
    scope = key_scope("thread", board.slug)
    digest = (
        content_hash(new.title, new.body, list(new.attachments))
        if new.attachments
        else content_hash(new.title, new.body)
    )
    earlier = await remembered(actor.user, idempotency_key, scope, digest)
    if earlier is not None:
        return ThreadStarted.of(earlier, replayed=True)
    if not can_start_thread(actor, board):
        silence = await restrictions.silence_of(actor.user)
        if silence is not None:
            raise Forbidden(silence.message_with_reason, code="silenced")
        raise Forbidden(_("この掲示板にはスレッドを作成できません。"))
    errors: dict[str, str] = {}
    try:
        clean_title = _check_title(new.title)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        clean_title = ""
    draft = Draft(body=new.body, attachments=new.attachments)
    errors.update(draft.check())
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    title = await gate.review_title(actor, board, clean_title)
    verdict = await gate.review(actor, board, None, new.body)
    if title.status is PostStatus.PENDING:
        # A held word in the title holds the thread's first post, and with it the thread.
        verdict = Verdict(PostStatus.PENDING, verdict.reasons + title.reasons)
    html = await render_markdown_async(new.body)
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
            # The seq the outbox gave the first post's event; 0 while that post waits.
            seq = tx.seq_of(events.thread_channel(thread.id)) or 0
            resource = thread_resource(thread, board_slug=board.slug, seq=seq)
            started = ThreadStarted.of(
                {"thread": resource, "post": visible_post(actor, post, board.id)}
            )
            await remember(tx, actor.user, idempotency_key, scope, digest, started.resource)
    except IntegrityError:
        again = await remembered(actor.user, idempotency_key, scope, digest)
        if again is None:
            raise
        return ThreadStarted.of(again, replayed=True)
    return started


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


async def get_thread(
    actor: Actor, thread_id: int, *, reads: ThreadReads | None = None
) -> tuple[Thread, Board]:
    """The thread and its board, if ``actor`` may see it. With ``reads`` (a page's GET),
    the rows come from this process's memory while no event has changed them; the rows
    it returns are then shared by requests and must not be changed."""
    found = reads.thread(thread_id) if reads is not None else None
    if found is not None:
        thread, board = found
    else:
        thread_or_none = await _load_thread(thread_id, reads)
        if thread_or_none is None:
            raise NotFound(_("スレッドが見つかりません。"))
        thread, board = thread_or_none, thread_or_none.board
    if not can_read_board(actor, board):
        raise NotFound(_("スレッドが見つかりません。"))
    if not _thread_visible(actor, board, thread):
        raise NotFound(_("スレッドが見つかりません。"))
    return thread, board


async def _load_thread(thread_id: int, reads: ThreadReads | None) -> Thread | None:
    if reads is None:
        return await Thread.get_or_none(id=thread_id).select_related("board")
    # The head first: a change landing after it leaves the rows under the older seq,
    # which that change's own event retires.
    channel = events.thread_channel(thread_id)
    seq = reads.head(channel)
    if seq is None:
        seq = await outbox.head(channel)
        reads.learn_head(channel, seq)
    generation = reads.board_generation
    thread = await Thread.get_or_none(id=thread_id).select_related("board")
    if thread is not None:
        reads.remember(thread, thread.board, seq, generation)
    return thread


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
        if not 0 <= int(thread_id) <= 2**31 - 1:  # past the id column's range on PostgreSQL
            raise ValueError(thread_id)
        return bool(pinned), datetime.fromisoformat(stamp), int(thread_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest(
            _("ページの指定が正しくありません。一覧を最初のページから開き直してください。"),
            code="invalid_cursor",
        ) from None


async def list_threads(
    actor: Actor, board: Board, *, cursor: str | None = None, limit: int = 30
) -> ThreadPage:
    """Pinned first, then by latest activity; a keyset cursor so pages never skip or repeat.

    Each row comes with its last poster and the actor's reading (``reading.with_reading``),
    in the one query."""
    query = Thread.filter(_visible_threads(actor, board), board_id=board.id)
    if cursor:
        pinned, stamp, last_id = _decode_cursor(cursor)
        after = Q(pinned=pinned, last_post_at=stamp, id__lt=last_id) | Q(
            pinned=pinned, last_post_at__lt=stamp
        )
        if pinned:
            after |= Q(pinned=False)
        query = query.filter(after)
    query = reading.with_reading(query, actor.id)
    rows = await query.order_by("-pinned", "-last_post_at", "-id").limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return ThreadPage(rows, _encode_cursor(rows[-1]) if more and rows else None)


async def recent_threads(actor: Actor, *, limit: int = 10, featured: bool = False) -> list[Thread]:
    query = Thread.filter(deleted=False, post_count__gt=0, board__private=False)
    if featured:
        query = query.filter(featured=True)
    query = reading.with_reading(query.select_related("board"), actor.id)
    return await query.order_by("-last_post_at", "-id").limit(limit)


async def featured_threads(actor: Actor, *, limit: int = 6) -> list[Thread]:
    return await recent_threads(actor, limit=limit, featured=True)


THREAD_FLAGS = ("pinned", "locked", "featured", "live")


async def update_thread(
    actor: Actor, thread: Thread, board: Board, changes: ThreadChanges, *, gate: Gatekeeper
) -> Thread:
    """Moderators change flags and titles; an author may retitle an unlocked thread of theirs.

    A new title meets the watched words a new thread's title meets. A title is not queued:
    one a moderator would have to see first is refused, and its author rewords it.
    """
    moderator = can_moderate(actor, board.id)
    wanted: dict[str, Any] = dict(changes.flags())
    if wanted and not moderator:
        raise Forbidden(_("この操作はモデレーターだけができます。"))
    if changes.title is not None:
        if not can_retitle(actor, thread, board.id):
            raise Forbidden(_("このスレッドのタイトルは変更できません。"))
        title = _check_title(changes.title)
        if title != thread.title:
            verdict = await gate.review_title(actor, board, title)
            if verdict.status is PostStatus.PENDING:
                raise ValidationFailed(
                    _(
                        "モデレーターの確認が必要な語句が含まれているため、タイトルを変更できません。"
                    ),
                    code="title_held",
                    fields={"title": _("語句を言い換えてください。")},
                )
        wanted["title"] = title
    if changes.moderation is not None:
        if not moderator:
            raise Forbidden(_("この操作はモデレーターだけができます。"))
        wanted["moderation"] = _check_policy(changes.moderation)
    wanted = {k: v for k, v in wanted.items() if getattr(thread, k) != v}
    if not wanted:
        return thread
    async with outbox.atomic() as tx:
        thread.update_from_dict(wanted)
        await thread.save(update_fields=list(wanted), using_db=tx.conn)
        if "title" in wanted:
            await search_index.retitle(tx.conn, thread)
        shown = {k: v.value if isinstance(v, ModerationPolicy) else v for k, v in wanted.items()}
        tx.emit(*events.thread_updated(thread, board.slug, shown))
    return thread
