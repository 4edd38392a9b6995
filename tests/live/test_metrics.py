"""A live session's moderation figures: waiting questions, decisions per minute, time to
approval — on known data with fixed timestamps, for the moderators of its board only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from live.models import LiveSession, SessionState
from moderation.models import QueueItem
from tests.conftest import Member
from tests.live.support import setup_board
from tests.live.test_queue_scope import ask, live
from tests.moderation.support import board_staff, new_board, queue
from tests.moderation.test_pages import sign_in

pytestmark = pytest.mark.asyncio

START = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 13:00 in Tokyo


def at(minutes: int, seconds: float = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


# (asked, decided, decision): decided None is still waiting. The last one was decided before
# the session went live and is left out.
PLAN: list[tuple[datetime, datetime | None, str | None]] = [
    (at(0, 10.25), at(0, 40.75), "approve"),  # 30.5 s, minute 0
    (at(0, 20), at(1, 20), "approve"),  # 60 s, minute 1
    (at(1, 0), at(1, 50), "approve"),  # 50 s, minute 1
    (at(2, 0), at(2, 30), "reject"),  # minute 2
    (at(2, 10), at(4, 10), "approve"),  # 120 s, minute 4
    (at(3, 0), None, None),  # waiting
    (at(-10), at(-5), "approve"),  # before the window
]


async def staged(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> tuple[Member, dict[str, Any]]:
    """A session that ran 04:00–04:05 UTC with PLAN's questions, stamped as planned."""
    organiser = await setup_board(client, admin)
    session = await live(client, organiser, "全国フォーラム 質疑")
    posts = [await ask(client, alice, session, f"質問 {n}") for n in range(len(PLAN))]
    items = {i["post"]["id"]: i for i in await queue(client, organiser)}
    for post_id, (asked, decided, decision) in zip(posts, PLAN, strict=True):
        item = items[post_id]
        if decision is not None:
            response = await client.post(
                "/api/v1/moderation/items/bulk",
                json={
                    "items": [{"id": item["id"], "version": item["version"]}],
                    "decision": decision,
                },
                headers=organiser.headers,
            )
            assert response.json()["decided"] == 1
        await QueueItem.filter(id=item["id"]).update(created_at=asked, decided_at=decided)
    await LiveSession.filter(id=session["id"]).update(
        state=SessionState.ENDED, started_at=START, ended_at=at(5)
    )
    return organiser, session


async def test_the_metrics_count_each_minute_and_rank_the_waits_to_approval(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser, session = await staged(client, admin, alice)
    response = await client.get(
        f"/api/v1/sessions/{session['id']}/metrics", headers=organiser.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"] == "2026-12-01T04:00:00Z" or body["from"].startswith("2026-12-01T04:00")
    assert body["waiting"] == 1
    assert (body["approved"], body["rejected"]) == (4, 1), body["minutes"]
    assert [(m["approved"], m["rejected"]) for m in body["minutes"]] == [
        (1, 0),
        (2, 0),
        (0, 1),
        (0, 0),
        (1, 0),
    ]
    # Waits 30.5, 50, 60 and 120 s: the median is the mean of the middle two, p90 the
    # nearest rank (the 4th of 4).
    assert body["median_seconds"] == 55.0
    assert body["p90_seconds"] == 120.0


async def test_the_metrics_are_for_the_boards_moderators_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _organiser, session = await staged(client, admin, alice)
    path = f"/api/v1/sessions/{session['id']}/metrics"
    assert (await client.get(path, headers=alice.headers)).status_code == 403
    assert (await client.get(path)).status_code == 401
    await new_board(client, admin, "chiiki")
    elsewhere = await board_staff(client, admin, "chiiki", username="mod-chiiki")
    assert (await client.get(path, headers=elsewhere.headers)).status_code == 403
    expert = await board_staff(client, admin, "kankei", username="expert-ono", role="expert")
    assert (await client.get(path, headers=expert.headers)).status_code == 200


async def test_the_session_page_shows_the_figures_to_moderators_and_hides_them_from_others(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser, session = await staged(client, admin, alice)
    await sign_in(client, organiser)
    page = (await client.get(f"/sessions/{session['id']}")).text
    assert 'id="metrics-heading"' in page
    assert 'id="metric-waiting">1件<' in page
    assert "55秒" in page and "2分0秒" in page  # median and p90
    assert f'href="/moderation?session={session["id"]}"' in page
    # The table under the chart holds the same numbers, a row per minute, in Japan time.
    assert '<th scope="row">13:01</th><td>2</td><td>0</td>' in page
    await sign_in(client, alice)
    page = (await client.get(f"/sessions/{session['id']}")).text
    assert 'id="metrics-heading"' not in page and "metric-waiting" not in page
