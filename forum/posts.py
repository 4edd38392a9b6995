"""Post actions: check, then write with counters and events in one transaction, then publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q

from forum import outbox
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.gate import Gatekeeper, Verdict
from forum.i18n import gettext as _
from forum.models import (
    Board,
    IdempotencyRecord,
    Post,
    PostKind,
    PostRevision,
    PostStatus,
    Thread,
    User,
    Vote,
)
from forum.permissions import (
    Actor,
    can_edit_post,
    can_moderate,
    can_post_in,
    can_read_board,
    can_see_author,
    can_see_post,
)
from forum.render import render_markdown
from forum.resources import post_resource

__all__ = [
    "MAX_BODY",
    "Draft",
    "Outcome",
    "create_post",
    "delete_post",
    "edit_post",
    "get_post",
    "list_posts",
    "public_post",
    "recent_posts_by",
    "set_vote",
    "visible_post",
]

MAX_BODY = 20_000


@dataclass(frozen=True, slots=True)
class Draft:
    body: str
    kind: str = PostKind.POST.value
    reply_to: int | None = None
    anonymous: bool = False

    def check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.body.strip():
            errors["body"] = _("本文を入力してください。")
        elif len(self.body) > MAX_BODY:
            errors["body"] = _("本文は20000文字以内で入力してください。")
        if self.kind not in {k.value for k in PostKind}:
            errors["kind"] = _("種類は post か question です。")
        if self.anonymous and self.kind != PostKind.QUESTION.value:
            errors["anonymous"] = _("匿名にできるのは質問だけです。")
        return errors


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a create request answers: the first answer again for a repeated idempotency key."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def public_post(post: Post) -> dict[str, Any]:
    """The post as everyone may see it: anonymous questions lose their author."""
    return post_resource(post, author=None if post.anonymous else post.author)


def visible_post(actor: Actor, post: Post, board_id: int) -> dict[str, Any]:
    author = post.author if can_see_author(actor, post, board_id) else None
    return post_resource(post, author=author)


async def remembered(user: User, key: str | None, scope: str) -> Outcome | None:
    if not key:
        return None
    record = await IdempotencyRecord.get_or_none(user_id=user.id, key=key)
    if record is None:
        return None
    if record.scope != scope:
        raise Conflict(
            _("この Idempotency-Key は別のリクエストで使われています。"),
            code="idempotency_key_reused",
        )
    return Outcome(record.status_code, record.response, replayed=True)


def check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 128:
        raise ValidationFailed(
            _("Idempotency-Key は1〜128文字です。"), code="invalid_idempotency_key"
        )


_THREAD_COUNTERS = (
    "UPDATE threads SET post_count = post_count + 1, last_post_at = {0} WHERE id = {1}"
)
_USER_COUNTERS = "UPDATE users SET published_posts = published_posts + 1 WHERE id = {0}"
_BOTH_COUNTERS = f"WITH t AS ({_THREAD_COUNTERS}) {_USER_COUNTERS.format('$3')}".format("$1", "$2")


async def _count_published(tx: outbox.Tx, thread_id: int, user_id: int, now: datetime) -> None:
    """Bump the thread's and the author's counters for a newly published post.

    Plain SQL: this runs for every post, inside the transaction. PostgreSQL takes both
    updates in one statement (a data-modifying CTE); SQLite needs two.
    """
    if tx.conn.capabilities.dialect == "postgres":
        await tx.conn.execute_query(_BOTH_COUNTERS, [now, thread_id, user_id])
        return
    await tx.conn.execute_query(_THREAD_COUNTERS.format("?", "?"), [now, thread_id])
    await tx.conn.execute_query(_USER_COUNTERS.format("?"), [user_id])


async def write_post(
    tx: outbox.Tx,
    actor: Actor,
    thread: Thread,
    board: Board,
    draft: Draft,
    verdict: Verdict,
    gate: Gatekeeper,
    *,
    html: str,
) -> Post:
    """Insert the post with its counters and events; the caller holds the transaction.

    ``html`` is ``render_markdown(draft.body)``, rendered by the caller *before* the
    transaction: on SQLite every other request waits while a transaction is open.
    """
    assert actor.user is not None
    now = datetime.now(UTC)
    post = await Post.create(
        thread_id=thread.id,
        author_id=actor.user.id,
        kind=PostKind(draft.kind),
        body=draft.body,
        html=html,
        status=verdict.status,
        reply_to_id=draft.reply_to,
        anonymous=draft.anonymous,
        using_db=tx.conn,
    )
    post.author = actor.user
    if verdict.status is PostStatus.PUBLISHED:
        await _count_published(tx, thread.id, actor.user.id, now)
        tx.emit(f"thread:{thread.id}", "post.created", public_post(post))
    else:
        tx.emit(f"user:{actor.user.id}", "post.pending", post_resource(post, author=actor.user))
    await gate.record(tx, actor, post, board, verdict)
    return post


async def create_post(
    actor: Actor,
    thread: Thread,
    board: Board,
    draft: Draft,
    *,
    gate: Gatekeeper,
    idempotency_key: str | None = None,
) -> Outcome:
    if actor.user is None:
        raise Forbidden(_("投稿するにはログインしてください。"), code="login_required")
    check_key(idempotency_key)
    scope = f"post:{thread.id}"
    earlier = await remembered(actor.user, idempotency_key, scope)
    if earlier:
        return earlier
    if not can_post_in(actor, thread, board):
        code = "thread_locked" if thread.locked else "forbidden"
        raise Forbidden(_("このスレッドには投稿できません。"), code=code)
    errors = draft.check()
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    if draft.reply_to is not None:
        parent = await Post.get_or_none(id=draft.reply_to, thread_id=thread.id)
        if parent is None or not can_see_post(actor, parent, board.id):
            raise ValidationFailed(
                _("入力内容を確認してください。"),
                fields={"reply_to": _("返信先の投稿が見つかりません。")},
            )
    verdict = await gate.review(actor, board, thread, draft.body, kind=draft.kind)
    html = render_markdown(draft.body)
    try:
        async with outbox.atomic() as tx:
            post = await write_post(tx, actor, thread, board, draft, verdict, gate, html=html)
            outcome = Outcome(201, visible_post(actor, post, board.id))
            if idempotency_key:
                await IdempotencyRecord.create(
                    user_id=actor.user.id,
                    key=idempotency_key,
                    scope=scope,
                    status_code=outcome.status_code,
                    response=outcome.body,
                    using_db=tx.conn,
                )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        again = await remembered(actor.user, idempotency_key, scope)
        if again is None:
            raise
        return again
    return outcome


async def get_post(actor: Actor, post_id: int) -> tuple[Post, Thread, Board]:
    post = await Post.get_or_none(id=post_id).select_related("author", "thread", "thread__board")
    if post is None:
        raise NotFound(_("投稿が見つかりません。"))
    thread = post.thread
    board = thread.board
    if not can_read_board(actor, board) or not can_see_post(actor, post, board.id):
        raise NotFound(_("投稿が見つかりません。"))
    return post, thread, board


async def list_posts(
    actor: Actor, thread: Thread, board: Board, *, after: int = 0, limit: int = 50
) -> list[Post]:
    """Published posts in order, plus the pending ones the actor may see (marked by their status).

    Visibility is decided in SQL, before the LIMIT, so a page holds ``limit`` posts whenever
    that many are visible: callers page on ``len(rows) == limit``.
    """
    query = Post.filter(thread_id=thread.id, id__gt=after)
    if can_moderate(actor, board.id):
        query = query.filter(status__in=[PostStatus.PUBLISHED, PostStatus.PENDING])
    elif actor.user is not None:
        query = query.filter(
            Q(status=PostStatus.PUBLISHED) | Q(status=PostStatus.PENDING, author_id=actor.user.id)
        )
    else:
        query = query.filter(status=PostStatus.PUBLISHED)
    return await query.order_by("id").limit(limit).select_related("author")


async def recent_posts_by(actor: Actor, author: User, *, limit: int = 10) -> list[Post]:
    """An author's latest published posts on boards the actor may read; anonymous ones left out."""
    query = Post.filter(
        author_id=author.id, status=PostStatus.PUBLISHED, anonymous=False, thread__deleted=False
    )
    if not actor.is_site_moderator:
        query = query.filter(
            Q(thread__board__private=False) | Q(thread__board_id__in=list(actor.board_roles))
        )
    return await query.order_by("-id").limit(limit).select_related("thread", "thread__board")


async def edit_post(actor: Actor, post_id: int, body: str) -> dict[str, Any]:
    post, thread, board = await get_post(actor, post_id)
    if not can_edit_post(actor, post, board.id):
        raise Forbidden(_("この投稿を編集する権限がありません。"))
    errors = Draft(body=body, kind=post.kind.value, anonymous=post.anonymous).check()
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    assert actor.user is not None
    if body == post.body:
        return visible_post(actor, post, board.id)
    html = render_markdown(body)
    async with outbox.atomic() as tx:
        await PostRevision.create(
            post_id=post.id, editor_id=actor.user.id, body=post.body, using_db=tx.conn
        )
        post.body = body
        post.html = html
        post.edited_at = datetime.now(UTC)
        await post.save(update_fields=["body", "html", "edited_at"], using_db=tx.conn)
        if post.status is PostStatus.PUBLISHED:
            tx.emit(f"thread:{thread.id}", "post.updated", public_post(post))
    return visible_post(actor, post, board.id)


async def delete_post(actor: Actor, post_id: int) -> None:
    post, thread, board = await get_post(actor, post_id)
    if not can_edit_post(actor, post, board.id):
        raise Forbidden(_("この投稿を削除する権限がありません。"))
    was_published = post.status is PostStatus.PUBLISHED
    async with outbox.atomic() as tx:
        post.status = PostStatus.DELETED
        post.deleted_at = datetime.now(UTC)
        await post.save(update_fields=["status", "deleted_at"], using_db=tx.conn)
        if was_published:
            await (
                Thread.filter(id=thread.id).using_db(tx.conn).update(post_count=F("post_count") - 1)
            )
            tx.emit(f"thread:{thread.id}", "post.deleted", {"id": post.id})


async def set_vote(actor: Actor, post_id: int, *, up: bool) -> dict[str, Any]:
    post, thread, _board = await get_post(actor, post_id)
    if actor.user is None:
        raise Forbidden(_("投票するにはログインしてください。"), code="login_required")
    if post.kind is not PostKind.QUESTION or post.status is not PostStatus.PUBLISHED:
        raise ValidationFailed(_("投票できるのは公開中の質問だけです。"), code="not_votable")
    if post.author_id == actor.user.id:  # type: ignore[attr-defined]
        raise Forbidden(_("自分の質問には投票できません。"), code="own_post")
    async with outbox.atomic() as tx:
        if up:
            await Vote.bulk_create(
                [Vote(post_id=post.id, user_id=actor.user.id)],
                ignore_conflicts=True,
                using_db=tx.conn,
            )
        else:
            await Vote.filter(post_id=post.id, user_id=actor.user.id).using_db(tx.conn).delete()
        # The counter is recounted, not incremented, so a repeated vote cannot drift it.
        votes = await Vote.filter(post_id=post.id).using_db(tx.conn).count()
        if votes != post.votes:
            await Post.filter(id=post.id).using_db(tx.conn).update(votes=votes)
            tx.emit(f"thread:{thread.id}", "vote.changed", {"id": post.id, "votes": votes})
    return {"id": post.id, "votes": votes, "voted": up}


async def voted_questions(actor: Actor, rows: list[Post]) -> set[int]:
    """The ids of the questions among ``rows`` the actor has voted for, in one query."""
    questions = [p.id for p in rows if p.kind is PostKind.QUESTION]
    if actor.user is None or not questions:
        return set()
    votes = await Vote.filter(user_id=actor.user.id, post_id__in=questions).values("post_id")
    return {int(vote["post_id"]) for vote in votes}
