"""The queue's figures: hourly buckets of the last 24 hours and the chart's geometry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from forum.charts import label_step, nice_scale
from moderation.stats import by_minute, chart, hourly
from tests.conftest import Member
from tests.moderation.support import decide, new_board, new_thread, queue
from tests.moderation.test_pages import sign_in

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


def test_the_chart_scales_bars_to_the_busiest_hour_on_a_labelled_axis_with_a_line_of_medians() -> (
    None
):
    created = [NOW - timedelta(minutes=1)] * 4 + [NOW - timedelta(hours=1)] * 2
    decided = [(NOW - timedelta(minutes=30), NOW - timedelta(minutes=10))]
    drawing = chart(hourly(created, decided, NOW))
    assert [t.label for t in drawing.y_ticks] == ["0", "1", "2", "3", "4"]
    assert drawing.y_ticks[0].at == drawing.bottom and drawing.y_ticks[-1].at == drawing.top
    busiest, before = drawing.bars[-1], drawing.bars[-2]
    assert len(drawing.bars) == 2  # empty hours draw no bar
    assert (busiest.y, busiest.height) == (drawing.top, drawing.bottom - drawing.top)
    assert before.height == (drawing.bottom - drawing.top) / 2
    assert busiest.title == "23:00 — 4件"  # 14:00 UTC is 23:00 in Japan
    # The median (20 minutes) on its own axis, whose top is 20.
    assert [t.label for t in drawing.y2_ticks] == ["0", "5", "10", "15", "20"]
    assert drawing.line.endswith(f",{drawing.top}") and len(drawing.line.split()) == 1
    # Every third hour is labelled, the newest one included.
    assert [t.label for t in drawing.x_ticks][-2:] == ["20:00", "23:00"]
    assert len(drawing.x_ticks) == 8
    assert (drawing.y_title, drawing.y2_title) == ("届いた件数", "分")


def test_the_minute_buckets_cover_the_last_hour() -> None:
    now = NOW + timedelta(seconds=45)  # 14:30:45
    created = [
        datetime(2026, 11, 26, 14, 30, 15, tzinfo=UTC),
        datetime(2026, 11, 26, 14, 29, 59, tzinfo=UTC),
        datetime(2026, 11, 26, 13, 30, 59, tzinfo=UTC),  # the minute before the first
    ]
    decided = [
        (datetime(2026, 11, 26, 14, 27, tzinfo=UTC), datetime(2026, 11, 26, 14, 29, 40, tzinfo=UTC))
    ]
    minutes = by_minute(created, decided, now)
    assert len(minutes) == 60
    assert minutes[-1].start == datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
    assert minutes[0].start == datetime(2026, 11, 26, 13, 31, tzinfo=UTC)
    assert (minutes[-1].created, minutes[-1].decided) == (1, 0)
    assert (minutes[-2].created, minutes[-2].decided) == (1, 1)
    assert minutes[-2].median_minutes == pytest.approx(2 + 40 / 60)
    assert sum(m.created for m in minutes) == 2


def test_axis_scales_are_one_two_or_five_times_a_power_of_ten() -> None:
    assert nice_scale(0) == (1, 1)
    assert nice_scale(7) == (8, 2)
    assert nice_scale(13) == (15, 5)
    assert nice_scale(230) == (300, 100)
    assert label_step(60) == 10 and label_step(24) == 3 and label_step(5) == 1


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
    assert len(stats["minutes"]) == 60
    assert sum(m["created"] for m in stats["minutes"]) == 2


ROW = re.compile(r'<tr><th scope="row">(\d\d:\d\d)</th><td>(\d+)</td><td>(\d+)</td>')


@pytest.mark.asyncio
async def test_the_queue_page_switches_buckets_and_tables_the_numbers_of_its_chart(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    await new_thread(client, alice, title="一つ目")
    await new_thread(client, alice, title="二つ目")
    first = (await queue(client, admin))[0]
    await decide(client, admin, first, "approve")
    await sign_in(client, admin)

    hourly_page = await client.get("/moderation")
    assert "直近24時間（1時間ごと）" in hourly_page.text
    rows = ROW.findall(hourly_page.text)
    assert len(rows) == 24
    assert sum(int(created) for _t, created, _d in rows) == 2
    assert sum(int(decided) for _t, _c, decided in rows) == 1
    assert rows[-1][0].endswith(":00")
    assert 'href="/moderation?chart=hour#mod-chart" aria-current="true"' in hourly_page.text
    # The chart carries the same count on its tallest bar, and axes with labels.
    assert "<title>" + rows[-1][0] + " — 2件</title>" in hourly_page.text
    assert (
        'class="chart-axis-title"' in hourly_page.text and 'class="chart-tick"' in hourly_page.text
    )

    minute_page = await client.get("/moderation", params={"chart": "minute"})
    assert "直近1時間（1分ごと）" in minute_page.text
    rows = ROW.findall(minute_page.text)
    assert len(rows) == 60
    assert sum(int(created) for _t, created, _d in rows) == 2
    assert 'href="/moderation?chart=minute#mod-chart" aria-current="true"' in minute_page.text
    # A decision made from this view comes back to it.
    assert 'name="next" value="/moderation?chart=minute"' in minute_page.text

    wrong = await client.get("/moderation", params={"chart": "day"})
    assert wrong.status_code == 400
