"""The `/ws` endpoint of the realtime wire protocol.

Serve it with uvicorn's `ws_per_message_deflate=False`: permessage-deflate
doubles the CPU per message and triples the memory per socket, and it would
compress the same frame once per viewer. Wrap the whole ASGI app in
`realtime.rawsocket.CaptureRawSend` so fan-out can write each event's
pre-built frame straight to uvicorn's transport. A `ws_max_size` near
`max_frame_bytes` also lets uvicorn refuse huge frames before buffering them.

Load a client can put on a process is bounded per socket and per address:
frames the server refuses (malformed, or a subscribe that is forbidden or over
the channel limit) spend a bad-frame allowance, subscribes spend a subscribe
allowance, and each runs out into a close with 1008. A refusal is remembered
for the socket, so asking again costs no `authorise` call. Each client address
(an IPv6 /64 counted as one) holds at most `max_connections_per_ip` sockets;
the next handshake is refused with HTTP 403 (close code 1013 before accept).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
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
CLOSE_TRY_AGAIN_LATER = 1013

# A socket regains one bad frame a minute: a client that is refused now and then
# over hours of a live session is not cut off, one that keeps probing is.
BAD_FRAME_REFILL_PER_SECOND = 1 / 60


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
    subscribe_burst: int = 60,
    subscribes_per_second: float = 2.0,
    max_connections_per_ip: int = 50,
    idle_timeout: float = 75.0,
    close_timeout: float = 10.0,
) -> Callable[[WebSocket], Awaitable[None]]:
    """Build the endpoint for `WebSocketRoute("/ws", ...)`; serve it with
    uvicorn's `ws_per_message_deflate=False`.

    `allowed_origins` holds "scheme://host[:port]" entries. `replay` defaults to
    the hub's. A client that sends no frame (a ping will do) for
    `idle_timeout` seconds is closed with 1001. A socket may send `subscribe_burst`
    subscribes at once, then `subscribes_per_second`. Addresses are
    the ones uvicorn reports: behind a proxy, start it with `--proxy-headers`.
    """
    origins = frozenset(_normalise_origin(origin) for origin in allowed_origins)
    if "" in origins:
        raise ValueError(f"allowed_origins must be scheme://host[:port], got {allowed_origins!r}")
    if max_connections_per_ip < 1:
        raise ValueError(f"max_connections_per_ip must be at least 1, got {max_connections_per_ip}")
    # Sockets per client address in this process; an address leaves when it has none.
    connections: Counter[str] = Counter()

    async def endpoint(websocket: WebSocket) -> None:
        if not _origin_allowed(websocket, origins):
            await websocket.close(CLOSE_POLICY_VIOLATION)
            return
        address = _client_address(websocket)
        if address is None:
            # No address to count by (a Unix socket without proxy headers).
            await serve(websocket)
            return
        if connections[address] >= max_connections_per_ip:
            await websocket.close(CLOSE_TRY_AGAIN_LATER)
            return
        connections[address] += 1
        try:
            await serve(websocket)
        finally:
            connections[address] -= 1
            if connections[address] <= 0:
                del connections[address]

    async def serve(websocket: WebSocket) -> None:
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
            bad_frames=_Allowance(max_bad_frames, BAD_FRAME_REFILL_PER_SECOND),
            subscribes=_Allowance(subscribe_burst, subscribes_per_second),
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


def _client_address(websocket: WebSocket) -> str | None:
    """The client's address as uvicorn reports it, an IPv6 client by its /64 (which one
    subscriber line commonly holds whole); None when the server reports none."""
    if websocket.client is None or not websocket.client.host:
        return None
    host = websocket.client.host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class _Allowance:
    """A token bucket: `capacity` at once, then `per_second` more."""

    __slots__ = ("capacity", "per_second", "stamp", "tokens")

    def __init__(self, capacity: int, per_second: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self.tokens = float(capacity)
        self.stamp = time.monotonic()

    def spend(self) -> bool:
        """Take one; False when none is left."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class _Session:
    # One per open socket: no per-instance __dict__.
    __slots__ = (
        "authorise",
        "bad_frames",
        "conn",
        "hub",
        "idle_timeout",
        "max_frame_bytes",
        "max_subscriptions",
        "refused",
        "replay",
        "subscribes",
        "websocket",
    )

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
        bad_frames: _Allowance,
        subscribes: _Allowance,
        idle_timeout: float,
    ) -> None:
        self.hub = hub
        self.conn = conn
        self.websocket = websocket
        self.authorise = authorise
        self.replay = replay
        self.max_frame_bytes = max_frame_bytes
        self.max_subscriptions = max_subscriptions
        self.bad_frames = bad_frames
        self.subscribes = subscribes
        # Channels `authorise` refused on this socket: refused again without asking.
        # Rights granted later take a new socket (the browser client opens one after
        # a refusal anyway); rights withdrawn reach live subscriptions through the hub.
        self.refused: set[str] | None = None  # made by the first refusal
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
        if not self.subscribes.spend():
            conn.close(CLOSE_POLICY_VIOLATION, "too many subscribes")
            return
        if channel in conn.subscriptions:
            # Already answered, replayed and live: a second answer or replay would
            # repeat events. To start again from an earlier `after`, unsubscribe first.
            return
        if len(conn.subscriptions) >= self.max_subscriptions:
            message = f"at most {self.max_subscriptions} channels per connection"
            await self.refuse(ProtocolError("too_many_subscriptions", message, channel))
            return
        if self.refused is not None and channel in self.refused:
            await self.refuse(_forbidden(channel))
            return
        try:
            # The principal may be read afresh while authorise runs (its rights changed):
            # then ask again for the fresh one, which the hub's recheck has not seen yet.
            principal = None
            while principal is not conn.principal:
                principal = conn.principal
                allowed = await self.authorise(principal, channel)
        except Exception:
            logger.exception("authorise failed for %s", channel)
            await conn.send(encode_error("unavailable", "please try again", channel))
            return
        if not allowed:
            if self.refused is None:
                self.refused = set()
            self.refused.add(channel)
            await self.refuse(_forbidden(channel))
            return
        try:
            await self.hub.subscribe(conn, channel, frame.after, replay=self.replay)
        except ConnectionClosing:
            raise
        except Exception:
            logger.exception("subscribe to %s failed", channel)
            await conn.send(encode_error("unavailable", "history unavailable, try again", channel))

    async def refuse(self, error: ProtocolError) -> None:
        """Answer a frame the server will not act on; too many close the socket."""
        if not self.bad_frames.spend():
            self.conn.close(CLOSE_POLICY_VIOLATION, "too many bad frames")
            return
        await self.conn.send(encode_error(error.code, error.message, error.channel))

    def _too_big(self, data: str | bytes) -> bool:
        limit = self.max_frame_bytes
        if len(data) > limit:
            return True
        # A str of n characters is at most 4n bytes of UTF-8: encode only when it may matter.
        return isinstance(data, str) and len(data) * 4 > limit and len(data.encode()) > limit


def _forbidden(channel: str) -> ProtocolError:
    return ProtocolError("forbidden", "you may not read this channel", channel)


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
