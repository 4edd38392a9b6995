"""The one queue: held and flagged posts, oldest first, within the boards the actor moderates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from forum import events
from forum.errors import BadRequest, NotFound
from forum.gate import Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread
from forum.outbox import Tx
from forum.permissions import Actor, can_moderate
from forum.resources import iso, post_resource
from moderation.access import check_moderator, moderated_boards
from moderation.audit import parse_cursor
from moderation.labels import flag_label, reason_label
from moderation.models import Flag, ItemKind, ItemState, QueueItem
from moderation.rules import decode_reason

__all__ = [
    "BODY_REASONS",
    "QueuePage",
    "SessionDirectory",
    "SessionRef",
    "codes_of",
    "flag_resource",
    "flags_by_item",
    "item_resource",
    "list_queue",
    "load_item",
    "open_item",
    "rescreened",
    "scoped_items",
    "session_choices",
    "session_thread",
]

REASON_RE = re.compile(r"[a-z_]{1,40}")
RELATED = ("post", "post__author", "board", "thread", "claimed_by")


def codes_of(reasons: Iterable[dict[str, str]]) -> str:
    """The reason codes as ``,a,b,``, so one ``LIKE`` finds a code on both databases."""
    codes = sorted({r["code"] for r in reasons})
    return f",{','.join(codes)}," if codes else ""


def flag_resource(flag: Flag) -> dict[str, Any]:
    return {
        "reason": flag.reason.value,
        "label": flag_label(flag.reason.value),
        "note": flag.note,
        "user": flag.user.username,
        "created_at": iso(flag.created_at),
    }


def item_resource(item: QueueItem, flags: Iterable[Flag] = ()) -> dict[str, Any]:
    """Moderators see who wrote even an anonymous question."""
    post: Post = item.post
    board: Board = item.board
    thread: Thread = item.thread
    return {
        "id": item.id,
        "kind": item.kind.value,
        "state": item.state.value,
        "post": post_resource(post, author=post.author, proposal=True),
        "reasons": [{**r, "label": reason_label(r["code"])} for r in item.reasons],
        "flags": [flag_resource(f) for f in flags],
        "version": item.version,
        "claimed_by": item.claimed_by.username if item.claimed_by else None,
        "claimed_at": iso(item.claimed_at),
        "created_at": iso(item.created_at),
        "board": {"slug": board.slug, "title": board.title},
        "thread": {"id": thread.id, "title": thread.title},
    }


async def open_item(
    tx: Tx,
    *,
    post: Post,
    board: Board,
    thread: Thread,
    kind: ItemKind,
    reasons: list[dict[str, str]],
) -> QueueItem:
    item = await QueueItem.create(
        post_id=post.id,
        board_id=board.id,
        thread_id=thread.id,
        kind=kind,
        reasons=reasons,
        reason_codes=codes_of(reasons),
        active_post_id=post.id,
        using_db=tx.conn,
    )
    item.post, item.board, item.thread, item.claimed_by = post, board, thread, None
    tx.emit(events.item_created(board.slug, item_resource(item)))
    return item


# Reasons the gate finds in a body: an edited body is judged afresh, so the old body's
# findings go and the new one's come in. Flags and policies stay.
BODY_REASONS = frozenset({"watched_word", "new_account_link", "duplicate", "burst"})


def rescreened(old: Iterable[dict[str, str]], verdict: Verdict) -> list[dict[str, str]]:
    """An item's reasons after its post's body changed and met the gate again."""
    reasons = [r for r in old if r["code"] not in BODY_REASONS]
    for found in (decode_reason(r) for r in verdict.reasons):
        if found not in reasons:
            reasons.append(found)
    return reasons


async def flags_by_item(item_ids: list[int], conn: Any = None) -> dict[int, list[Flag]]:
    found: dict[int, list[Flag]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    query = Flag.filter(item_id__in=item_ids).order_by("id").select_related("user")
    rows = await (query.using_db(conn) if conn is not None else query)
    for flag in rows:
        found[flag.item_id].append(flag)  # type: ignore[attr-defined]
    return found


def scoped_items(actor: Actor) -> Any:
    """Open items of the actor's boards whose post still exists."""
    query = QueueItem.filter(state=ItemState.OPEN).exclude(post__status=PostStatus.DELETED)
    boards = moderated_boards(actor)
    if boards is not None:
        query = query.filter(board_id__in=sorted(boards))
    return query


async def load_item(actor: Actor, item_id: int) -> QueueItem:
    """The item, or 404 to anyone who does not moderate its board."""
    check_moderator(actor)
    item = await QueueItem.get_or_none(id=item_id).select_related(*RELATED)
    if item is None or not can_moderate(actor, item.board_id):  # type: ignore[attr-defined]
        raise NotFound(
            _("この件は見つかりません。すでに判断されたか、削除された可能性があります。")
        )
    return item


class SessionRef(Protocol):
    """A live session as the queue sees it: moderation knows nothing of live's models."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def board_id(self) -> int: ...
    @property
    def thread_id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...


class SessionDirectory(Protocol):
    """What ``forum.app`` gives the queue to narrow it to one session's thread."""

    async def find(self, session_id: int) -> SessionRef | None: ...

    async def current(self, board_ids: frozenset[int] | None) -> Sequence[SessionRef]: ...


async def session_thread(actor: Actor, sessions: SessionDirectory | None, session_id: int) -> int:
    """The thread of a session whose board the actor moderates, or 404."""
    check_moderator(actor)
    found = await sessions.find(session_id) if sessions is not None else None
    if found is None or not can_moderate(actor, found.board_id):
        raise NotFound(_("イベントが見つかりません。"))
    return found.thread_id


async def session_choices(actor: Actor, sessions: SessionDirectory | None) -> list[SessionRef]:
    """The live and coming sessions of the boards the actor moderates."""
    check_moderator(actor)
    if sessions is None:
        return []
    return list(await sessions.current(moderated_boards(actor)))


@dataclass(frozen=True, slots=True)
class QueuePage:
    items: list[QueueItem]
    flags: dict[int, list[Flag]]
    next_cursor: str | None

    def resources(self) -> list[dict[str, Any]]:
        return [item_resource(i, self.flags[i.id]) for i in self.items]


async def list_queue(
    actor: Actor,
    *,
    board: str | None = None,
    kind: str | None = None,
    reason: str | None = None,
    thread: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> QueuePage:
    """``thread`` narrows the queue to one thread (a live session's, say)."""
    check_moderator(actor)
    query = scoped_items(actor)
    if board:
        query = query.filter(board__slug=board)
    if thread is not None:
        query = query.filter(thread_id=thread)
    if kind:
        if kind not in {k.value for k in ItemKind}:
            raise BadRequest(_("種類を一覧から選んでください。"), code="bad_query")
        query = query.filter(kind=kind)
    if reason:
        if not REASON_RE.fullmatch(reason):
            raise BadRequest(_("理由を一覧から選んでください。"), code="bad_query")
        query = query.filter(reason_codes__contains=f",{reason},")
    after = parse_cursor(cursor)
    if after is not None:
        query = query.filter(id__gt=after)
    rows = await query.order_by("id").limit(limit + 1).select_related(*RELATED)
    more = len(rows) > limit
    rows = rows[:limit]
    flags = await flags_by_item([r.id for r in rows])
    return QueuePage(rows, flags, str(rows[-1].id) if more and rows else None)
