"""Raw frame writes use uvicorn's internals only while they are there; without them, ASGI send."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator

import pytest

from realtime import Hub, MemoryBroker, MemoryBus, rawsocket
from tests.realtime.support import Store, make_app, open_ws, recv, serve, subscribe, visible


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    """Each test looks uvicorn's module up anew, and leaves no stale answer behind."""
    rawsocket._sansio_protocol.cache_clear()
    yield
    rawsocket._sansio_protocol.cache_clear()


def test_realtime_imports_where_uvicorn_has_no_sansio_module() -> None:
    code = (
        "import sys\n"
        f"sys.modules[{rawsocket.SANSIO_MODULE!r}] = None\n"
        "import realtime\n"
        "print(realtime.raw_socket({'type': 'websocket', realtime.rawsocket.SCOPE_KEY: print}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "None"), done.stderr


@pytest.mark.parametrize("breakage", ["module gone", "class renamed"])
async def test_sockets_fall_back_to_asgi_send_when_uvicorns_protocol_cannot_be_found(
    breakage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store()
    hub = Hub(MemoryBroker(MemoryBus()), replay=store.replay, visible=visible)
    async with serve(make_app(hub)) as url:
        # uvicorn has loaded its protocol by now; from here on the module looks changed.
        missing = None if breakage == "module gone" else types.ModuleType(rawsocket.SANSIO_MODULE)
        monkeypatch.setitem(sys.modules, rawsocket.SANSIO_MODULE, missing)
        ws = await open_ws(url)
        await subscribe(ws, "thread:1", after=0)
        assert [c.raw for c in hub._connections] == [False]

        event = store.append("thread:1")
        await hub.publish(event)
        frame = await recv(ws)
        assert (frame["type"], frame["seq"]) == ("event", event.seq)
        await ws.close()


async def test_sockets_write_raw_frames_while_uvicorns_protocol_is_there() -> None:
    store = Store()
    hub = Hub(MemoryBroker(MemoryBus()), replay=store.replay, visible=visible)
    async with serve(make_app(hub)) as url:
        ws = await open_ws(url)
        await subscribe(ws, "thread:1", after=0)
        assert [c.raw for c in hub._connections] == [True]
        await ws.close()
