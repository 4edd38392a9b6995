"""Putting a post in and out of public view, with its thread's counter and events."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import F

from forum import outbox
from forum.models import ChannelHead, Post, PostStatus, Thread, User
from forum.posts import public_post
from forum.resources import thread_resource
from moderation.models import ItemKind, QueueItem

__all__ = ["publish", "withdraw"]


async def publish(
    tx: outbox.Tx, item: QueueItem, post: Post, thread: Thread, now: datetime
) -> None:
    """Count the post in its thread and announce it to the thread's viewers."""
    post.status = PostStatus.PUBLISHED
    await post.save(update_fields=["status"], using_db=tx.conn)
    await (
        Thread.filter(id=thread.id)
        .using_db(tx.conn)
        .update(post_count=F("post_count") + 1, last_post_at=now)
    )
    if item.kind is ItemKind.PENDING:
        await (
            User.filter(id=post.author.id)
            .using_db(tx.conn)
            .update(published_posts=F("published_posts") + 1)
        )
    tx.emit(f"thread:{thread.id}", "post.created", public_post(post))
    if thread.post_count == 0:
        # The thread's first post: until now only its author could see the thread.
        thread.post_count = 1
        head = await ChannelHead.filter(channel=f"thread:{thread.id}").using_db(tx.conn).first()
        seq = (int(head.last_seq) if head else 0) + 1  # post.created, queued above, takes it
        resource = thread_resource(thread, board_slug=item.board.slug, seq=seq)
        tx.emit(f"board:{item.board.slug}", "thread.created", resource)


async def withdraw(tx: outbox.Tx, post: Post, thread: Thread, status: PostStatus) -> None:
    """Take a post out of public view (rejected, or sent back to its author)."""
    was_published = post.status is PostStatus.PUBLISHED
    post.status = status
    await post.save(update_fields=["status"], using_db=tx.conn)
    if was_published:
        await Thread.filter(id=thread.id).using_db(tx.conn).update(post_count=F("post_count") - 1)
        tx.emit(f"thread:{thread.id}", "post.deleted", {"id": post.id})
