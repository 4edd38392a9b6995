"""A broker that hangs or stops: posting answers at once, the posting process's viewers stay
live, /healthz says degraded, and other processes catch up once it is back.

The process tests run real `koryu serve` processes on a redis-server of the test's own
(never the machine's): they need KORYU_TEST_REDIS_URL, which says Redis tests are wanted.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from forum.app import create_app
from forum.config import Settings
from forum.models import Role
from realtime import Event, Hub
from tests.conftest import REDIS_URL, make_member
from tests.forum.scaleout_support import (
    Follower,
    RedisServer,
    api,
    createuser,
    followers,
    koryu_servers,
)
from tests.realtime.support import open_ws, recv, serve, subscribe

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"


class Frozen:
    """Stands in for a broker's publish and health check that never answer."""

    def __init__(self) -> None:
        self.thawed = asyncio.Event()

    async def publish(self, event: Event) -> None:
        await self.thawed.wait()

    async def healthy(self) -> bool:
        await self.thawed.wait()
        return True


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[Starlette, str, httpx2.AsyncClient]]:
    app = create_app(replace(settings, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, url, client


async def test_with_the_broker_hanging_a_post_answers_at_once_and_healthz_says_degraded(
    served: tuple[Starlette, str, httpx2.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url, client = served
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    board = {"slug": "kankei", "title": "関係人口"}
    assert (await client.post("/api/v1/boards", json=board, headers=admin.headers)).is_success
    made = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "ライブQ&A", "body": "はじめます"},
        headers=admin.headers,
    )
    thread = made.json()["thread"]
    ws = await open_ws(url, origin=ORIGIN)
    await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    hub: Hub = app.state.hub
    frozen = Frozen()
    monkeypatch.setattr(hub.broker, "publish", frozen.publish)
    monkeypatch.setattr(hub.broker, "healthy", frozen.healthy)

    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.post(
        f"/api/v1/threads/{thread['id']}/posts",
        json={"body": "凍結中の質問"},
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert loop.time() - started < 0.5
    frame = await recv(ws)
    assert (frame["type"], frame["seq"], frame["data"]["id"]) == (
        "event",
        thread["seq"] + 1,
        response.json()["id"],
    )

    async def health() -> tuple[int, dict[str, Any]]:
        async with asyncio.timeout(0.5):  # a frozen broker does not hold up /healthz
            answer = await client.get("/healthz")
        return answer.status_code, answer.json()

    for _ in range(60):
        if (await health())[1]["status"] != "ok":
            break
        await asyncio.sleep(0.1)
    assert await health() == (
        200,
        {"status": "degraded", "database": "ok", "broker": "unavailable"},
    )

    frozen.thawed.set()
    for _ in range(60):
        if (await health())[1]["status"] == "ok":
            break
        await asyncio.sleep(0.1)
    assert await health() == (200, {"status": "ok", "database": "ok", "broker": "ok"})
    await ws.close()


# --- real processes, real Redis ---------------------------------------------------------

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("KORYU_TEST_REDIS_URL is set but the redis-server binary is missing")
    server = RedisServer(binary, tmp_path)
    await server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.alive:
            server.process.popen.send_signal(signal.SIGCONT)
        server.stop()


def assert_every_post_once_in_order(viewer: Follower, made: list[dict[str, Any]]) -> None:
    assert viewer.others == [], viewer.others
    assert viewer.seqs == list(range(viewer.after + 1, viewer.after + len(viewer.seqs) + 1))
    assert viewer.post_ids == [post["id"] for post in made]


@needs_redis
async def test_while_redis_is_frozen_posts_answer_at_once_and_every_viewer_gets_each_once(
    database_url: str, redis: RedisServer, tmp_path: Path
) -> None:
    await asyncio.to_thread(createuser, database_url, tmp_path)
    broker_url = f"{redis.url}?channel=koryu:test:{uuid.uuid4().hex}"
    async with (
        koryu_servers(["a", "b"], database_url, broker_url, tmp_path) as (a, b),
        api(a) as via_a,
    ):
        await via_a.login()
        thread = await via_a.thread()
        tid, channel = thread["id"], f"thread:{thread['id']}"
        async with (
            followers(1, channel, thread["seq"], a.ws_url) as on_a,
            followers(1, channel, thread["seq"], b.ws_url) as on_b,
        ):
            made = [await via_a.post(tid, f"通常の投稿{i}") for i in range(3)]
            await asyncio.gather(*(v.read(len(made), seconds=10) for v in (*on_a, *on_b)))

            assert redis.process is not None
            redis.process.popen.send_signal(signal.SIGSTOP)
            loop = asyncio.get_running_loop()
            for i in range(5):
                started = loop.time()
                made.append(await via_a.post(tid, f"Redis凍結中の投稿{i}"))
                # Before, each of these waited for publish to time out: 2 to 4 s.
                assert loop.time() - started < 1.0
            # The posting process's own viewer gets them live, Redis still frozen.
            await on_a[0].read(len(made), seconds=3)
            for _ in range(50):
                health = await via_a.client.get("/healthz")
                if health.json()["status"] != "ok":
                    break
                await asyncio.sleep(0.1)
            assert (health.status_code, health.json()["status"]) == (200, "degraded")
            assert len(on_b[0].post_ids) == 3

            redis.process.popen.send_signal(signal.SIGCONT)
            await on_b[0].read(len(made), seconds=20)
            made.append(await via_a.post(tid, "復旧後の投稿"))
            await asyncio.gather(*(v.read(len(made), seconds=10) for v in (*on_a, *on_b)))
            for viewer in (*on_a, *on_b):
                assert_every_post_once_in_order(viewer, made)
