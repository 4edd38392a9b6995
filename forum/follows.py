"""Follow levels on threads and boards: watching (a notice for each new post), tracking (an
unread count only) and muted (nothing), as Discourse users know them.

A thread's own level wins over its board's. Starting a thread watches it and writing in
one tracks it, unless the writer chose a level there before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from tortoise.connection import get_connection
from tortoise.expressions import Q

from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, Follow, FollowLevel, Post, Thread, User
from forum.outbox import Tx

__all__ = [
    "auto_follow",
    "effective_levels",
    "level_of",
    "levels_by_source",
    "levels_on_page",
    "list_for",
    "mark_seen",
    "parse_level",
    "set_board_level",
    "set_level_by_id",
    "set_thread_level",
    "unread_in",
]


def parse_level(value: object) -> FollowLevel | None:
    """``watching`` / ``tracking`` / ``muted``, or ``none`` to forget the choice."""
    if value == "none":
        return None
    if isinstance(value, str) and value in {level.value for level in FollowLevel}:
        return FollowLevel(value)
    raise ValidationFailed(
        _("入力内容を確認してください。"),
        fields={"level": _("受け取り方を一覧から選んでください。")},
    )


async def set_thread_level(user: User, thread: Thread, level: FollowLevel | None) -> None:
    await _set(user, level, thread_id=thread.id)


async def set_board_level(user: User, board: Board, level: FollowLevel | None) -> None:
    await _set(user, level, board_id=board.id)


async def _set(user: User, level: FollowLevel | None, **target: int) -> None:
    if level is None:
        await Follow.filter(user_id=user.id, **target).delete()
        return
    updated = await Follow.filter(user_id=user.id, **target).update(level=level)
    if not updated:
        await Follow.get_or_create(
            defaults={"level": level},
            user_id=user.id,
            thread_id=target.get("thread_id"),
            board_id=target.get("board_id"),
        )


async def level_of(user: User, *, thread: Thread | None = None, board: Board) -> FollowLevel | None:
    """The user's level on the thread (its own, else its board's), or on the board alone."""
    if thread is not None:
        row = await Follow.get_or_none(user_id=user.id, thread_id=thread.id)
        if row is not None:
            return row.level
    row = await Follow.get_or_none(user_id=user.id, board_id=board.id)
    return row.level if row is not None else None


async def levels_on_page(
    user: User, *, thread: Thread | None = None, board: Board
) -> tuple[FollowLevel | None, FollowLevel | None]:
    """The user's own level on the thread (None without a thread) and on its board, in one
    query: what a page's follow control shows."""
    rows = Follow.filter(user_id=user.id).filter(
        Q(board_id=board.id) | Q(thread_id=thread.id)
        if thread is not None
        else Q(board_id=board.id)
    )
    own = on_board = None
    for row in await rows.values("thread_id", "board_id", "level"):
        level = FollowLevel(row["level"])
        if row["thread_id"] is not None:
            own = level
        else:
            on_board = level
    return own, on_board


async def effective_levels(thread_id: int, board_id: int) -> dict[int, FollowLevel]:
    """Every follower of the thread with the level that applies to them: two queries, so a
    thread with a thousand followers costs what one with ten does."""
    by_board, by_thread = await levels_by_source(thread_id, board_id)
    return {**by_board, **by_thread}


async def levels_by_source(
    thread_id: int, board_id: int
) -> tuple[dict[int, FollowLevel], dict[int, FollowLevel]]:
    """The board's followers and the thread's own, apart (the thread's choice wins)."""
    rows = await Follow.filter(board_id=board_id).values_list("user_id", "level")
    by_board = {int(user_id): FollowLevel(level) for user_id, level in rows}
    rows = await Follow.filter(thread_id=thread_id).values_list("user_id", "level")
    by_thread = {int(user_id): FollowLevel(level) for user_id, level in rows}
    return by_board, by_thread


# Insert-or-keep in one statement on both databases: a writer's own earlier choice stays.
_AUTO = (
    "INSERT INTO follows (user_id, thread_id, level, last_read_post_id, created_at) "
    "VALUES ({0}, {1}, {2}, {3}, {4}) ON CONFLICT (user_id, thread_id) DO NOTHING"
)


async def auto_follow(tx: Tx, post: Post, *, starts_thread: bool) -> None:
    """The author of a thread watches it; one who writes in it tracks it."""
    level = FollowLevel.WATCHING if starts_thread else FollowLevel.TRACKING
    author_id: int = post.author_id  # type: ignore[attr-defined]
    thread_id: int = post.thread_id  # type: ignore[attr-defined]
    if tx.conn.capabilities.dialect == "postgres":
        query = _AUTO.format("$1", "$2", "$3", "$4", "$5")
    else:
        query = _AUTO.format("?", "?", "?", "?", "?")
    await tx.conn.execute_query(
        query, [author_id, thread_id, level.value, post.id, datetime.now(UTC)]
    )


async def mark_seen(user: User, thread: Thread, last_post_id: int) -> None:
    """The user saw the thread up to ``last_post_id``: its unread count restarts there."""
    await Follow.filter(
        user_id=user.id, thread_id=thread.id, last_read_post_id__lt=last_post_id
    ).update(last_read_post_id=last_post_id)


_UNREAD = (
    "SELECT f.thread_id AS thread_id, COUNT(p.id) AS unread FROM follows f "
    "JOIN posts p ON p.thread_id = f.thread_id AND p.id > f.last_read_post_id "
    "AND p.status = 'published' "
    "WHERE f.user_id = {0} AND f.level IN ('watching', 'tracking') AND f.thread_id IN ({1}) "
    "GROUP BY f.thread_id"
)


async def unread_in(user: User, thread_ids: Iterable[int]) -> dict[int, int]:
    """Unread published posts in those of the threads the user watches or tracks; one query
    for a whole thread list. Threads with nothing unread are left out."""
    ids = [int(i) for i in thread_ids]
    if not ids:
        return {}
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        marks = ", ".join(f"${n}" for n in range(2, len(ids) + 2))
        query = _UNREAD.format("$1", marks)
    else:
        query = _UNREAD.format("?", ", ".join("?" * len(ids)))
    rows = await conn.execute_query_dict(query, [user.id, *ids])
    return {int(r["thread_id"]): int(r["unread"]) for r in rows}


async def list_for(user: User) -> list[Follow]:
    """The user's own levels, threads first (with their boards), newest choice first."""
    rows = await Follow.filter(user_id=user.id).select_related("thread", "board").order_by("-id")
    return sorted(rows, key=lambda f: f.thread_id is None)  # type: ignore[attr-defined]


async def set_level_by_id(user: User, follow_id: int, level: FollowLevel | None) -> None:
    """Change (or forget) one of the user's own levels, as listed by ``list_for``."""
    query = Follow.filter(id=follow_id, user_id=user.id)
    if level is None:
        await query.delete()
    else:
        await query.update(level=level)
