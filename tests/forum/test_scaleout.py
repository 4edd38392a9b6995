"""Several real `koryu serve` processes sharing PostgreSQL and Redis, as in production.

Needs KORYU_TEST_DATABASE_URL and KORYU_TEST_REDIS_URL; without them these tests skip,
with them a service that is down fails. The Redis outage test runs a redis-server of
its own (the machine's Redis is never stopped). `--workers 2` refusing memory:// is
covered in tests/forum/test_cli.py.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.forum.scaleout_support import (
    BROKER_URL,
    ORIGIN,
    PASSWORD,
    Follower,
    RedisServer,
    api,
    followers,
    koryu_servers,
)
from tests.realtime.support import open_ws, recv, send, subscribe

pytestmark = [
    pytest.mark.slow,
    pytest.mark.asyncio,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="needs PostgreSQL: set KORYU_TEST_DATABASE_URL to run"
    ),
]
needs_redis = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="needs PostgreSQL and Redis: set KORYU_TEST_DATABASE_URL and KORYU_TEST_REDIS_URL",
)


@pytest.fixture
def redis_server_binary() -> str:
    """A redis-server of the test's own can be stopped; the machine's Redis must not be."""
    binary = shutil.which("redis-server")
    if binary is None:
        if REDIS_URL:
            pytest.fail("KORYU_TEST_REDIS_URL is set but the redis-server binary is missing")
        pytest.skip("needs the redis-server binary (or set KORYU_TEST_REDIS_URL to require it)")
    return binary


def assert_every_post_once_in_order(viewer: Follower, made: list[dict[str, object]]) -> None:
    assert viewer.others == [], viewer.others
    assert viewer.seqs == list(range(viewer.after + 1, viewer.after + len(viewer.seqs) + 1))
    assert viewer.post_ids == [post["id"] for post in made]


@needs_redis
async def test_a_viewer_on_one_process_sees_posts_made_through_another_in_seq_order(
    shared_db: str, tmp_path: Path
) -> None:
    async with koryu_servers(["a", "b"], shared_db, BROKER_URL, tmp_path) as (a, b):
        async with api(b) as via_b:
            await via_b.login()
            thread = await via_b.thread()
            channel = f"thread:{thread['id']}"
            async with followers(2, channel, thread["seq"], a.ws_url) as viewers:
                made = [await via_b.post(thread["id"], f"Bからの投稿{i}") for i in range(10)]
                await asyncio.gather(*(v.read(len(made), seconds=15) for v in viewers))
        for viewer in viewers:
            assert_every_post_once_in_order(viewer, made)


@needs_redis
async def test_viewers_of_a_killed_process_resume_on_the_other_and_miss_nothing(
    shared_db: str, tmp_path: Path
) -> None:
    total, after_kill, while_away = 40, 15, 5
    async with koryu_servers(["a", "b"], shared_db, BROKER_URL, tmp_path) as (a, b):
        async with api(b) as via_b:
            await via_b.login()
            thread = await via_b.thread()
            channel = f"thread:{thread['id']}"
            made: list[dict[str, object]] = []
            killed, resume = asyncio.Event(), asyncio.Event()
            async with followers(3, channel, thread["seq"], a.ws_url) as viewers:

                async def poster() -> None:
                    for i in range(total):
                        if i == total - after_kill:
                            # The kill happens while posts flow; at least these come after it.
                            async with asyncio.timeout(15):
                                await killed.wait()
                        if i == total - after_kill + while_away:
                            # The viewers' backoff ends: these last posts race their resubscribe.
                            resume.set()
                        made.append(await via_b.post(thread["id"], f"投稿{i}"))
                        await asyncio.sleep(0.02)

                async def killer() -> None:
                    async with asyncio.timeout(15):
                        for _ in range(1500):
                            if all(len(v.post_ids) >= 3 for v in viewers):
                                break
                            await asyncio.sleep(0.01)
                    a.kill()
                    killed.set()

                await asyncio.gather(
                    poster(),
                    killer(),
                    *(v.read(total, seconds=30, fallback=b.ws_url, resume=resume) for v in viewers),
                )
        assert a.popen.returncode == -9
        for viewer in viewers:
            assert viewer.servers == [a.ws_url, b.ws_url]
            assert_every_post_once_in_order(viewer, made)


async def test_posts_commit_while_redis_is_down_and_viewers_catch_up_after_it_returns(
    redis_server_binary: str, shared_db: str, tmp_path: Path
) -> None:
    redis = RedisServer(redis_server_binary, tmp_path)
    await redis.start()
    try:
        async with (
            koryu_servers(["a", "b"], shared_db, redis.url, tmp_path) as (a, b),
            api(a) as via_a,
            api(b) as via_b,
        ):
            await via_a.login()
            via_b.token = via_a.token
            thread = await via_a.thread()
            tid, channel = thread["id"], f"thread:{thread['id']}"
            async with (
                followers(1, channel, thread["seq"], a.ws_url) as on_a,
                followers(1, channel, thread["seq"], b.ws_url) as on_b,
            ):
                viewers = [*on_a, *on_b]
                made = [await via_a.post(tid, "前"), await via_b.post(tid, "前2")]
                await asyncio.gather(*(v.read(len(made), seconds=10) for v in viewers))

                redis.kill()
                async with asyncio.timeout(20):
                    for via in (via_a, via_b, via_a, via_b):
                        made.append(await via.post(tid, "Redis停止中の投稿"))
                health = await via_b.client.get("/healthz")
                # Degraded, not down: the process still serves and takes posts.
                assert (health.status_code, health.json()["status"]) == (200, "degraded")
                assert health.json()["broker"] == "unavailable"

                await redis.start()
                # Nothing more is published yet: only the resubscribed hubs, reading the
                # events table, can bring the posts made during the outage.
                await asyncio.gather(*(v.read(len(made), seconds=20) for v in viewers))
                await asyncio.gather(a.ready(20), b.ready(20))
                made.append(await via_b.post(tid, "復旧後の投稿"))
                await asyncio.gather(*(v.read(len(made), seconds=10) for v in viewers))
            for viewer in viewers:
                assert_every_post_once_in_order(viewer, made)
    finally:
        redis.stop()


@needs_redis
async def test_access_withdrawn_through_one_process_reaches_a_socket_on_another_at_once(
    shared_db: str, tmp_path: Path
) -> None:
    async with (
        koryu_servers(["a", "b"], shared_db, BROKER_URL, tmp_path) as (a, b),
        api(a) as via_a,
    ):
        await via_a.login()
        thread = await via_a.thread()
        bob = {"username": "bob", "password": PASSWORD, "display_name": "ボブ"}
        made = await via_a.client.post("/api/v1/users", json=bob)
        assert made.status_code == 201, made.text
        login = {"username": "bob", "password": PASSWORD}
        token = (await via_a.client.post("/api/v1/tokens", json=login)).json()["token"]
        staff = "/api/v1/boards/kankei/moderators/bob"
        added = await via_a.client.put(staff, json={"role": "moderator"}, headers=via_a.headers)
        assert added.status_code in {200, 201}, added.text

        ws = await open_ws(
            b.ws_url, origin=ORIGIN, additional_headers={"Authorization": f"Bearer {token}"}
        )
        try:
            assert (await subscribe(ws, "moderation:kankei"))["type"] == "subscribed"
            channel = f"thread:{thread['id']}"
            assert (await subscribe(ws, channel, after=thread["seq"]))["type"] == "subscribed"

            removed = await via_a.client.delete(staff, headers=via_a.headers)
            assert removed.status_code == 204
            dropped = await recv(ws)
            assert (dropped["type"], dropped["code"], dropped["channel"]) == (
                "error",
                "forbidden",
                "moderation:kankei",
            )
            await send(ws, {"type": "ping"})
            assert await recv(ws) == {"type": "pong"}

            suspended = await via_a.client.post(
                "/api/v1/moderation/users/bob/sanctions",
                json={"kind": "suspend", "hours": 1},
                headers=via_a.headers,
            )
            assert suspended.status_code == 200, suspended.text
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        frame = await recv(ws)
                        assert frame["type"] == "presence", frame
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        finally:
            await ws.close()


@needs_redis
async def test_a_login_remembered_by_one_process_is_refused_there_after_a_change_through_another(
    shared_db: str, tmp_path: Path
) -> None:
    """forum.logins: process B serves bob from memory; an access change made through
    process A reaches B before A answers, so B refuses bob's very next request."""
    async with (
        koryu_servers(["a", "b"], shared_db, BROKER_URL, tmp_path) as (a, b),
        api(a) as via_a,
        api(b) as via_b,
    ):
        await via_a.login()
        await via_a.thread()
        for name in ("bob", "carol"):
            person = {"username": name, "password": PASSWORD, "display_name": name}
            made = await via_a.client.post("/api/v1/users", json=person)
            assert made.status_code == 201, made.text

        async def token_of(name: str) -> dict[str, str]:
            login = {"username": name, "password": PASSWORD}
            answer = await via_a.client.post("/api/v1/tokens", json=login)
            assert answer.status_code == 201, answer.text
            return {"Authorization": f"Bearer {answer.json()['token']}"}

        async def status_on_b(path: str, headers: dict[str, str]) -> int:
            return (await via_b.client.get(path, headers=headers)).status_code

        bob, carol = await token_of("bob"), await token_of("carol")
        staff = "/api/v1/boards/kankei/moderators/bob"
        added = await via_a.client.put(staff, json={"role": "moderator"}, headers=via_a.headers)
        assert added.status_code in {200, 201}, added.text
        queue = "/api/v1/moderation/queue?board=kankei"
        for _ in range(3):  # remembered by B
            assert await status_on_b(queue, bob) == 200
        removed = await via_a.client.delete(staff, headers=via_a.headers)
        assert removed.status_code == 204
        assert await status_on_b(queue, bob) == 403

        for _ in range(3):
            assert await status_on_b("/api/v1/me", bob) == 200
        suspended = await via_a.client.post(
            "/api/v1/moderation/users/bob/sanctions",
            json={"kind": "suspend", "hours": 1},
            headers=via_a.headers,
        )
        assert suspended.status_code == 200, suspended.text
        assert await status_on_b("/api/v1/me", bob) == 401

        for _ in range(3):
            assert await status_on_b("/api/v1/me", carol) == 200
        tokens = (await via_a.client.get("/api/v1/tokens", headers=carol)).json()
        token_id = tokens["items"][0]["id"]
        revoked = await via_a.client.delete(f"/api/v1/tokens/{token_id}", headers=carol)
        assert revoked.status_code == 204, revoked.text
        assert await status_on_b("/api/v1/me", carol) == 401
