"""Handshakes, presence and idle connections on a real uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime import Hub, MemoryBroker
from realtime.rawsocket import SCOPE_KEY, raw_socket
from tests.realtime.conftest import BrokerFactory
from tests.realtime.support import (
    Store,
    assert_quiet,
    eventually,
    make_app,
    open_ws,
    recv,
    running,
    serve,
    subscribe,
)


@pytest.mark.parametrize(
    ("options", "user"),
    [
        ({"origin": "https://evil.example"}, ""),
        ({"origin": "http://koryu.test.evil.example"}, ""),
        ({"origin": None}, ""),
        ({"origin": None, "additional_headers": {"Authorization": "Basic x"}}, ""),
        ({}, "nobody"),
    ],
    ids=["cross-origin", "lookalike-origin", "no-origin", "no-bearer", "unauthenticated"],
)
async def test_handshakes_are_refused_before_accept(options: dict[str, Any], user: str) -> None:
    store = Store()
    async with running(store, MemoryBroker()) as url:
        with pytest.raises(InvalidStatus) as refused:
            await open_ws(url, user=user, **options)
        assert refused.value.response.status_code == 403


async def test_scripts_without_origin_may_connect_with_a_bearer_token() -> None:
    async with running(Store(), MemoryBroker()) as url:
        ws = await open_ws(url, origin=None, additional_headers={"Authorization": "Bearer abc"})
        await assert_quiet(ws)
        await ws.close()


async def test_presence_counts_viewers_on_every_server(broker_factory: BrokerFactory) -> None:
    store, fast = Store(), {"presence_interval": 0.05}
    async with (
        running(store, broker_factory(), hub=fast) as first_url,
        running(store, broker_factory(), hub=fast) as second_url,
    ):
        here, there = await open_ws(first_url), await open_ws(second_url)
        await subscribe(here, "session:1")
        await subscribe(there, "session:1")

        await presence_reaches(here, "session:1", 2)
        await presence_reaches(there, "session:1", 2)
        await there.close()
        await presence_reaches(here, "session:1", 1)
        await here.close()


async def presence_reaches(ws: ClientConnection, channel: str, viewers: int) -> None:
    for _ in range(100):
        frame = await recv(ws, skip=())
        if frame == {"type": "presence", "channel": channel, "viewers": viewers}:
            return
    raise AssertionError(f"{channel} never showed {viewers} viewers")


async def test_a_client_that_sends_nothing_is_closed_as_idle() -> None:
    async with running(Store(), MemoryBroker(), idle_timeout=0.2) as url:
        ws = await open_ws(url)
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_a_socket_that_dies_without_a_close_leaves_every_channel() -> None:
    store = Store()
    hub = Hub(MemoryBroker(), replay=store.replay, presence_interval=0.05)
    async with serve(make_app(hub)) as url:
        here, gone = await open_ws(url), await open_ws(url)
        for channel in ("thread:1", "board:kanto"):
            await subscribe(here, channel)
            await subscribe(gone, channel)
        await presence_reaches(here, "thread:1", 2)

        gone.transport.abort()

        await presence_reaches(here, "thread:1", 1)
        await eventually(lambda: hub.viewers("board:kanto") == 1)
        await here.close()
        await eventually(lambda: hub.channels() == [])


async def test_raw_writes_are_refused_for_any_send_but_uvicorns_own() -> None:
    async def send(message: object) -> None:
        return None

    assert raw_socket({"type": "websocket"}) is None
    assert raw_socket({"type": "websocket", SCOPE_KEY: send}) is None
    assert raw_socket({"type": "websocket", SCOPE_KEY: print}) is None
