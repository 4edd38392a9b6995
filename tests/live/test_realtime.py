"""A session's channel end to end: a real server, real sockets, the real outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx2
import pytest

from forum import events
from forum.app import create_app
from forum.config import Settings
from forum.events import SessionChanged
from forum.models import Role
from tests.conftest import make_member
from tests.live.support import T0, new_session
from tests.moderation.support import board_staff, new_board
from tests.realtime.support import Frame, open_ws, recv, serve, subscribe

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"
SESSION_KEYS = tuple(SessionChanged.__annotations__)


def fold_session(session: dict[str, Any], frame: Frame) -> None:
    """A client's fold of session events into its copy of the session."""
    if frame["name"] != "session.updated":
        raise AssertionError(f"unexpected event {frame['name']}")
    session.update({k: v for k, v in frame["data"].items() if k not in {"id", "thread_id"}})


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, httpx2.AsyncClient]]:
    app = create_app(replace(settings, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as api:
            yield url, api


async def test_a_session_channel_state_at_seq_n_plus_the_events_after_n_equals_a_fresh_fetch(
    served: tuple[str, httpx2.AsyncClient],
) -> None:
    url, api = served
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    await new_board(api, admin, "kankei")
    organiser = await board_staff(api, admin, "kankei", username="org-kankei")
    created = await new_session(api, organiser, starts_at=T0 + timedelta(days=3650))
    path = f"/api/v1/sessions/{created['id']}"
    snapshot = (await api.get(path)).json()
    ws = await open_ws(url, origin=ORIGIN)
    channel = events.session_channel(created["id"])
    subscribed = await subscribe(ws, channel, after=snapshot["seq"])
    assert subscribed["seq"] == snapshot["seq"]

    await api.patch(path, json={"slow_mode_seconds": 10}, headers=organiser.headers)
    await api.post(f"{path}/start", headers=organiser.headers)
    await api.post(f"{path}/end", headers=organiser.headers)

    fresh = (await api.get(path)).json()
    for _ in range(fresh["seq"] - snapshot["seq"]):
        frame = await recv(ws)
        assert frame["type"] == "event", frame
        fold_session(snapshot, frame)
    assert fresh["state"] == "ended"
    for key in SESSION_KEYS:
        if key not in {"id", "thread_id"}:
            assert snapshot[key] == fresh[key], key
    await ws.close()


async def test_a_private_boards_session_channel_is_refused_to_outsiders(
    served: tuple[str, httpx2.AsyncClient],
) -> None:
    url, api = served
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    await new_board(api, admin, "naibu", private=True)
    organiser = await board_staff(api, admin, "naibu", username="org-naibu")
    created = await new_session(api, organiser, board="naibu")
    ws = await open_ws(url, origin=ORIGIN)
    refused = await subscribe(ws, events.session_channel(created["id"]))
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    missing = await subscribe(ws, events.session_channel(99999))
    assert missing["type"] == "error"
    await ws.close()
