"""The `/ws` endpoint of the realtime wire protocol.

Serve it with uvicorn's `ws_per_message_deflate=False`: permessage-deflate
doubles the CPU per message and triples the memory per socket, and it would
compress the same frame once per viewer. Wrap the whole ASGI app in
`realtime.rawsocket.CaptureRawSend` so fan-out can write each event's
pre-built frame straight to uvicorn's transport. A `ws_max_size` near
`max_frame_bytes` also lets uvicorn refuse huge frames before buffering them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from urllib.parse import urlsplit

from starlette.types import Message
from starlette.websockets import WebSocket

from realtime.connection import Connection, ConnectionClosing
from realtime.hub import Hub
from realtime.protocol import (
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode_error,
    encode_pong,
    parse_client_frame,
)
from realtime.rawsocket import raw_socket
from realtime.types import AuthenticateFn, AuthoriseFn, ReplayFn

__all__ = ["make_ws_endpoint"]

logger = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001
CLOSE_POLICY_VIOLATION = 1008
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


def make_ws_endpoint(
    hub: Hub,
    *,
    authenticate: AuthenticateFn,
    authorise: AuthoriseFn,
    allowed_origins: Collection[str],
    replay: ReplayFn | None = None,
    max_frame_bytes: int = 4096,
    max_subscriptions: int = 50,
    max_bad_frames: int = 10,
    idle_timeout: float = 75.0,
    close_timeout: float = 10.0,
) -> Callable[[WebSocket], Awaitable[None]]:
    """Build the endpoint for `WebSocketRoute("/ws", ...)`; serve it with
    uvicorn's `ws_per_message_deflate=False`.

    `allowed_origins` holds "scheme://host[:port]" entries. `replay` defaults to
    the hub's. A client that sends no frame (a ping will do) for
    `idle_timeout` seconds is closed with 1001.
    """
    origins = frozenset(_normalise_origin(origin) for origin in allowed_origins)
    if "" in origins:
        raise ValueError(f"allowed_origins must be scheme://host[:port], got {allowed_origins!r}")

    async def endpoint(websocket: WebSocket) -> None:
        if not _origin_allowed(websocket, origins):
            await websocket.close(CLOSE_POLICY_VIOLATION)
            return
        principal = await authenticate(websocket)
        if principal is None:
            await websocket.close(CLOSE_POLICY_VIOLATION)
            return
        await websocket.accept()
        conn = hub.attach(websocket, principal, raw=raw_socket(websocket.scope))
        session = _Session(
            hub,
            conn,
            websocket,
            authorise=authorise,
            replay=replay,
            max_frame_bytes=max_frame_bytes,
            max_subscriptions=max_subscriptions,
            max_bad_frames=max_bad_frames,
            idle_timeout=idle_timeout,
        )
        # The reader runs in this task; the connection starts a writer only when a frame
        # has to wait. A close from elsewhere (4008, a restart) ends the reader too:
        # uvicorn answers our close frame with a disconnect message.
        try:
            await session.read()
        except Exception:
            logger.exception("realtime connection failed")
        finally:
            hub.detach(conn)
            conn.close(CLOSE_INTERNAL_ERROR, "internal error")
            try:
                # A peer that stopped reading may never take the close frame.
                async with asyncio.timeout(close_timeout):
                    await conn.wait_closed()
            except TimeoutError:
                pass

    return endpoint


class _Session:
    def __init__(
        self,
        hub: Hub,
        conn: Connection,
        websocket: WebSocket,
        *,
        authorise: AuthoriseFn,
        replay: ReplayFn | None,
        max_frame_bytes: int,
        max_subscriptions: int,
        max_bad_frames: int,
        idle_timeout: float,
    ) -> None:
        self.hub = hub
        self.conn = conn
        self.websocket = websocket
        self.authorise = authorise
        self.replay = replay
        self.max_frame_bytes = max_frame_bytes
        self.max_subscriptions = max_subscriptions
        self.bad_frames_left = max_bad_frames
        self.idle_timeout = idle_timeout

    async def read(self) -> None:
        try:
            while not self.conn.closing:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        message = await self.websocket.receive()
                except TimeoutError:
                    self.conn.close(CLOSE_GOING_AWAY, "idle timeout")
                    return
                if message["type"] == "websocket.disconnect":
                    self.conn.close(None)
                    return
                await self.handle(message)
        except ConnectionClosing:
            return

    async def handle(self, message: Message) -> None:
        text: str | None = message.get("text")
        data: str | bytes | None = text if text is not None else message.get("bytes")
        if data is None:
            return
        if self._too_big(data):
            self.conn.close(CLOSE_MESSAGE_TOO_BIG, "frame too large")
            return
        try:
            if text is None:
                raise ProtocolError("bad_request", "frames must be JSON text")
            frame = parse_client_frame(text)
        except ProtocolError as exc:
            await self.refuse(exc)
            return
        if isinstance(frame, Ping):
            await self.conn.send(encode_pong())
        elif isinstance(frame, Unsubscribe):
            self.hub.unsubscribe(self.conn, frame.channel)
        else:
            await self.subscribe(frame)

    async def subscribe(self, frame: Subscribe) -> None:
        channel, conn = frame.channel, self.conn
        if channel not in conn.subscriptions and len(conn.subscriptions) >= self.max_subscriptions:
            message = f"at most {self.max_subscriptions} channels per connection"
            await conn.send(encode_error("too_many_subscriptions", message, channel))
            return
        try:
            allowed = await self.authorise(conn.principal, channel)
        except Exception:
            logger.exception("authorise failed for %s", channel)
            await conn.send(encode_error("unavailable", "please try again", channel))
            return
        if not allowed:
            self.hub.unsubscribe(conn, channel)
            await conn.send(encode_error("forbidden", "you may not read this channel", channel))
            return
        try:
            await self.hub.subscribe(conn, channel, frame.after, replay=self.replay)
        except ConnectionClosing:
            raise
        except Exception:
            logger.exception("subscribe to %s failed", channel)
            await conn.send(encode_error("unavailable", "history unavailable, try again", channel))

    async def refuse(self, error: ProtocolError) -> None:
        self.bad_frames_left -= 1
        if self.bad_frames_left < 0:
            self.conn.close(CLOSE_POLICY_VIOLATION, "too many bad frames")
            return
        await self.conn.send(encode_error(error.code, error.message, error.channel))

    def _too_big(self, data: str | bytes) -> bool:
        limit = self.max_frame_bytes
        if len(data) > limit:
            return True
        # A str of n characters is at most 4n bytes of UTF-8: encode only when it may matter.
        return isinstance(data, str) and len(data) * 4 > limit and len(data.encode()) > limit


def _origin_allowed(websocket: WebSocket, origins: frozenset[str]) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        # Browsers always send Origin. Scripts and the CLI may omit it, but then
        # they must present a bearer token, which a cross-site page cannot attach.
        scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip())
    normalised = _normalise_origin(origin)
    return normalised != "" and normalised in origins


def _normalise_origin(origin: str) -> str:
    """Lower-case scheme://host[:port] without a default port; empty if malformed."""
    parts = urlsplit(origin.strip().lower())
    try:
        port = parts.port
    except ValueError:
        return ""
    host = parts.hostname
    if parts.scheme not in {"http", "https"} or not host or parts.path not in {"", "/"}:
        return ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")
