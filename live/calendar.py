"""iCalendar (RFC 5545) feeds of the programme and of one session, and the month grid.

Organisers and participants subscribe to the feed in their calendar; each event's UID is
stable, so a changed time updates the entry instead of adding a second one.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from live.models import LiveSession, SessionState

__all__ = ["JST", "MonthDay", "feed", "is_over", "month_bounds", "month_grid", "next_month"]

JST = ZoneInfo("Asia/Tokyo")
PRODID = "-//koryu//sessions//JA"


def _event(session: LiveSession, base_url: str, host: str) -> Event:
    event = Event()
    link = f"{base_url.rstrip('/')}/sessions/{session.id}"
    event.add("uid", f"session-{session.id}@{host}")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("summary", session.title)
    description = session.description.strip()
    event.add("description", f"{description}\n\n{link}" if description else link)
    event.add("url", link)
    if session.venue:
        event.add("location", session.venue)
    elif session.url:
        event.add("location", session.url)
    event.add("status", "CONFIRMED")
    return event


def feed(sessions: Sequence[LiveSession], *, base_url: str, name: str) -> bytes:
    """One calendar holding these sessions, as the bytes of a ``text/calendar`` body."""
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "koryu"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Tokyo")
    for session in sessions:
        cal.add_component(_event(session, base_url, host))
    return bytes(cal.to_ical())


@dataclass
class MonthDay:
    day: date | None  # None pads the first and last week
    sessions: list[LiveSession] = field(default_factory=list)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in Japan time, as UTC instants [start, end)."""
    start = datetime(year, month, 1, tzinfo=JST)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=JST)
    return start.astimezone(UTC), following.astimezone(UTC)


def month_grid(year: int, month: int, sessions: Sequence[LiveSession]) -> list[list[MonthDay]]:
    """Weeks (Monday first) of the month, each day with the sessions starting on it in JST."""
    by_day: dict[date, list[LiveSession]] = {}
    for session in sessions:
        by_day.setdefault(session.starts_at.astimezone(JST).date(), []).append(session)
    weeks: list[list[MonthDay]] = []
    for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [MonthDay(d, by_day.get(d, [])) if d.month == month else MonthDay(None) for d in week]
        )
    return weeks


def is_over(session: LiveSession) -> bool:
    return session.state in (SessionState.ENDED, SessionState.ARCHIVED)


def next_month(year: int, month: int, step: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + step
    return index // 12, index % 12 + 1
