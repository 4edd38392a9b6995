"""Queue figures: its size, the oldest item's age, the last 24 hours by the hour and the last
hour by the minute; and one thread's held questions minute by minute (a live session's)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.connection import get_connection

from forum.charts import Chart, bar_chart
from forum.i18n import gettext as _
from forum.i18n import ngettext
from forum.models import PostKind, PostStatus
from forum.permissions import Actor
from forum.search_index import to_dialect
from moderation.access import check_moderator, moderated_boards
from moderation.models import ItemKind, ItemState, QueueItem
from moderation.queue import scoped_items

__all__ = [
    "HOURS",
    "MAX_MINUTES",
    "MINUTES",
    "Bucket",
    "Hour",
    "Minute",
    "Per",
    "QueueStats",
    "ThreadFigures",
    "buckets",
    "by_minute",
    "chart",
    "hourly",
    "queue_stats",
    "thread_figures",
    "time_label",
]

HOURS = 24
MINUTES = 60
JST = ZoneInfo("Asia/Tokyo")
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class Per(StrEnum):
    """The chart's buckets: the last 24 hours by the hour, or the last hour by the minute."""

    HOUR = "hour"
    MINUTE = "minute"


@dataclass(frozen=True, slots=True)
class Bucket:
    start: datetime
    created: int
    decided: int
    median_minutes: float | None


Hour = Bucket  # the name the hourly figures first had


@dataclass(frozen=True, slots=True)
class QueueStats:
    size: int
    oldest: datetime | None
    hours: list[Bucket]
    minutes: list[Bucket]

    def oldest_minutes(self, now: datetime) -> int | None:
        return int((now - self.oldest).total_seconds() // 60) if self.oldest else None

    def buckets(self, per: Per) -> list[Bucket]:
        return self.hours if per is Per.HOUR else self.minutes


def buckets(
    created: list[datetime],
    decided: list[tuple[datetime, datetime]],
    now: datetime,
    *,
    size: timedelta,
    count: int,
) -> list[Bucket]:
    """Arrivals and (created, decided) pairs in the last ``count`` whole buckets of ``size``."""
    top = _EPOCH + ((now - _EPOCH) // size) * size + size
    start = top - size * count
    arrivals = [0] * count
    waits: list[list[float]] = [[] for _ in range(count)]
    for stamp in created:
        if start <= stamp < top:
            arrivals[(stamp - start) // size] += 1
    for made, done in decided:
        if start <= done < top:
            waits[(done - start) // size].append((done - made).total_seconds() / 60)
    return [
        Bucket(
            start + size * i,
            arrivals[i],
            len(waits[i]),
            statistics.median(waits[i]) if waits[i] else None,
        )
        for i in range(count)
    ]


def hourly(
    created: list[datetime], decided: list[tuple[datetime, datetime]], now: datetime
) -> list[Bucket]:
    """The last 24 whole hours."""
    return buckets(created, decided, now, size=timedelta(hours=1), count=HOURS)


def by_minute(
    created: list[datetime], decided: list[tuple[datetime, datetime]], now: datetime
) -> list[Bucket]:
    """The last 60 whole minutes."""
    return buckets(created, decided, now, size=timedelta(minutes=1), count=MINUTES)


async def queue_stats(actor: Actor, now: datetime | None = None) -> QueueStats:
    check_moderator(actor)
    now = now or datetime.now(UTC)
    open_items = scoped_items(actor)
    size = await open_items.count()
    first = await open_items.order_by("created_at").first()
    since = now - timedelta(hours=HOURS)
    recent = QueueItem.filter(created_at__gte=since)
    done = QueueItem.filter(decided_at__gte=since)
    boards = moderated_boards(actor)
    if boards is not None:
        recent = recent.filter(board_id__in=sorted(boards))
        done = done.filter(board_id__in=sorted(boards))
    created = [row[0] for row in await recent.values_list("created_at")]
    decided = [(row[0], row[1]) for row in await done.values_list("created_at", "decided_at")]
    return QueueStats(
        size,
        first.created_at if first else None,
        hourly(created, decided, now),
        by_minute(created, decided, now),
    )


def time_label(start: datetime) -> str:
    """A bucket's start as the pages show it: hours and minutes in Japan time."""
    return start.astimezone(JST).strftime("%H:%M")


def chart(figures: list[Bucket]) -> Chart:
    """Bars for the items that arrived in each bucket (left axis, items), a line for the
    median minutes to a decision (right axis, minutes); labels in Japan time."""
    labels = [time_label(b.start) for b in figures]
    titles = [
        f"{label} — " + ngettext("%(num)d件", "%(num)d件", b.created) % {"num": b.created}
        for label, b in zip(labels, figures, strict=True)
    ]
    return bar_chart(
        labels,
        [("created", [b.created for b in figures])],
        titles=titles,
        line=[b.median_minutes for b in figures],
        y_title=_("届いた件数"),
        y2_title=_("分"),
    )


# --- one thread's questions, minute by minute (a live session's, for its moderators) -------

# A day of minutes at most: a longer window shows its last day.
MAX_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Minute:
    start: datetime
    approved: int
    rejected: int


@dataclass(frozen=True, slots=True)
class ThreadFigures:
    """Held questions of one thread: waiting now, decided per minute, time to approval."""

    waiting: int
    minutes: list[Minute]
    approved: int
    rejected: int
    median_seconds: float | None
    p90_seconds: float | None


def _minute_floor(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(second=0, microsecond=0)


# Each dialect's spelling of "whole minutes from the window's start" and "seconds from
# arrival to decision"; the rest of each statement is shared.
_SQL = {
    "sqlite": (
        "(CAST(strftime('%s', i.decided_at) AS INTEGER) - CAST(strftime('%s', ?) AS INTEGER)) / 60",
        "(julianday(i.decided_at) - julianday(i.created_at)) * 86400.0",
    ),
    "postgres": (
        "CAST(FLOOR(EXTRACT(EPOCH FROM (i.decided_at - CAST(? AS TIMESTAMPTZ))) / 60) AS INTEGER)",
        "CAST(EXTRACT(EPOCH FROM (i.decided_at - i.created_at)) AS DOUBLE PRECISION)",
    ),
}
_HELD_QUESTIONS = (
    "FROM moderation_items i JOIN posts p ON p.id = i.post_id"
    " WHERE i.thread_id = ? AND i.kind = 'pending' AND p.kind = 'question'"
    " AND i.decided_at >= ? AND i.decided_at < ?"
)
# One pass ranks the approvals by their wait; the median is the middle one (or the mean of
# the two middle ones) and p90 the nearest rank, ceil(0.9 n) = (9 n + 9) / 10 in integers.
_RANKS = (
    "SELECT r, d, n FROM (SELECT {d} AS d, ROW_NUMBER() OVER (ORDER BY {d}) AS r,"
    " COUNT(*) OVER () AS n {rows} AND i.decision = 'approved') ranked"
    " WHERE r = (n + 1) / 2 OR r = (n + 2) / 2 OR r = (9 * n + 9) / 10"
)


async def thread_figures(
    actor: Actor, *, board_id: int, thread_id: int, start: datetime, end: datetime
) -> ThreadFigures:
    """Minute buckets from ``start`` (rounded down to the minute) until ``end``, computed by
    the database: a count, a grouped count and one ranking, whatever the number of rows."""
    check_moderator(actor, board_id)
    start = _minute_floor(start)
    end = max(end.astimezone(UTC), start)
    count = -int(-(end - start).total_seconds() // 60)  # whole minutes, the last one begun
    if count > MAX_MINUTES:
        count = MAX_MINUTES
        start = _minute_floor(end) - timedelta(minutes=MAX_MINUTES - 1)
    waiting = await (
        QueueItem.filter(
            thread_id=thread_id,
            state=ItemState.OPEN,
            kind=ItemKind.PENDING,
            post__kind=PostKind.QUESTION,
        )
        .exclude(post__status=PostStatus.DELETED)
        .count()
    )
    conn = get_connection("default")
    postgres = conn.capabilities.dialect == "postgres"
    minute_sql, seconds_sql = _SQL["postgres" if postgres else "sqlite"]
    # SQLite holds a stamp as the text Tortoise writes, str() of the UTC datetime: the same
    # spelling keeps the comparisons in the order of time.
    stamp: Any = (lambda v: v) if postgres else (lambda v: str(v.astimezone(UTC)))
    window = [thread_id, stamp(start), stamp(end)]
    grouped = (
        f"SELECT {minute_sql} AS m, i.decision AS decision, COUNT(*) AS c {_HELD_QUESTIONS}"
        " AND i.decision IN ('approved', 'rejected') GROUP BY 1, 2"
    )
    rows = await conn.execute_query_dict(to_dialect(conn, grouped), [stamp(start), *window])
    approved = [0] * count
    rejected = [0] * count
    for row in rows:
        minute = int(row["m"])
        if 0 <= minute < count:
            (approved if row["decision"] == "approved" else rejected)[minute] += int(row["c"])
    ranks = _RANKS.format(d=seconds_sql, rows=_HELD_QUESTIONS)
    ranked = await conn.execute_query_dict(to_dialect(conn, ranks), window)
    waits = {int(row["r"]): float(row["d"]) for row in ranked}
    median = p90 = None
    if ranked:
        n = int(ranked[0]["n"])
        median = round((waits[(n + 1) // 2] + waits[(n + 2) // 2]) / 2, 3)
        p90 = round(waits[(9 * n + 9) // 10], 3)
    return ThreadFigures(
        waiting=waiting,
        minutes=[
            Minute(start + timedelta(minutes=i), approved[i], rejected[i]) for i in range(count)
        ],
        approved=sum(approved),
        rejected=sum(rejected),
        median_seconds=median,
        p90_seconds=p90,
    )
