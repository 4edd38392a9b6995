"""The forum's real gatekeeper: policies and auto-hold rules decide, the queue keeps what waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from forum.errors import ValidationFailed
from forum.gate import Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread, User
from forum.outbox import Tx
from forum.permissions import Actor
from moderation.models import ItemKind
from moderation.policies import RuleSettings, is_staff, needs_approval
from moderation.queue import open_item
from moderation.rules import Screening, decode_reason, screen
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
    ) -> Verdict:
        user = actor.user
        board_role = actor.board_roles.get(board.id)
        if user is None or is_staff(user.role, board_role):
            return Verdict(PostStatus.PUBLISHED)
        settings = await load_settings()
        reasons = list(
            needs_approval(
                user.role,
                board_role,
                board.moderation,
                thread.moderation if thread else None,
                user.published_posts,
                settings,
                live=thread.live if thread else False,
                kind=kind,
            )
        )
        screening = await self.screen(user, body, settings)
        if screening.blocked:
            raise ValidationFailed(
                _("使用できない語句が含まれているため、投稿できません。"),
                code="blocked_word",
                fields={
                    "body": _("使用できない語句: {words}").format(
                        words="、".join(screening.blocked)
                    )
                },
            )
        reasons += screening.reasons
        return Verdict(PostStatus.PENDING if reasons else PostStatus.PUBLISHED, tuple(reasons))

    async def screen(self, user: User, body: str, settings: RuleSettings) -> Screening:
        """Gather what the pure rules need from the database, then apply them."""
        now = self.clock()
        duplicate = False
        if settings.duplicate_minutes > 0:
            since = now - timedelta(minutes=settings.duplicate_minutes)
            duplicate = (
                await Post.filter(author_id=user.id, body=body, created_at__gte=since)
                .exclude(status=PostStatus.DELETED)
                .exists()
            )
        recent = 0
        if settings.burst_posts > 0:
            since = now - timedelta(seconds=settings.burst_seconds)
            recent = await Post.filter(author_id=user.id, created_at__gte=since).count()
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
