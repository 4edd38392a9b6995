"""Read positions: how far each user has read each thread, as Discourse keeps them.

A thread list asks for its rows, their last posters and the reader's unread counts in one
query (``with_reading``); a thread page reads the position once, shows where the unread
posts start, and moves it forward with one conditional write, only when it moved.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.connection import get_connection
from tortoise.expressions import RawSQL
from tortoise.queryset import QuerySet

from forum.models import Follow, FollowLevel, Post, PostStatus, ReadPosition, Thread

__all__ = ["first_unread", "mark_read", "mark_read_upto", "position", "with_reading"]


def with_reading(query: QuerySet[Thread], user_id: int | None) -> QuerySet[Thread]:
    """The threads with their last poster and, for a signed-in reader, ``last_read`` (the id
    of the last post they saw, None if they never opened it) and ``unread`` (published posts
    by others since then; 0 in muted threads): all in the list's own query.

    ``user_id`` is an int from the session, formatted into the subqueries as a number.
    """
    query = query.select_related("last_poster")
    if user_id is None:
        return query
    reader = int(user_id)
    # A thread the reader watches or tracks counts from its follow's mark (set when they
    # wrote there) until they first open it.
    last_read = (
        "COALESCE((SELECT r.last_read_post_id FROM read_positions r "  # noqa: S608 (an int)
        f'WHERE r.thread_id = "threads"."id" AND r.user_id = {reader}), '
        "(SELECT f.last_read_post_id FROM follows f "
        f'WHERE f.thread_id = "threads"."id" AND f.user_id = {reader} '
        "AND f.level IN ('watching', 'tracking')))"
    )
    unread = (
        "(SELECT COUNT(*) FROM posts p "  # noqa: S608 (ints only)
        f'WHERE p.thread_id = "threads"."id" AND p.id > {last_read} '
        f"AND p.status = 'published' AND p.author_id <> {reader} "
        "AND NOT EXISTS (SELECT 1 FROM follows m WHERE m.thread_id = p.thread_id "
        f"AND m.user_id = {reader} AND m.level = 'muted'))"
    )
    return query.annotate(last_read=RawSQL(last_read), unread=RawSQL(unread))


async def position(user_id: int, thread_id: int) -> tuple[int | None, int | None]:
    """The id of the last post the user saw in the thread (None before their first visit)
    and, as ``known`` for ``mark_read``, the stored position alone."""
    stored = await ReadPosition.filter(user_id=user_id, thread_id=thread_id).values(
        "last_read_post_id"
    )
    if stored:
        mark = int(stored[0]["last_read_post_id"])
        return mark, mark
    followed = await Follow.filter(
        user_id=user_id,
        thread_id=thread_id,
        level__in=[FollowLevel.WATCHING, FollowLevel.TRACKING],
    ).values("last_read_post_id")
    return (int(followed[0]["last_read_post_id"]) if followed else None), None


def first_unread(last_read: int | None, post_ids: list[tuple[int, int]], user_id: int) -> int:
    """The first of the shown ``(post id, author id)`` the reader has not seen; 0 if none.

    Nothing is unread on a first visit: everything is new, and the page starts at the top.
    """
    if last_read is None:
        return 0
    for post_id, author_id in post_ids:
        if post_id > last_read and author_id != user_id:
            return post_id
    return 0


_MARK = (
    "INSERT INTO read_positions (user_id, thread_id, last_read_post_id, updated_at) "
    "VALUES ({0}, {1}, {2}, {3}) ON CONFLICT (user_id, thread_id) DO UPDATE "
    "SET last_read_post_id = excluded.last_read_post_id, updated_at = excluded.updated_at "
    "WHERE read_positions.last_read_post_id < excluded.last_read_post_id"
)


async def mark_read(user_id: int, thread_id: int, post_id: int, *, known: int | None) -> bool:
    """Move the reader's position forward to ``post_id``; never back. ``known`` is the
    position the caller read: when it is already there, nothing is written at all.

    One statement on both databases; two tabs marking at once keep the larger id.
    """
    if post_id <= 0 or (known is not None and known >= post_id):
        return False
    conn = get_connection("default")
    if conn.capabilities.dialect == "postgres":
        query = _MARK.format("$1", "$2", "$3", "$4")
    else:
        query = _MARK.format("?", "?", "?", "?")
    await conn.execute_query(query, [user_id, thread_id, post_id, datetime.now(UTC)])
    return True


async def mark_read_upto(user_id: int, thread_id: int, post_id: int) -> bool:
    """``mark_read`` for an id a browser reported: the position moves to the thread's newest
    published post at or before it, so a made-up id cannot skip posts not yet written."""
    newest = (
        await Post.filter(thread_id=thread_id, id__lte=post_id, status=PostStatus.PUBLISHED)
        .order_by("-id")
        .limit(1)
        .values("id")
    )
    if not newest:
        return False
    return await mark_read(user_id, thread_id, int(newest[0]["id"]), known=None)
