"""Post actions: check, then write with counters and events in one transaction, then publish."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from forum import attachments as attached
from forum import events, lifecycle, outbox, restrictions, tallies
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.events import Withdrawal
from forum.gate import Gatekeeper, Verdict
from forum.i18n import gettext as _
from forum.lifecycle import MAX_BODY
from forum.models import (
    AnswerState,
    Board,
    IdempotencyRecord,
    Post,
    PostKind,
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
from forum.render import render_markdown_async
from forum.resources import post_resource, public_post

__all__ = [
    "MAX_BODY",
    "Draft",
    "Posted",
    "Voted",
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

# The idempotency table keeps the status its first answer had; every remembered answer is
# a creation, and the web layer answers it as one.
_CREATED = 201


@dataclass(frozen=True, slots=True)
class Draft:
    body: str
    kind: str = PostKind.POST.value
    reply_to: int | None = None
    anonymous: bool = False
    # Upload ids, in the order they are shown (uploads/, through forum.attachments).
    attachments: tuple[int, ...] = ()

    def check(self) -> dict[str, str]:
        return lifecycle.check_body(self.body, kind=self.kind, anonymous=self.anonymous)

    def digest(self) -> str:
        if not self.attachments:  # as before attachments, so earlier keys still match
            return content_hash(self.body, self.kind, self.reply_to, self.anonymous)
        return content_hash(
            self.body, self.kind, self.reply_to, self.anonymous, list(self.attachments)
        )


@dataclass(frozen=True, slots=True)
class Posted:
    """A new post as its author sees it; ``replayed`` when a repeated idempotency key
    brought back the first answer instead of a second post."""

    post_id: int
    status: PostStatus
    resource: dict[str, Any]
    replayed: bool = False

    @classmethod
    def of(cls, resource: dict[str, Any], *, replayed: bool = False) -> Posted:
        return cls(int(resource["id"]), PostStatus(resource["status"]), resource, replayed)


@dataclass(frozen=True, slots=True)
class Voted:
    post_id: int
    votes: int
    voted: bool


def visible_post(actor: Actor, post: Post, board_id: int) -> dict[str, Any]:
    author = post.author if can_see_author(actor, post, board_id) else None
    own = actor.id is not None and post.author_id == actor.id  # type: ignore[attr-defined]
    return post_resource(post, author=author, proposal=own or can_moderate(actor, board_id))


def content_hash(*parts: object) -> str:
    """What a create request asked for, as a SHA-256 over its parsed fields: the same
    request sent again hashes the same whatever its JSON spacing or key order."""
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()


async def remembered(
    user: User, key: str | None, scope: str, body_hash: str
) -> dict[str, Any] | None:
    """The first answer given to this idempotency key, if the key was used before.

    A key reused with other content is refused: answering with the first result would tell
    the client its second request succeeded when nothing of it was written.
    """
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
    # Records written before hashes were kept have none: they are answered as before.
    if record.body_hash and record.body_hash != body_hash:
        raise ValidationFailed(
            _("この Idempotency-Key は内容の異なるリクエストで使われています。"),
            code="idempotency_key_mismatch",
        )
    return dict(record.response)


async def remember(
    tx: outbox.Tx, user: User, key: str | None, scope: str, body_hash: str, answer: Any
) -> None:
    if key:
        await IdempotencyRecord.create(
            user_id=user.id,
            key=key,
            scope=scope,
            body_hash=body_hash,
            status_code=_CREATED,
            response=answer,
            using_db=tx.conn,
        )


def key_scope(action: str, target: int | str) -> str:
    """Where an idempotency key holds: one key makes one post in a thread, or one thread on a
    board. Stored with the key; not a channel name."""
    return f"{action}:{target}"


def check_key(key: str | None) -> None:
    if key is not None and not 1 <= len(key) <= 128:
        raise ValidationFailed(
            _("Idempotency-Key は1〜128文字で指定してください。"), code="invalid_idempotency_key"
        )


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
    """Insert the post, publish it or hold it; the caller holds the transaction.

    ``html`` is the rendering of ``draft.body``, made by the caller *before* the
    transaction: on SQLite every other request waits while a transaction is open.
    """
    assert actor.user is not None
    post = await Post.create(
        thread_id=thread.id,
        author_id=actor.user.id,
        kind=PostKind(draft.kind),
        body=draft.body,
        html=html,
        status=verdict.status,
        reply_to_id=draft.reply_to,
        anonymous=draft.anonymous,
        # A question starts open on the question board (live.answers moves it on).
        answer_state=AnswerState.OPEN if draft.kind == PostKind.QUESTION.value else None,
        using_db=tx.conn,
    )
    post.author = actor.user
    if draft.attachments:
        # Before publishing: the post's events carry its attachments.
        await attached.attach(tx, actor, post, draft.attachments)
    if verdict.status is PostStatus.PUBLISHED:
        await lifecycle.publish(tx, post, thread, board, count_author=True)
    else:
        tx.emit(events.post_pending(post, actor.user))
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
) -> Posted:
    if actor.user is None:
        raise Forbidden(_("投稿するにはログインしてください。"), code="login_required")
    check_key(idempotency_key)
    scope = key_scope("post", thread.id)
    digest = draft.digest()
    earlier = await remembered(actor.user, idempotency_key, scope, digest)
    if earlier is not None:
        return Posted.of(earlier, replayed=True)
    if not can_post_in(actor, thread, board):
        silence = await restrictions.silence_of(actor.user)
        if silence is not None:
            raise Forbidden(silence.message_with_reason, code="silenced")
        if thread.locked:
            raise Forbidden(
                _("このスレッドはロックされているため、投稿できません。"), code="thread_locked"
            )
        raise Forbidden(_("このスレッドに投稿する権限がありません。"), code="forbidden")
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
        if draft.kind == PostKind.ANSWER.value and (
            parent.kind is not PostKind.QUESTION or parent.status is not PostStatus.PUBLISHED
        ):
            raise ValidationFailed(
                _("入力内容を確認してください。"),
                fields={"reply_to": _("回答できるのは公開中の質問だけです。")},
            )
    elif draft.kind == PostKind.ANSWER.value:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"reply_to": _("回答する質問を指定してください。")},
        )
    verdict = await gate.review(actor, board, thread, draft.body, kind=draft.kind)
    html = await render_markdown_async(draft.body)
    try:
        async with outbox.atomic() as tx:
            post = await write_post(tx, actor, thread, board, draft, verdict, gate, html=html)
            posted = Posted.of(visible_post(actor, post, board.id))
            await remember(tx, actor.user, idempotency_key, scope, digest, posted.resource)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        again = await remembered(actor.user, idempotency_key, scope, digest)
        if again is None:
            raise
        return Posted.of(again, replayed=True)
    return posted


async def get_post(actor: Actor, post_id: int) -> tuple[Post, Thread, Board]:
    post = await Post.get_or_none(id=post_id).select_related(
        "author", "assigned_to", "thread", "thread__board"
    )
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
    return await query.order_by("id").limit(limit).select_related("author", "assigned_to")


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


async def edit_post(
    actor: Actor,
    post_id: int,
    body: str,
    *,
    gate: Gatekeeper,
    attachments: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The author or a moderator edits; the new body meets the gate a new post meets.

    ``attachments`` (None: unchanged) replaces the post's files. On a published post they
    change only when the gate would publish the post as it stands: files are not a way
    round an edit held for a moderator.
    """
    post, thread, board = await get_post(actor, post_id)
    if not can_edit_post(actor, post, board.id):
        raise Forbidden(_("この投稿を編集する権限がありません。"))
    current = [int(item["id"]) for item in post.attachments or []]
    files_change = attachments is not None and list(attachments) != current
    if body == post.body and not files_change:
        return visible_post(actor, post, board.id)
    assert actor.user is not None
    revision = await lifecycle.prepare_revision(actor, post, thread, board, body, gate=gate)
    if files_change and _must_wait(actor, post, revision.verdict):
        raise ValidationFailed(
            _("この投稿の添付ファイルは、モデレーターの確認なしには変更できません。"),
            code="attachments_held",
        )
    async with outbox.atomic() as tx:
        revised = False
        if files_change:
            assert attachments is not None
            await attached.attach(tx, actor, post, attachments)
        if body == post.body:
            pass
        elif _must_wait(actor, post, revision.verdict):
            await lifecycle.propose(tx, post, revision)
            await gate.record_proposal(tx, actor, post, board, revision.verdict)
        elif await lifecycle.revise(tx, actor.user, post, revision):
            revised = True
            await gate.record_revision(tx, actor, post, board, revision.verdict)
        if files_change and not revised and post.status is PostStatus.PUBLISHED:
            tx.emit(events.post_updated(post))
    return visible_post(actor, post, board.id)


def _must_wait(actor: Actor, post: Post, verdict: Verdict) -> bool:
    """A published post's author whose edit the gate would hold proposes it instead, and
    while one proposal waits the next replaces it: what readers see changes only once a
    moderator has seen it. A pending post is edited in place (its queue item shows it)."""
    if post.status is not PostStatus.PUBLISHED:
        return False
    own = post.author_id == actor.id  # type: ignore[attr-defined]
    return verdict.status is PostStatus.PENDING or (own and post.proposed_body is not None)


async def delete_post(actor: Actor, post_id: int, *, gate: Gatekeeper) -> None:
    post, thread, board = await get_post(actor, post_id)
    if not can_edit_post(actor, post, board.id):
        raise Forbidden(_("この投稿を削除する権限がありません。"))
    async with outbox.atomic() as tx:
        # False when it changed meanwhile (deleted twice at once): nothing more to do.
        if await lifecycle.withdraw(tx, post, thread, Withdrawal.DELETED):
            await gate.record_withdrawal(tx, actor, post, board)


# A vote and the step of the counter it causes, counted exactly under concurrent voters:
# the counter moves by the rows the statement really inserted or deleted (a repeated vote
# moves it by 0), under the post row's lock. A recount (COUNT(*) after the insert) is not
# exact on PostgreSQL: two transactions voting at once each count without the other's
# uncommitted row, and the later write loses one. PostgreSQL does it in one statement;
# SQLite in one transaction of two (it has one writer at a time).
_PG_VOTE = {
    True: "WITH changed AS (INSERT INTO votes (post_id, user_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING RETURNING 1) "
    "UPDATE posts SET votes = votes + (SELECT count(*) FROM changed) WHERE id = $1 "
    "RETURNING votes, (SELECT count(*) FROM changed) AS changed",
    False: "WITH changed AS (DELETE FROM votes WHERE post_id = $1 AND user_id = $2 RETURNING 1) "
    "UPDATE posts SET votes = votes - (SELECT count(*) FROM changed) WHERE id = $1 "
    "RETURNING votes, (SELECT count(*) FROM changed) AS changed",
}
_SQLITE_VOTE = {
    True: "INSERT INTO votes (post_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id",
    False: "DELETE FROM votes WHERE post_id = ? AND user_id = ? RETURNING id",
}
_SQLITE_STEP = "UPDATE posts SET votes = votes + ? WHERE id = ? RETURNING votes"


async def set_vote(actor: Actor, post_id: int, *, up: bool) -> Voted:
    post, _thread, _board = await get_post(actor, post_id)
    if actor.user is None:
        raise Forbidden(_("投票するにはログインしてください。"), code="login_required")
    if post.kind is not PostKind.QUESTION or post.status is not PostStatus.PUBLISHED:
        raise ValidationFailed(_("投票できるのは公開中の質問だけです。"), code="not_votable")
    if post.author_id == actor.user.id:  # type: ignore[attr-defined]
        raise Forbidden(_("自分の質問には投票できません。"), code="own_post")
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        # One statement: atomic without a transaction of its own.
        rows = await conn.execute_query_dict(_PG_VOTE[up], [post.id, actor.user.id])
        changed = bool(rows) and int(rows[0]["changed"]) > 0
    else:
        async with outbox.atomic() as tx:
            moved = await tx.conn.execute_query_dict(_SQLITE_VOTE[up], [post.id, actor.user.id])
            step = len(moved) if up else -len(moved)
            rows = await tx.conn.execute_query_dict(_SQLITE_STEP, [step, post.id])
        changed = step != 0
    if not rows:
        raise NotFound(_("投稿が見つかりません。"))
    votes = int(rows[0]["votes"])
    if changed:
        # Viewers learn the count from the thread's next coalesced tally (forum/tallies.py),
        # not from an event per vote; the voter learns it from this answer.
        tallies.mark(post.thread_id)  # type: ignore[attr-defined]
    return Voted(post.id, votes, up)


async def voted_questions(actor: Actor, rows: list[Post]) -> set[int]:
    """The ids of the questions among ``rows`` the actor has voted for, in one query."""
    questions = [p.id for p in rows if p.kind is PostKind.QUESTION]
    if actor.user is None or not questions:
        return set()
    votes = await Vote.filter(user_id=actor.user.id, post_id__in=questions).values("post_id")
    return {int(vote["post_id"]) for vote in votes}
