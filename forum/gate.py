"""The seam between posting and moderation.

Posting asks a ``Gatekeeper`` whether a new post goes out at once or waits, and lets it
write its queue entry inside the posting transaction. The forum's own gate publishes
everything; ``moderation`` supplies the real one, wired in ``forum.app``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from forum.models import Board, Post, PostKind, PostStatus, Thread
from forum.outbox import Tx
from forum.permissions import Actor

__all__ = ["GateInFront", "Gatekeeper", "OpenGate", "Verdict"]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: PostStatus
    reasons: tuple[str, ...] = ()


class Gatekeeper(Protocol):
    async def review(
        self,
        actor: Actor,
        board: Board,
        thread: Thread | None,
        body: str,
        *,
        kind: str = "post",
        editing: Post | None = None,
    ) -> Verdict:
        """Decide before anything is written; raise ``Forbidden`` to refuse the post.

        ``editing`` is the post whose body ``body`` replaces: an edit meets the same rules
        as a new post, without counting the post against itself.
        """
        ...

    async def review_title(self, actor: Actor, board: Board, title: str) -> Verdict:
        """A thread's title meets the watched words a body meets: raise ``ValidationFailed``
        for a blocked word; a pending verdict (with its reasons) for a held one."""
        ...

    async def record(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """Write what moderation keeps about the new post, in the posting transaction."""
        ...

    async def record_revision(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """Bring what moderation keeps up to date with a post's new body, in the same
        transaction: a moderator deciding on a queued post must see the version edited."""
        ...

    async def record_proposal(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        """An edit of a published post must wait (``verdict`` says why): queue the proposal
        for a moderator in the same transaction, or bring a queued one up to date."""
        ...

    async def record_withdrawal(self, tx: Tx, actor: Actor, post: Post, board: Board) -> None:
        """Tell moderation, in the same transaction, that a post was deleted by its author
        or a moderator: a queue showing it must drop it."""
        ...


class OpenGate:
    async def review(
        self,
        actor: Actor,
        board: Board,
        thread: Thread | None,
        body: str,
        *,
        kind: str = "post",
        editing: Post | None = None,
    ) -> Verdict:
        return Verdict(PostStatus.PUBLISHED)

    async def review_title(self, actor: Actor, board: Board, title: str) -> Verdict:
        return Verdict(PostStatus.PUBLISHED)

    async def record(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        return None

    async def record_revision(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        return None

    async def record_proposal(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        return None

    async def record_withdrawal(self, tx: Tx, actor: Actor, post: Post, board: Board) -> None:
        return None


class GateInFront:
    """A gate that adds a rule in front of another: every step goes to ``inner`` unless a
    subclass overrides it (live sessions' slow mode and written answers are two)."""

    def __init__(self, inner: Gatekeeper) -> None:
        self.inner = inner

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
        return await self.inner.review(actor, board, thread, body, kind=kind, editing=editing)

    async def review_title(self, actor: Actor, board: Board, title: str) -> Verdict:
        return await self.inner.review_title(actor, board, title)

    async def record(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        await self.inner.record(tx, actor, post, board, verdict)

    async def record_revision(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        await self.inner.record_revision(tx, actor, post, board, verdict)

    async def record_proposal(
        self, tx: Tx, actor: Actor, post: Post, board: Board, verdict: Verdict
    ) -> None:
        await self.inner.record_proposal(tx, actor, post, board, verdict)

    async def record_withdrawal(self, tx: Tx, actor: Actor, post: Post, board: Board) -> None:
        await self.inner.record_withdrawal(tx, actor, post, board)
