"""Written answers: a reply of kind ``answer`` to a live question, by the session's experts.

A wrapper around the posting gate, as slow mode is, so posting needs no knowledge of
sessions: ``review`` refuses anyone but the session's experts before anything is written,
and ``record`` marks the question answered in writing in the posting transaction, with its
``question.updated``. The answer is published at once, even in a premoderated session: the
organiser named its author to answer there (blocked words still refuse it).
"""

from __future__ import annotations

from forum.errors import ValidationFailed
from forum.gate import GateInFront, Verdict
from forum.i18n import gettext as _
from forum.models import Board, Post, PostKind, PostStatus, Thread
from forum.outbox import Tx
from forum.permissions import Actor
from live.answers import check_answerer, record_written_answer

__all__ = ["WrittenAnswerGate"]


class WrittenAnswerGate(GateInFront):
    """Implements ``forum.gate.Gatekeeper``: written answers in front of another gate."""

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
        if kind != PostKind.ANSWER.value or editing is not None:
            return await self.inner.review(actor, board, thread, body, kind=kind, editing=editing)
        if thread is None:
            # A new thread never opens with an answer: it replies to a question.
            raise ValidationFailed(
                _("有識者の回答は質問への返信として書いてください。"), code="not_a_live_thread"
            )
        await check_answerer(actor, thread)
        await self.inner.review(actor, board, thread, body, kind=kind, editing=editing)
        return Verdict(PostStatus.PUBLISHED)

    async def record(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        await self.inner.record(tx, actor, post, board, verdict)
        if post.kind is PostKind.ANSWER and post.status is PostStatus.PUBLISHED:
            await record_written_answer(tx, actor, post)
