"""Notices reach every open page of their user at once: two tabs, two sockets."""

from __future__ import annotations

from dataclasses import replace

import httpx2
import pytest

from forum import events
from forum.app import create_app
from forum.config import Settings
from forum.models import Role
from tests.conftest import make_member
from tests.realtime.support import open_ws, recv, serve, subscribe

pytestmark = pytest.mark.asyncio

ORIGIN = "http://127.0.0.1:8000"


async def test_a_mention_and_marking_read_reach_both_tabs_of_the_user(settings: Settings) -> None:
    app = create_app(replace(settings, posts_per_minute=1000))
    async with serve(app) as url:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as api:
            admin = await make_member(username="admin-sato", role=Role.ADMIN)
            alice = await make_member(username="sato-town")
            bob = await make_member(username="bob")
            board = {"slug": "kankei", "title": "関係人口"}
            assert (await api.post("/api/v1/boards", json=board, headers=admin.headers)).is_success
            created = await api.post(
                "/api/v1/boards/kankei/threads",
                json={"title": "移住相談", "body": "はじめます"},
                headers=admin.headers,
            )
            thread_id = created.json()["thread"]["id"]
            channel = events.user_channel(alice.user.id)
            tabs = [
                await open_ws(url, origin=ORIGIN, additional_headers=alice.headers)
                for _ in range(2)
            ]
            for tab in tabs:
                assert (await subscribe(tab, channel))["type"] == "subscribed"
            posted = await api.post(
                f"/api/v1/threads/{thread_id}/posts",
                json={"body": "@sato-townさん、資料をお願いします"},
                headers=bob.headers,
            )
            assert posted.status_code == 201
            for tab in tabs:
                frame = await recv(tab)
                assert (frame["channel"], frame["name"]) == (channel, "notification.created")
                assert frame["data"]["kind"] == "mentioned"
                assert frame["data"]["post_id"] == posted.json()["id"]
            read = await api.post("/api/v1/notifications/read", headers=alice.headers)
            assert read.json() == {"read": 1, "unread": 0}
            for tab in tabs:
                frame = await recv(tab)
                assert (frame["name"], frame["data"]) == ("notification.read", {"unread": 0})
            for tab in tabs:
                await tab.close()


async def test_another_users_channel_cannot_be_followed(settings: Settings) -> None:
    app = create_app(settings)
    async with serve(app) as url:
        alice = await make_member(username="alice")
        bob = await make_member(username="bob")
        tab = await open_ws(url, origin=ORIGIN, additional_headers=bob.headers)
        answer = await subscribe(tab, events.user_channel(alice.user.id))
        assert (answer["type"], answer["code"]) == ("error", "forbidden")
        await tab.close()
