"""The sessions a moderation queue can be narrowed to, for ``moderation`` through ``forum.app``.

Moderation knows nothing of live: ``forum.app`` hands it an instance of ``QueueSessions``,
which answers in plain records (``moderation.queue.SessionDirectory`` states their shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from live.models import LiveSession, SessionState

__all__ = ["CHOICES", "QueueSession", "QueueSessions"]

# The select lists the live sessions and the next ones to come; more would not be read.
CHOICES = 50


@dataclass(frozen=True, slots=True)
class QueueSession:
    id: int
    title: str
    state: str
    board_id: int
    thread_id: int
    starts_at: datetime


def _record(row: LiveSession) -> QueueSession:
    return QueueSession(
        row.id,
        row.title,
        row.state.value,
        row.board_id,  # type: ignore[attr-defined]
        row.thread_id,  # type: ignore[attr-defined]
        row.starts_at,
    )


class QueueSessions:
    async def find(self, session_id: int) -> QueueSession | None:
        row = await LiveSession.get_or_none(id=session_id)
        return _record(row) if row else None

    async def current(self, board_ids: frozenset[int] | None) -> list[QueueSession]:
        """Live sessions first, then those to come, of these boards (None: every board)."""
        query = LiveSession.filter(state__in=[SessionState.LIVE, SessionState.SCHEDULED])
        if board_ids is not None:
            query = query.filter(board_id__in=sorted(board_ids))
        rows = await query.order_by("starts_at", "id").limit(CHOICES)
        return sorted(
            (_record(r) for r in rows), key=lambda s: (s.state != SessionState.LIVE, s.starts_at)
        )
