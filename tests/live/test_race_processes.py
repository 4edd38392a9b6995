"""Two processes tick at the same instant on one PostgreSQL database: one transition, one event."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx2
import pytest

from forum import events
from forum.config import Settings
from live.models import LiveSession, SessionState
from tests.conftest import Member
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import event_names

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# Each process connects, says "ready", waits for "go" on stdin, ticks once and prints how
# many sessions it moved: both tick at the same moment, each on its own connection.
TICKER = """
import asyncio, sys
from datetime import datetime
from tortoise import Tortoise
from forum.config import tortoise_config
from live import transitions

async def main() -> None:
    await Tortoise.init(config=tortoise_config(sys.argv[1]))
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        moved = await transitions.tick(datetime.fromisoformat(sys.argv[2]))
        print(len(moved), flush=True)
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""


async def test_two_processes_ticking_at_once_make_one_transition_and_one_event(
    client: httpx2.AsyncClient, admin: Member, settings: Settings
) -> None:
    if not settings.database_url.startswith("postgres"):
        pytest.skip("two processes racing need PostgreSQL: set KORYU_TEST_DATABASE_URL")
    organiser = await setup_board(client, admin)
    sessions = [await new_session(client, organiser) for _ in range(3)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            TICKER,
            settings.database_url,
            T0.isoformat(),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    moved = []
    for proc in procs:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0
        moved.append(int(out.strip()))
    assert sum(moved) == len(sessions)
    for session in sessions:
        assert (await LiveSession.get(id=session["id"])).state is SessionState.LIVE
        names = await event_names(events.session_channel(session["id"]))
        assert names == ["session.updated", "session.updated"]  # created, then live once
