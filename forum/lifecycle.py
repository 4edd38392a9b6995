"""The one owner of a post's lifecycle: publish, withdraw, revise.

New posts, moderators' decisions, flags, author edits and resubmissions all go through
these, so counters move in one place, a post leaving view has one event shape, and an
edited body meets the same gate as a new one. Each step runs inside the caller's
``outbox.atomic()`` transaction; the work that must not hold SQLite's write lock (the gate's
queries, rendering) happens before, in ``prepare_revision``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F

from forum import events, notifications, outbox, search_index
from forum.errors import ValidationFailed
from forum.events import Withdrawal
from forum.gate import Gatekeeper, Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostKind, PostRevision, PostStatus, Thread, User
from forum.permissions import Actor
from forum.render import render_markdown_async

__all__ = [
    "MAX_BODY",
    "Revision",
    "check_body",
    "discard_proposal",
    "prepare_revision",
    "propose",
    "publish",
    "revise",
    "withdraw",
]

MAX_BODY = 20_000

_THREAD_COUNTERS = (
    "UPDATE threads SET post_count = post_count + 1, last_post_at = {0}, last_poster_id = {1} "
    "WHERE id = {2}"
)
_USER_COUNTERS = "UPDATE users SET published_posts = published_posts + 1 WHERE id = {0}"
_BOTH_COUNTERS = f"WITH t AS ({_THREAD_COUNTERS}) {_USER_COUNTERS.format('$4')}".format(
    "$1", "$2", "$3"
)

# Where each reason for leaving view puts the post: hidden and sent-back posts stay
# visible to their author and moderators as pending.
_WITHDRAWN_STATUS = {
    Withdrawal.DELETED: PostStatus.DELETED,
    Withdrawal.HIDDEN: PostStatus.PENDING,
    Withdrawal.REJECTED: PostStatus.REJECTED,
    Withdrawal.REVISION: PostStatus.PENDING,
    Withdrawal.MERGED: PostStatus.DELETED,
}


def check_body(body: str, *, kind: str, anonymous: bool) -> dict[str, str]:
    """Field errors of a post's body, kind and anonymity; empty when it may be written."""
    errors: dict[str, str] = {}
    if not body.strip():
        errors["body"] = _("本文を入力してください。")
    elif len(body) > MAX_BODY:
        errors["body"] = _("本文は20,000文字以内で入力してください。")
    if kind not in {k.value for k in PostKind}:
        errors["kind"] = _("投稿の種類が正しくありません。通常の投稿か質問を選んでください。")
    if anonymous and kind != PostKind.QUESTION.value:
        errors["anonymous"] = _("匿名にできるのは質問だけです。")
    return errors


async def _count(
    tx: outbox.Tx, post: Post, thread_id: int, *, count_author: bool, now: datetime
) -> None:
    """Plain SQL: this runs for every post, inside the transaction. PostgreSQL takes both
    updates in one statement (a data-modifying CTE); SQLite needs two.

    An anonymous question leaves the thread's last poster empty: a thread list must not
    name who asked it."""
    author_id: int = post.author_id  # type: ignore[attr-defined]
    poster = None if post.anonymous else author_id
    if tx.conn.capabilities.dialect == "postgres":
        if count_author:
            await tx.conn.execute_query(_BOTH_COUNTERS, [now, poster, thread_id, author_id])
        else:
            await tx.conn.execute_query(
                _THREAD_COUNTERS.format("$1", "$2", "$3"), [now, poster, thread_id]
            )
        return
    await tx.conn.execute_query(_THREAD_COUNTERS.format("?", "?", "?"), [now, poster, thread_id])
    if count_author:
        await tx.conn.execute_query(_USER_COUNTERS.format("?"), [author_id])


async def publish(
    tx: outbox.Tx,
    post: Post,
    thread: Thread,
    board: Board,
    *,
    count_author: bool,
    now: datetime | None = None,
) -> None:
    """Bring a post into public view: its status, the counters, and the events.

    ``count_author`` is False for a post that was public before (a hidden post approved
    back): the author's count of published posts only ever counts a post once, and the
    people it concerns are told once, after commit. A thread
    whose first visible post this is appears on its board with the seq the outbox gave.
    """
    now = now or datetime.now(UTC)
    if post.status is not PostStatus.PUBLISHED:
        post.status = PostStatus.PUBLISHED
        await post.save(update_fields=["status"], using_db=tx.conn)
    author_id: int = post.author_id  # type: ignore[attr-defined]
    await _count(tx, post, thread.id, count_author=count_author, now=now)
    first = thread.post_count == 0
    thread.post_count += 1
    thread.last_post_at = now
    thread.last_poster_id = None if post.anonymous else author_id  # type: ignore[attr-defined]
    await search_index.index_post(tx.conn, post, thread)
    tx.emit(events.post_created(post))
    if first:
        # Until now only the thread's author and moderators could see the thread.
        await tx.flush()
        seq = tx.seq_of(events.thread_channel(thread.id)) or 0
        tx.emit(events.thread_created(thread, board.slug, seq=seq))
    if count_author:
        # Its first time in view (a hidden post let back in told everyone already).
        notifications.after_publish(tx, post, thread, board)


async def withdraw(tx: outbox.Tx, post: Post, thread: Thread, reason: Withdrawal) -> bool:
    """Take a post out of public view; False if its status changed under us meanwhile.

    The update is conditional on the status the caller saw, so two withdrawals at once
    (a flag hiding it while its author deletes it) move the thread's counter once.
    """
    was_published = post.status is PostStatus.PUBLISHED
    status = _WITHDRAWN_STATUS[reason]
    changes: dict[str, object] = {"status": status}
    if status is PostStatus.DELETED:
        changes["deleted_at"] = datetime.now(UTC)
    changed = await Post.filter(id=post.id, status=post.status).using_db(tx.conn).update(**changes)
    if changed != 1:
        return False
    post.update_from_dict(changes)
    if was_published:
        await Thread.filter(id=thread.id).using_db(tx.conn).update(post_count=F("post_count") - 1)
        thread.post_count -= 1
        await search_index.unindex_post(tx.conn, post, thread)
        tx.emit(events.post_removed(post, reason))
    if status is PostStatus.PENDING:
        # Hidden or sent back, it waits again: its author's channel carries the status of
        # their own waiting posts.
        tx.emit(events.post_pending(post, post.author))
    return True


@dataclass(frozen=True, slots=True)
class Revision:
    """A new body checked, screened and rendered, ready for ``revise`` to write."""

    body: str
    html: str
    verdict: Verdict


async def prepare_revision(
    actor: Actor, post: Post, thread: Thread, board: Board, body: str, *, gate: Gatekeeper
) -> Revision:
    """Outside the transaction: the same checks and gate a new post meets, and the rendering.

    The gate refuses blocked words by raising; its other findings (links from new
    accounts, duplicates, bursts, watched words) are in the verdict for the caller to act on.
    """
    errors = check_body(body, kind=post.kind.value, anonymous=post.anonymous)
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    verdict = await gate.review(actor, board, thread, body, kind=post.kind.value, editing=post)
    return Revision(body, await render_markdown_async(body), verdict)


async def revise(
    tx: outbox.Tx, editor: User, post: Post, revision: Revision, *, now: datetime | None = None
) -> bool:
    """Keep the old body as a revision and put the new one in; False if nothing changed."""
    if revision.body == post.body:
        return False
    await PostRevision.create(
        post_id=post.id, editor_id=editor.id, body=post.body, using_db=tx.conn
    )
    post.body, post.html, post.edited_at = revision.body, revision.html, now or datetime.now(UTC)
    await post.save(update_fields=["body", "html", "edited_at"], using_db=tx.conn)
    if post.status is PostStatus.PUBLISHED:
        await search_index.index_post(tx.conn, post)
        tx.emit(events.post_updated(post))
    return True


async def propose(tx: outbox.Tx, post: Post, revision: Revision) -> None:
    """An edit of a published post that must wait for a moderator: the published body stays
    in view, the proposal waits beside it (a newer one replaces it), and its author hears
    that it waits."""
    post.proposed_body, post.proposed_html = revision.body, revision.html
    await post.save(update_fields=["proposed_body", "proposed_html"], using_db=tx.conn)
    tx.emit(events.post_pending(post, post.author))


async def discard_proposal(tx: outbox.Tx, post: Post) -> bool:
    """Forget a waiting edit once a moderator has decided on it; False if none waited."""
    if post.proposed_body is None:
        return False
    post.update_from_dict({"proposed_body": None, "proposed_html": None})
    await post.save(update_fields=["proposed_body", "proposed_html"], using_db=tx.conn)
    return True
