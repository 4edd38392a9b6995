"""The live Q&A flow end to end with several WebSocket viewers: one process on the suite's
database and broker, and two `koryu serve` processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest

from forum.app import create_app
from forum.config import Settings
from forum.models import Role
from tests.conftest import POSTGRES_URL, REDIS_URL, _empty_postgres, make_member
from tests.forum.scaleout_support import ORIGIN as SCALEOUT_ORIGIN
from tests.forum.scaleout_support import api, createuser, koryu_servers
from tests.live.qa_flow import Endpoint, run_flow
from tests.realtime.support import serve

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"


async def test_ask_hold_approve_assign_answer_reaches_every_viewer_in_one_process(
    settings: Settings,
) -> None:
    app = create_app(replace(settings, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:
            admin = await make_member(username="admin-sato", role=Role.ADMIN)
            here = Endpoint(http, url, ORIGIN)
            await run_flow(here, here, admin.headers)


_SEP = "&" if "?" in REDIS_URL else "?"


@pytest.mark.slow
@pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="needs PostgreSQL and Redis: set KORYU_TEST_DATABASE_URL and KORYU_TEST_REDIS_URL",
)
async def test_the_flow_holds_across_two_processes_on_postgresql_and_redis(
    postgres_migrated: str, tmp_path: Path
) -> None:
    await _empty_postgres(postgres_migrated)
    await asyncio.to_thread(createuser, postgres_migrated, tmp_path)
    broker = f"{REDIS_URL}{_SEP}channel=koryu:test:{uuid.uuid4().hex}"
    async with koryu_servers(["qa-a", "qa-b"], postgres_migrated, broker, tmp_path) as servers:
        first, second = servers
        async with api(first) as on_a, api(second) as on_b:
            await on_a.login()
            a = Endpoint(on_a.client, first.ws_url, SCALEOUT_ORIGIN)
            b = Endpoint(on_b.client, second.ws_url, SCALEOUT_ORIGIN)
            await run_flow(a, b, on_a.headers)
