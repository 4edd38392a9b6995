"""The session state machine: scheduled → live → ended → archived.

Each move is one conditional ``UPDATE … WHERE state = <old>``: whichever process (a ticker
or an organiser's button) runs it first moves the session; every other sees 0 rows and
does nothing, so there is exactly one transition and one event however many race. The
thread's switches and the followers' notices are written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from forum import events, outbox
from forum.errors import Conflict, Forbidden, NotFound
from forum.i18n import gettext as _
from forum.models import Board, ModerationPolicy, Notification, NotificationKind, Thread
from forum.notifications import notification_resource
from forum.permissions import Actor
from live.models import LiveSession, SessionFollower, SessionStaff, SessionState
from live.sessions import can_run, session_changed

__all__ = [
    "ARCHIVE_AFTER",
    "Clock",
    "Moved",
    "archive_due",
    "end_session",
    "move",
    "record_viewers",
    "start_session",
    "tick",
    "utcnow",
]

Clock = Callable[[], datetime]

# An ended session stays "ended" (questions closed, answers still being written) for a day,
# then becomes part of the archive.
ARCHIVE_AFTER = timedelta(days=1)

_NEXT = {
    SessionState.SCHEDULED: SessionState.LIVE,
    SessionState.LIVE: SessionState.ENDED,
    SessionState.ENDED: SessionState.ARCHIVED,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Moved:
    session_id: int
    before: SessionState
    after: SessionState
    moved: bool


def _thread_switches(session: LiveSession, target: SessionState) -> dict[str, Any]:
    if target is SessionState.LIVE:
        # The thread's own "open" lets live questions through: pre-moderation turned off.
        policy = ModerationPolicy.PREMODERATED if session.premoderate else ModerationPolicy.OPEN
        return {"live": True, "locked": False, "moderation": policy}
    if target is SessionState.ENDED:
        # Questions close; everything stays readable.
        return {"live": False, "locked": True}
    return {}


async def move(session_id: int, before: SessionState, now: datetime) -> Moved:
    """Move a session one step on from ``before``; ``moved=False`` if another got there first."""
    after = _NEXT[before]
    stamp: dict[str, Any] = {"state": after}
    if after is SessionState.LIVE:
        stamp["started_at"] = now
    elif after is SessionState.ENDED:
        stamp["ended_at"] = now
    async with outbox.atomic() as tx:
        changed = await (
            LiveSession.filter(id=session_id, state=before).using_db(tx.conn).update(**stamp)
        )
        if not changed:
            return Moved(session_id, before, after, moved=False)
        session = await LiveSession.get(id=session_id, using_db=tx.conn)
        thread = await Thread.get(id=session.thread_id, using_db=tx.conn)  # type: ignore[attr-defined]
        board = await Board.get(id=session.board_id, using_db=tx.conn)  # type: ignore[attr-defined]
        switches = {
            k: v for k, v in _thread_switches(session, after).items() if getattr(thread, k) != v
        }
        if switches:
            thread.update_from_dict(switches)
            await thread.save(update_fields=list(switches), using_db=tx.conn)
            shown = {
                k: (v.value if isinstance(v, ModerationPolicy) else v) for k, v in switches.items()
            }
            tx.emit(*events.thread_updated(thread, board.slug, shown))
        if after is SessionState.LIVE:
            await _notify_followers(tx, session)
        tx.emit(events.session_updated(session_changed(session)))
    return Moved(session_id, before, after, moved=True)


async def _notify_followers(tx: outbox.Tx, session: LiveSession) -> None:
    followers = await SessionFollower.filter(session_id=session.id).using_db(tx.conn)
    for follower in followers:
        notice = await Notification.create(
            user_id=follower.user_id,  # type: ignore[attr-defined]
            kind=NotificationKind.SESSION_LIVE,
            data={
                "thread_id": session.thread_id,  # type: ignore[attr-defined]
                "thread_title": session.title,
                "session_id": session.id,
                "url": f"/sessions/{session.id}",
            },
            using_db=tx.conn,
        )
        user_id = int(follower.user_id)  # type: ignore[attr-defined]
        tx.emit(events.notification_created(user_id, notification_resource(notice)))


async def _run(actor: Actor, session_id: int) -> LiveSession:
    session = await LiveSession.get_or_none(id=session_id)
    if session is None:
        raise NotFound(_("イベントが見つかりません。"))
    staff = await SessionStaff.filter(session_id=session.id)
    if not can_run(actor, session, staff):
        raise Forbidden(_("このイベントを操作する権限がありません。"))
    return session


async def start_session(actor: Actor, session_id: int, *, now: datetime | None = None) -> Moved:
    """The organiser's start button: live now, whatever the schedule said."""
    session = await _run(actor, session_id)
    if session.state is not SessionState.SCHEDULED:
        raise Conflict(_("このイベントは開始前ではありません。"), code="invalid_state")
    moved = await move(session.id, SessionState.SCHEDULED, now or utcnow())
    if not moved.moved:
        raise Conflict(_("このイベントは開始前ではありません。"), code="invalid_state")
    return moved


async def end_session(actor: Actor, session_id: int, *, now: datetime | None = None) -> Moved:
    session = await _run(actor, session_id)
    if session.state is not SessionState.LIVE:
        raise Conflict(_("このイベントは開催中ではありません。"), code="invalid_state")
    moved = await move(session.id, SessionState.LIVE, now or utcnow())
    if not moved.moved:
        raise Conflict(_("このイベントは開催中ではありません。"), code="invalid_state")
    return moved


async def record_viewers(viewers: Callable[[str], int]) -> int:
    """Raise each live session's viewer peak to its thread's count now; ``viewers`` is the
    hub's, which adds the other processes' counts. The update only ever raises the peak,
    so processes sampling at once cannot lower it. Returns how many sessions rose."""
    raised = 0
    rows = await LiveSession.filter(state=SessionState.LIVE).values_list("id", "thread_id")
    for session_id, thread_id in rows:
        now = viewers(events.thread_channel(int(thread_id)))  # type: ignore[call-overload]
        if now > 0:
            raised += await LiveSession.filter(id=session_id, viewer_peak__lt=now).update(
                viewer_peak=now
            )
    return raised


def archive_due(now: datetime) -> datetime:
    return now - ARCHIVE_AFTER


async def tick(now: datetime) -> list[Moved]:
    """Everything the clock says is due: start, end, archive. Safe in every process at once."""
    moved: list[Moved] = []
    due = [
        (
            SessionState.SCHEDULED,
            LiveSession.filter(state=SessionState.SCHEDULED, starts_at__lte=now),
        ),
        (SessionState.LIVE, LiveSession.filter(state=SessionState.LIVE, ends_at__lte=now)),
        (
            SessionState.ENDED,
            LiveSession.filter(state=SessionState.ENDED, ends_at__lte=archive_due(now)),
        ),
    ]
    for state, query in due:
        for session_id in await query.values_list("id", flat=True):
            result = await move(int(session_id), state, now)  # type: ignore[call-overload]
            if result.moved:
                moved.append(result)
    # A session whose end passed while it was still scheduled goes live and ends in one tick.
    if any(m.after is SessionState.LIVE for m in moved):
        for m in [m for m in moved if m.after is SessionState.LIVE]:
            session = await LiveSession.get(id=m.session_id)
            if session.ends_at <= now:
                again = await move(m.session_id, SessionState.LIVE, now)
                if again.moved:
                    moved.append(again)
    return moved
