"""The bare baselines: Starlette + uvicorn with nothing of koryu in between.

- `/ws`: accepts, answers a `subscribe` frame with `subscribed`, then only reads.
- `POST /relay`: the body is a ready event frame; a plain
  `for ws in sockets: await ws.send_text(frame)` loop sends it to every viewer.
- `POST /floor`: the same frame, encoded into one WebSocket frame once and written with
  `transport.write` straight to every socket: what a fan-out cannot go below.
- `POST /insert`: one raw INSERT with the driver koryu uses (aiosqlite or asyncpg).
- `GET /page/{size}`: a static body of `size` bytes.

Served by `python -m bench.baseline_app --port P` with the same uvicorn options as
`koryu serve` (uvloop, httptools, websockets-sansio, permessage-deflate off).
"""

from __future__ import annotations

import argparse
import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["create_app", "ws_frame"]

_CREATE_SQLITE = (
    "CREATE TABLE IF NOT EXISTS bench_posts (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "thread_id INTEGER NOT NULL, author_id INTEGER NOT NULL, body TEXT NOT NULL, "
    "created_at TIMESTAMP NOT NULL)"
)
_CREATE_POSTGRES = (
    "CREATE TABLE IF NOT EXISTS bench_posts (id BIGSERIAL PRIMARY KEY, "
    "thread_id BIGINT NOT NULL, author_id BIGINT NOT NULL, body TEXT NOT NULL, "
    "created_at TIMESTAMPTZ NOT NULL)"
)
_INSERT_SQLITE = (
    "INSERT INTO bench_posts (thread_id, author_id, body, created_at) VALUES (?, ?, ?, ?)"
)
_INSERT_POSTGRES = (
    "INSERT INTO bench_posts (thread_id, author_id, body, created_at) "
    "VALUES ($1, $2, $3, $4) RETURNING id"
)


class _Writable(Protocol):
    def write(self, data: bytes) -> None: ...

    def is_closing(self) -> bool: ...


def ws_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One unmasked, final server frame (RFC 6455 §5.2)."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


class _KeepServerSend:
    """Keeps uvicorn's own `send` in the scope: Starlette wraps the one the endpoint sees."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope["bench.server_send"] = send
        await self.app(scope, receive, send)


def _transport_of(websocket: WebSocket) -> _Writable:
    # uvicorn's ASGI `send` is a bound method of its protocol, which owns the transport.
    protocol = getattr(websocket.scope.get("bench.server_send"), "__self__", None)
    transport = getattr(protocol, "transport", None)
    if transport is None or not hasattr(transport, "write"):
        raise RuntimeError("the floor needs uvicorn's websockets-sansio protocol")
    writable: _Writable = transport
    return writable


class _Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: Any = None
        self.pool: Any = None

    async def open(self) -> None:
        if self.url.startswith("sqlite://"):
            import aiosqlite

            self.sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
            # The pragmas Tortoise sets on its SQLite connection.
            await self.sqlite.execute("PRAGMA journal_mode=WAL")
            await self.sqlite.execute("PRAGMA journal_size_limit=16384")
            await self.sqlite.execute("PRAGMA foreign_keys=ON")
            await self.sqlite.execute(_CREATE_SQLITE)
            await self.sqlite.commit()
        elif self.url.startswith(("postgres://", "postgresql://")):
            import asyncpg  # type: ignore[import-untyped]

            dsn = self.url.replace("postgres://", "postgresql://", 1)
            # Tortoise's asyncpg pool defaults: minsize 1, maxsize 5.
            self.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5)
            async with self.pool.acquire() as conn:
                await conn.execute(_CREATE_POSTGRES)

    async def close(self) -> None:
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()

    async def insert(self, thread_id: int, author_id: int, body: str) -> int:
        now = datetime.now(UTC)
        if self.sqlite is not None:
            cursor = await self.sqlite.execute(_INSERT_SQLITE, (thread_id, author_id, body, now))
            await self.sqlite.commit()
            return int(cursor.lastrowid)
        if self.pool is not None:
            async with self.pool.acquire() as conn:
                return int(await conn.fetchval(_INSERT_POSTGRES, thread_id, author_id, body, now))
        raise RuntimeError("no database configured (BENCH_DATABASE_URL)")


def create_app() -> ASGIApp:
    sockets: set[WebSocket] = set()
    transports: dict[WebSocket, _Writable] = {}
    database = _Database(os.environ.get("BENCH_DATABASE_URL", ""))
    pages: dict[int, bytes] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.open()
        try:
            yield
        finally:
            await database.close()

    async def ws_endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive_text()
                frame = orjson.loads(message)
                if frame.get("type") == "subscribe" and websocket not in sockets:
                    channel = frame.get("channel", "")
                    reply = {"type": "subscribed", "channel": channel, "seq": 0}
                    await websocket.send_text(orjson.dumps(reply).decode())
                    sockets.add(websocket)
                    transports[websocket] = _transport_of(websocket)
                elif frame.get("type") == "ping":
                    await websocket.send_text('{"type":"pong"}')
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)
            transports.pop(websocket, None)

    async def relay(request: Request) -> Response:
        frame = (await request.body()).decode()
        sent = 0
        for ws in list(sockets):
            try:
                await ws.send_text(frame)
                sent += 1
            except (WebSocketDisconnect, RuntimeError, OSError):
                sockets.discard(ws)
        return Response(orjson.dumps({"sent": sent}), 201, media_type="application/json")

    async def floor(request: Request) -> Response:
        frame = ws_frame(await request.body())
        sent = 0
        for transport in transports.values():
            if not transport.is_closing():
                transport.write(frame)
                sent += 1
        return Response(orjson.dumps({"sent": sent}), 201, media_type="application/json")

    async def insert(request: Request) -> Response:
        data = orjson.loads(await request.body())
        post_id = await database.insert(1, 1, str(data["body"]))
        body = {"id": post_id, "thread_id": 1, "body": data["body"], "status": "published"}
        return Response(orjson.dumps(body), 201, media_type="application/json")

    async def page(request: Request) -> Response:
        size = int(request.path_params["size"])
        body = pages.get(size)
        if body is None:
            body = pages[size] = (b"<!doctype html>" + b"x" * size)[:size]
        return Response(body, media_type="text/html; charset=utf-8")

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    app = Starlette(
        routes=[
            WebSocketRoute("/ws", ws_endpoint),
            Route("/relay", relay, methods=["POST"]),
            Route("/floor", floor, methods=["POST"]),
            Route("/insert", insert, methods=["POST"]),
            Route("/page/{size:int}", page, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    return _KeepServerSend(app)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="bench.baseline_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    # The options `koryu serve` passes (forum/cli.py), nothing more.
    uvicorn.run(
        "bench.baseline_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        ws_per_message_deflate=False,
        log_level=args.log_level,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
