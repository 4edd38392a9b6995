"""Queue figures for the page: its size, the oldest item's age, and the last 24 hours by hour."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from forum.permissions import Actor
from moderation.access import check_moderator, moderated_boards
from moderation.models import QueueItem
from moderation.queue import scoped_items

__all__ = ["Bar", "Chart", "Hour", "QueueStats", "chart", "hourly", "queue_stats"]

HOURS = 24
JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True, slots=True)
class Hour:
    start: datetime
    created: int
    decided: int
    median_minutes: float | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    size: int
    oldest: datetime | None
    hours: list[Hour]

    def oldest_minutes(self, now: datetime) -> int | None:
        return int((now - self.oldest).total_seconds() // 60) if self.oldest else None


def hourly(
    created: list[datetime], decided: list[tuple[datetime, datetime]], now: datetime
) -> list[Hour]:
    """Bucket item arrivals and (created, decided) pairs into the last 24 whole hours."""
    top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = top - timedelta(hours=HOURS)
    arrivals = [0] * HOURS
    waits: list[list[float]] = [[] for _ in range(HOURS)]
    for stamp in created:
        if stamp >= start:
            arrivals[int((stamp - start).total_seconds() // 3600)] += 1
    for made, done in decided:
        if done >= start:
            waits[int((done - start).total_seconds() // 3600)].append(
                (done - made).total_seconds() / 60
            )
    return [
        Hour(
            start + timedelta(hours=i),
            arrivals[i],
            len(waits[i]),
            statistics.median(waits[i]) if waits[i] else None,
        )
        for i in range(HOURS)
    ]


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
    return QueueStats(size, first.created_at if first else None, hourly(created, decided, now))


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    height: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Geometry of the inline SVG (attributes, not styles: the page's CSP forbids inline style)."""

    width: int
    height: int
    bar_width: float
    bars: list[Bar]
    points: str
    max_created: int
    max_minutes: float


def chart(hours: list[Hour], *, width: int = 480, height: int = 120) -> Chart:
    """Bars for items that arrived each hour, a line for the median minutes to a decision."""
    slot = width / max(len(hours), 1)
    top_created = max([h.created for h in hours] + [1])
    top_minutes = max([h.median_minutes or 0.0 for h in hours] + [1.0])
    bars = []
    points = []
    for i, hour in enumerate(hours):
        bar = height * hour.created / top_created
        local = hour.start.astimezone(JST).strftime("%H:00")
        bars.append(Bar(round(i * slot + 1, 1), round(height - bar, 1), round(bar, 1), local))
        if hour.median_minutes is not None:
            y = height - height * hour.median_minutes / top_minutes
            points.append(f"{round(i * slot + slot / 2, 1)},{round(y, 1)}")
    return Chart(
        width, height, round(slot - 2, 1), bars, " ".join(points), top_created, top_minutes
    )
