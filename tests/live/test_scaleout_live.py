"""A session goes live through one `koryu serve` process and the viewers of another see it at
once, without reloading: PostgreSQL and Redis shared, as in production."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.forum.scaleout_support import (
    BROKER_URL,
    ORIGIN,
    api,
    koryu_servers,
)
from tests.realtime.support import open_ws, recv, subscribe

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="needs PostgreSQL and Redis: set KORYU_TEST_DATABASE_URL and KORYU_TEST_REDIS_URL",
    ),
]


async def test_a_session_started_on_one_process_goes_live_for_viewers_of_another(
    shared_db: str, tmp_path: Path
) -> None:
    async with (
        koryu_servers(["a", "b"], shared_db, BROKER_URL, tmp_path) as (a, b),
        api(a) as via_a,
    ):
        await via_a.login()
        board = {"slug": "forum", "title": "全国フォーラム", "moderation": "open"}
        made = await via_a.client.post("/api/v1/boards", json=board, headers=via_a.headers)
        assert made.status_code == 201, made.text
        starts = datetime.now(UTC) + timedelta(days=1)
        session = await via_a.client.post(
            "/api/v1/sessions",
            json={
                "title": "全国フォーラム 全体会",
                "kind": "forum",
                "board": "forum",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
            },
            headers=via_a.headers,
        )
        assert session.status_code == 201, session.text
        s = session.json()
        assert s["state"] == "scheduled" and s["thread"]["live"] is False

        viewer = await open_ws(b.ws_url, origin=ORIGIN)  # anonymous, as the audience is
        try:
            on_session = await subscribe(viewer, f"session:{s['id']}", after=s["seq"])
            on_thread = await subscribe(viewer, f"thread:{s['thread']['id']}", s["thread"]["seq"])
            assert on_session["type"] == on_thread["type"] == "subscribed"

            started = await via_a.client.post(
                f"/api/v1/sessions/{s['id']}/start", headers=via_a.headers
            )
            assert started.status_code == 200, started.text
            seen: dict[str, dict[str, object]] = {}
            async with asyncio.timeout(10):
                while len(seen) < 2:
                    frame = await recv(viewer)
                    assert frame["type"] == "event", frame
                    seen[frame["name"]] = frame["data"]
            assert seen["session.updated"]["state"] == "live"
            assert seen["thread.updated"]["live"] is True

            # The first question reaches the same viewer through the other process too.
            asked = await via_a.client.post(
                f"/api/v1/threads/{s['thread']['id']}/posts",
                json={"body": "関係人口の数え方を教えてください。", "kind": "question"},
                headers=via_a.headers,
            )
            assert asked.status_code == 201, asked.text
            frame = await recv(viewer)
            assert (frame["name"], frame["data"]["id"]) == ("post.created", asked.json()["id"])
        finally:
            await viewer.close()
