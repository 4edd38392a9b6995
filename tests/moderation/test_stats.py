"""The queue's figures: hourly buckets of the last 24 hours and the chart's geometry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from moderation.stats import chart, hourly
from tests.conftest import Member
from tests.moderation.support import decide, new_board, new_thread, queue

NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)


def test_items_and_decision_times_fall_into_the_hour_they_happened() -> None:
    created = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=20), NOW - timedelta(hours=3)]
    decided = [
        (NOW - timedelta(minutes=50), NOW - timedelta(minutes=5)),
        (NOW - timedelta(minutes=30), NOW - timedelta(minutes=20)),
        (NOW - timedelta(minutes=40), NOW - timedelta(minutes=25)),
    ]
    hours = hourly(created, decided, NOW)
    assert len(hours) == 24
    assert hours[-1].start == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert (hours[-1].created, hours[-1].decided, hours[-1].median_minutes) == (2, 3, 15.0)
    assert hours[-4].created == 1 and hours[-4].median_minutes is None
    assert sum(h.created for h in hours) == 3


def test_events_older_than_a_day_are_left_out() -> None:
    old = NOW - timedelta(hours=30)
    hours = hourly([old], [(old, old + timedelta(minutes=5))], NOW)
    assert sum(h.created + h.decided for h in hours) == 0


def test_the_chart_scales_bars_to_the_busiest_hour_and_draws_a_line_of_medians() -> None:
    created = [NOW - timedelta(minutes=1)] * 4 + [NOW - timedelta(hours=1)] * 2
    decided = [(NOW - timedelta(minutes=30), NOW - timedelta(minutes=10))]
    drawing = chart(hourly(created, decided, NOW), width=240, height=100)
    assert len(drawing.bars) == 24
    assert drawing.bars[-1].height == 100.0 and drawing.bars[-1].y == 0.0
    assert drawing.bars[-2].height == 50.0
    assert drawing.max_created == 4
    assert drawing.points == "235.0,0.0"
    assert drawing.bars[-1].label == "23:00"  # 14:00 UTC is 23:00 in Japan


@pytest.mark.asyncio
async def test_the_stats_endpoint_counts_waiting_items_and_todays_decisions(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    await new_thread(client, alice, title="一つ目")
    await new_thread(client, alice, title="二つ目")
    first = (await queue(client, admin))[0]
    await decide(client, admin, first, "approve")
    stats = (await client.get("/api/v1/moderation/stats", headers=admin.headers)).json()
    assert stats["size"] == 1
    assert stats["oldest_minutes"] == 0 and stats["oldest_created_at"]
    assert sum(h["created"] for h in stats["hours"]) == 2
    assert sum(h["decided"] for h in stats["hours"]) == 1
