"""Slow mode: in a live session's thread, one question per participant per N seconds.

A wrapper around the moderation gate, so posting needs no knowledge of sessions: the gate
is asked before anything is written, and the last question's time is read from the posts
table, which every process shares.
"""

from __future__ import annotations

import math
from datetime import timedelta

from forum.errors import RateLimited
from forum.gate import GateInFront, Gatekeeper, Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostKind, Thread
from forum.permissions import Actor, can_moderate
from live.models import LiveSession, SessionState
from live.transitions import Clock, utcnow

__all__ = ["SlowModeGate"]


class SlowModeGate(GateInFront):
    """Implements ``forum.gate.Gatekeeper`` by adding slow mode in front of another gate."""

    def __init__(self, inner: Gatekeeper, *, clock: Clock = utcnow) -> None:
        super().__init__(inner)
        self.clock = clock

    async def review(
        self,
        actor: Actor,
        board: Board,
        thread: Thread | None,
        body: str,
        *,
        kind: str = PostKind.POST.value,
        editing: Post | None = None,
    ) -> Verdict:
        if thread is not None and thread.live and editing is None and kind == PostKind.QUESTION:
            await self._check_pace(actor, board, thread)
        return await self.inner.review(actor, board, thread, body, kind=kind, editing=editing)

    async def _check_pace(self, actor: Actor, board: Board, thread: Thread) -> None:
        if actor.user is None or can_moderate(actor, board.id):
            return
        session = await LiveSession.get_or_none(thread_id=thread.id, state=SessionState.LIVE)
        if session is None or session.slow_mode_seconds <= 0:
            return
        last = (
            await Post.filter(thread_id=thread.id, author_id=actor.user.id, kind=PostKind.QUESTION)
            .order_by("-created_at")
            .first()
        )
        if last is None:
            return
        wait = last.created_at + timedelta(seconds=session.slow_mode_seconds) - self.clock()
        if wait.total_seconds() > 0:
            raise RateLimited(
                _("質問は{seconds}秒に1回までです。少し待ってから送信してください。").format(
                    seconds=session.slow_mode_seconds
                ),
                retry_after=max(1, math.ceil(wait.total_seconds())),
                code="slow_mode",
            )
