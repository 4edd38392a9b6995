"""Test doubles for the realtime tests: a fake events table, inline apps, a real server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from realtime import (
    AuthoriseFn,
    Broker,
    CaptureRawSend,
    Event,
    Hub,
    Replay,
    Resync,
    make_ws_endpoint,
)

ORIGIN = "http://koryu.test"
Frame = dict[str, Any]


@dataclass(frozen=True)
class User:
    name: str

    @property
    def admin(self) -> bool:
        return self.name == "admin"


ANONYMOUS = User("")


class Store:
    """The events table: per channel, seq 1, 2, 3 …; `pruned[channel]` drops the old ones."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = {}
        self.pruned: dict[str, int] = {}
        self.calls: list[tuple[str, int | None, int | None]] = []
        # Awaited inside replay, after the result is computed (or before, when
        # `snapshot_late` is set), to hold a replay in flight.
        self.hold: Callable[[str, int | None, int | None], Awaitable[None]] | None = None
        self.snapshot_late = False

    def append(self, channel: str, name: str = "post.created", **data: Any) -> Event:
        events = self.events.setdefault(channel, [])
        event = Event(channel, len(events) + 1, name, data)
        events.append(event)
        return event

    def head(self, channel: str) -> int:
        return len(self.events.get(channel, []))

    async def replay(self, channel: str, after: int | None, until: int | None) -> Replay:
        self.calls.append((channel, after, until))
        if self.hold is not None and self.snapshot_late:
            await self.hold(channel, after, until)
        result = self._read(channel, after, until)
        if self.hold is not None and not self.snapshot_late:
            await self.hold(channel, after, until)
        if isinstance(result, Resync):
            raise result
        return result

    def _read(self, channel: str, after: int | None, until: int | None) -> Replay | Resync:
        head = self.head(channel)
        if after is None:
            return Replay([], head)
        if after < self.pruned.get(channel, 0):
            return Resync(head)
        top = head if until is None else min(until, head)
        return Replay([e for e in self.events.get(channel, []) if after < e.seq <= top], head)


async def authenticate(websocket: WebSocket) -> User | None:
    name = websocket.query_params.get("user", "")
    return None if name == "nobody" else User(name)


async def authorise(user: User, channel: str) -> bool:
    return not channel.startswith("secret") or user.admin


def visible(user: User, event: Event) -> bool:
    return not event.data.get("hidden") or user.admin


# Whether served apps let fan-out write straight to uvicorn's transport (the production
# set-up) or only through ASGI `send`; test_delivery runs every test both ways.
RAW_SEND = {"enabled": True}


def make_app(
    hub: Hub,
    *,
    origins: Sequence[str] = (ORIGIN,),
    authorise: AuthoriseFn = authorise,
    **options: Any,
) -> Starlette:
    endpoint = make_ws_endpoint(
        hub,
        authenticate=authenticate,
        authorise=authorise,
        allowed_origins=origins,
        **options,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with hub:
            yield

    middleware = [Middleware(CaptureRawSend)] if RAW_SEND["enabled"] else []
    return Starlette(
        routes=[WebSocketRoute("/ws", endpoint)], middleware=middleware, lifespan=lifespan
    )


class _Uvicorn(uvicorn.Server):
    """uvicorn that begins to stop as soon as it is told, not at its next 0.1 s tick:
    some forty tests each start and stop a server."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopping = asyncio.Event()

    async def main_loop(self) -> None:
        await self.on_tick(0)  # the default headers, as uvicorn's own loop sets them
        await self.stopping.wait()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)  # Ctrl-C still stops the server
        self.stopping.set()


@asynccontextmanager
async def serve(app: Starlette, *, send_buffer: int | None = None) -> AsyncIterator[str]:
    """Run `app` on a real uvicorn on a free port; yields the ws:// URL of /ws.

    `send_buffer` pins the kernel send buffer of accepted sockets (Linux copies
    it from the listening socket), so a stalled client fills up in kilobytes
    instead of the megabytes that autotuning would allow."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, ws_per_message_deflate=False, log_level="warning", lifespan="on", loop="asyncio"
    )
    server = _Uvicorn(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(5):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped during start-up")
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        server.stopping.set()
        async with asyncio.timeout(10):
            await task
        sock.close()


@asynccontextmanager
async def running(
    store: Store,
    broker: Broker,
    *,
    hub: dict[str, Any] | None = None,
    send_buffer: int | None = None,
    **endpoint: Any,
) -> AsyncIterator[str]:
    """Serve a hub on `broker` over `store`; `hub` and `endpoint` hold their options."""
    options: dict[str, Any] = {"visible": visible, "presence_interval": 60.0, **(hub or {})}
    app = make_app(Hub(broker, replay=store.replay, **options), **endpoint)
    async with serve(app, send_buffer=send_buffer) as url:
        yield url


@asynccontextmanager
async def connected(broker: Broker) -> AsyncIterator[Broker]:
    await broker.connect()
    try:
        yield broker
    finally:
        await broker.disconnect()


async def open_ws(
    url: str, *, user: str = "", origin: str | None = ORIGIN, **options: Any
) -> ClientConnection:
    query = f"?user={user}" if user else ""
    async with asyncio.timeout(5):
        return await connect(
            url + query,
            origin=Origin(origin) if origin is not None else None,
            compression=None,
            **options,
        )


async def send(ws: ClientConnection, frame: Frame) -> None:
    await ws.send(orjson.dumps(frame).decode())


async def recv(ws: ClientConnection, *, skip: Sequence[str] = ("presence",)) -> Frame:
    """The next frame whose type is not in `skip`."""
    async with asyncio.timeout(5):
        for _ in range(10_000):
            frame: Frame = orjson.loads(await ws.recv())
            if frame["type"] not in skip:
                return frame
    raise AssertionError("only skipped frames arrived")


async def subscribe(ws: ClientConnection, channel: str, after: int | None = None) -> Frame:
    frame: Frame = {"type": "subscribe", "channel": channel}
    if after is not None:
        frame["after"] = after
    await send(ws, frame)
    return await recv(ws)


async def event_seqs(ws: ClientConnection, count: int) -> list[int]:
    """Read `count` event frames; any other frame (but presence) fails the test."""
    seqs = []
    for _ in range(count):
        frame = await recv(ws)
        assert frame["type"] == "event", frame
        seqs.append(frame["seq"])
    return seqs


async def assert_quiet(ws: ClientConnection) -> None:
    """Nothing but presence is queued before a pong: a ping works as a fence."""
    await send(ws, {"type": "ping"})
    assert await recv(ws) == {"type": "pong"}


async def eventually(predicate: Callable[[], bool], *, seconds: float = 5) -> None:
    for _ in range(int(seconds / 0.005)):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"still false after {seconds} s")


@dataclass
class Recorder:
    """A Transport that records frames; `gate` cleared makes it a socket that never drains."""

    frames: list[str] = field(default_factory=list)
    closed: int | None = None
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    async def send_text(self, data: str) -> None:
        await self.gate.wait()
        self.frames.append(data)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = code

    def decoded(self) -> list[Frame]:
        return [orjson.loads(frame) for frame in self.frames]

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.decoded() if f["type"] == "event"]


class TcpProxy:
    """Stands between a client and Redis so a test can take "Redis" away and back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self._writers.discard(writer)
