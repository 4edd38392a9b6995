"""The forum's real gatekeeper: policies and auto-hold rules decide, the queue keeps what waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F

from forum import events
from forum.errors import ValidationFailed
from forum.gate import Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread, User
from forum.outbox import Tx
from forum.permissions import Actor
from moderation.models import ItemKind, ItemState, QueueItem, WordAction
from moderation.policies import RuleSettings, is_staff, needs_approval
from moderation.queue import (
    RELATED,
    codes_of,
    flags_by_item,
    item_resource,
    open_item,
    rescreened,
)
from moderation.rules import Screening, decode_reason, encode_reason, screen, watched_hits
from moderation.ruleset import load_settings, watched_words

__all__ = ["ModerationGate"]


def _now() -> datetime:
    return datetime.now(UTC)


class ModerationGate:
    """Implements ``forum.gate.Gatekeeper``.

    ``review`` takes an optional ``kind`` ("post" or "question"); without it, a post in a
    live thread is treated as a question and waits, which is the safe side.
    """

    def __init__(self, *, clock: Callable[[], datetime] = _now) -> None:
        self.clock = clock

    async def review(
        self,
        actor: Actor,
        board: Board,
        thread: Thread | None,
        body: str,
        *,
        kind: str | None = None,
        editing: Post | None = None,
    ) -> Verdict:
        user = actor.user
        board_role = actor.board_roles.get(board.id)
        if user is None or is_staff(user.role, board_role):
            return Verdict(PostStatus.PUBLISHED)
        settings = await load_settings()
        published = user.published_posts
        if published < settings.first_posts:
            # The actor's user may be remembered from an earlier request (forum.logins):
            # the count only grows, so only a count that could still hold the post is
            # read afresh.
            fresh: list[int] = list(
                await User.filter(id=user.id).values_list("published_posts", flat=True)  # type: ignore[arg-type]
            )
            published = max([published, *fresh])
        reasons = list(
            needs_approval(
                user.role,
                board_role,
                board.moderation,
                thread.moderation if thread else None,
                published,
                settings,
                live=thread.live if thread else False,
                kind=kind,
            )
        )
        screening = await self.screen(user, body, settings, editing=editing)
        if screening.blocked:
            raise ValidationFailed(
                _("使用できない語句が含まれているため、投稿できません。"),
                code="blocked_word",
                fields={
                    "body": _("使用できない語句：{words}").format(
                        words="、".join(screening.blocked)
                    )
                },
            )
        reasons += screening.reasons
        return Verdict(PostStatus.PENDING if reasons else PostStatus.PUBLISHED, tuple(reasons))

    async def review_title(self, actor: Actor, board: Board, title: str) -> Verdict:
        """Watched words only: links, repeats and bursts are a body's matter."""
        user = actor.user
        if user is None or is_staff(user.role, actor.board_roles.get(board.id)):
            return Verdict(PostStatus.PUBLISHED)
        hits = watched_hits(title, await watched_words())
        blocked = [w.word for w in hits if w.action is WordAction.BLOCK]
        if blocked:
            raise ValidationFailed(
                _("使用できない語句が含まれているため、投稿できません。"),
                code="blocked_word",
                fields={"title": _("使用できない語句：{words}").format(words="、".join(blocked))},
            )
        reasons = tuple(
            encode_reason("watched_word", w.word) for w in hits if w.action is WordAction.HOLD
        )
        return Verdict(PostStatus.PENDING if reasons else PostStatus.PUBLISHED, reasons)

    async def screen(
        self, user: User, body: str, settings: RuleSettings, *, editing: Post | None = None
    ) -> Screening:
        """Gather what the pure rules need from the database, then apply them.

        An edited post is left out of its own duplicate and burst counts.
        """
        now = self.clock()
        others = Post.filter(author_id=user.id)
        if editing is not None:
            others = others.exclude(id=editing.id)
        duplicate = False
        if settings.duplicate_minutes > 0:
            since = now - timedelta(minutes=settings.duplicate_minutes)
            duplicate = (
                await others.filter(body=body, created_at__gte=since)
                .exclude(status=PostStatus.DELETED)
                .exists()
            )
        recent = 0
        if settings.burst_posts > 0:
            since = now - timedelta(seconds=settings.burst_seconds)
            recent = await others.filter(created_at__gte=since).count()
        return screen(
            body,
            account_age=now - user.created_at,
            words=await watched_words(),
            duplicate=duplicate,
            recent_posts=recent,
            settings=settings,
        )

    async def record(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        if verdict.status is not PostStatus.PENDING:
            return
        thread = await Thread.filter(id=post.thread_id).using_db(tx.conn).get()  # type: ignore[attr-defined]
        await open_item(
            tx,
            post=post,
            board=board,
            thread=thread,
            kind=ItemKind.PENDING,
            reasons=[decode_reason(r) for r in verdict.reasons],
        )

    async def record_revision(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """A post waiting in the queue was edited: its open item takes the new body under a
        new version, so a decision taken on the body shown before is refused as stale."""
        if post.status is not PostStatus.PENDING:
            return
        query = QueueItem.filter(active_post_id=post.id, state=ItemState.OPEN).using_db(tx.conn)
        item = await query.select_related(*RELATED).first()
        if item is None:
            return
        await self.record_revision_of(tx, item, post, board, verdict)

    async def record_revision_of(
        self, tx: Tx, item: QueueItem, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """The open item shows a new body (or proposal): new version, reasons judged afresh."""
        reasons = rescreened(item.reasons, verdict)
        await (
            QueueItem.filter(id=item.id)
            .using_db(tx.conn)
            .update(version=F("version") + 1, reasons=reasons, reason_codes=codes_of(reasons))
        )
        fresh = await QueueItem.filter(id=item.id).using_db(tx.conn).get()
        item.version, item.reasons, item.post = fresh.version, reasons, post
        flags = (await flags_by_item([item.id], tx.conn))[item.id]
        tx.emit(events.item_updated(board.slug, item_resource(item, flags)))

    async def record_proposal(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """An edit of a published post waits: an ``edit`` item shows moderators the proposal
        beside the published body. If the post already has an open item (a flag, an earlier
        proposal), that item takes the proposal under a new version instead, so a decision
        taken on what was shown before is refused as stale."""
        query = QueueItem.filter(active_post_id=post.id, state=ItemState.OPEN).using_db(tx.conn)
        item = await query.select_related(*RELATED).first()
        if item is None:
            thread = await Thread.filter(id=post.thread_id).using_db(tx.conn).get()  # type: ignore[attr-defined]
            await open_item(
                tx,
                post=post,
                board=board,
                thread=thread,
                kind=ItemKind.EDIT,
                reasons=[decode_reason(r) for r in verdict.reasons],
            )
            return
        await self.record_revision_of(tx, item, post, board, verdict)

    async def record_withdrawal(self, tx: Tx, actor: Actor, post: Post, board: Board) -> None:
        """A deleted post leaves the queue (``scoped_items`` skips it): its moderators see
        the item once more, with the post's new status, and drop it."""
        query = QueueItem.filter(active_post_id=post.id, state=ItemState.OPEN).using_db(tx.conn)
        item = await query.select_related(*RELATED).first()
        if item is None:
            return
        item.post = post
        flags = (await flags_by_item([item.id], tx.conn))[item.id]
        tx.emit(events.item_updated(board.slug, item_resource(item, flags)))
