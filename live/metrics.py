"""A live session's moderation figures, minute by minute, for the moderators of its board.

The numbers come from moderation's queue, which live may not import: ``forum.app`` hands
the pages a ``FiguresSource`` (``moderation.stats.thread_figures``), and this module picks
the session's window and checks who may see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from forum.errors import Forbidden, NotFound
from forum.i18n import gettext as _
from forum.permissions import Actor, can_moderate
from live.models import LiveSession, SessionState

__all__ = [
    "Figures",
    "FiguresSource",
    "MinuteFigures",
    "SessionMetrics",
    "can_see_metrics",
    "session_metrics",
    "window",
]


class MinuteFigures(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def approved(self) -> int: ...
    @property
    def rejected(self) -> int: ...


class Figures(Protocol):
    @property
    def waiting(self) -> int: ...
    @property
    def minutes(self) -> Sequence[MinuteFigures]: ...
    @property
    def approved(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def median_seconds(self) -> float | None: ...
    @property
    def p90_seconds(self) -> float | None: ...


class FiguresSource(Protocol):
    async def __call__(
        self, actor: Actor, *, board_id: int, thread_id: int, start: datetime, end: datetime
    ) -> Figures: ...


@dataclass(frozen=True, slots=True)
class SessionMetrics:
    session_id: int
    start: datetime
    end: datetime
    figures: Figures


def can_see_metrics(actor: Actor, session: LiveSession) -> bool:
    return actor.user is not None and can_moderate(actor, session.board_id)  # type: ignore[attr-defined]


def window(session: LiveSession, now: datetime) -> tuple[datetime, datetime]:
    """From the moment it went live (or was due to) until it ended, or until now."""
    start = session.started_at or session.starts_at
    if session.state is SessionState.SCHEDULED:
        return start, start
    end = session.ended_at or now
    return start, max(start, end)


async def session_metrics(
    actor: Actor,
    session: LiveSession,
    source: FiguresSource | None,
    now: datetime | None = None,
) -> SessionMetrics:
    """The figures, or Forbidden to anyone who does not moderate the session's board."""
    if not can_see_metrics(actor, session):
        raise Forbidden(_("この操作はモデレーターだけができます。"))
    if source is None:
        raise NotFound(_("ページが見つかりません。"))
    start, end = window(session, now or datetime.now(UTC))
    figures = await source(
        actor,
        board_id=session.board_id,  # type: ignore[attr-defined]
        thread_id=session.thread_id,  # type: ignore[attr-defined]
        start=start,
        end=end,
    )
    return SessionMetrics(session.id, start, end, figures)
