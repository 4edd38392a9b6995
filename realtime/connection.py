"""One WebSocket as the hub sees it: subscriptions, a bounded queue, a writer on demand."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Protocol

from starlette.websockets import WebSocketDisconnect

from realtime.protocol import Event, encode_resync, websocket_text_frame
from realtime.rawsocket import RawSocket
from realtime.types import Principal, VisibleFn

__all__ = ["CLOSE_TOO_SLOW", "Connection", "ConnectionClosing", "Subscription", "Transport"]

logger = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 4008


class Transport(Protocol):
    """The two calls a Connection makes on its socket (a Starlette WebSocket fits)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class ConnectionClosing(Exception):
    """The connection is shutting down; stop producing frames for it."""


# A frame as queued: its text and, when already built, its WebSocket frame.
_Frame = tuple[str, bytes | None]


class Subscription:
    """A connection's position in one channel."""

    __slots__ = ("buffer", "last_seq")

    def __init__(self) -> None:
        # Live events that arrive while the subscribe replay is in flight wait
        # here; None once the subscription is live.
        self.buffer: list[Event] | None = []
        self.last_seq = 0


class Connection:
    """Frames leave in the order they are produced, each whole.

    `push` never waits. On a raw socket (see `realtime.rawsocket`) with nothing queued
    ahead it writes the frame's bytes at once; otherwise the frame joins a bounded queue
    that a writer task, started on demand, empties. A client that cannot keep up — its
    socket backlog over `backlog_bytes`, or `queue_size` frames waiting — is closed with
    4008 rather than slowing the fan-out for everybody else, and resumes from its last
    seq. An idle viewer on a raw socket holds no task and no queue of its own.
    """

    # Thousands of idle viewers per process: no per-instance __dict__.
    __slots__ = (
        "_backlog_bytes",
        "_busy",
        "_close_code",
        "_close_reason",
        "_held",
        "_holds",
        "_pending",
        "_raw",
        "_room",
        "_wakeup",
        "_writer",
        "closing",
        "principal",
        "queue_size",
        "subscriptions",
        "transport",
    )

    def __init__(
        self,
        transport: Transport,
        principal: Principal,
        *,
        queue_size: int,
        raw: RawSocket | None = None,
        backlog_bytes: int = 256 * 1024,
    ) -> None:
        self.transport = transport
        self.principal = principal
        self.subscriptions: dict[str, Subscription] = {}
        self.queue_size = queue_size
        self._pending: deque[_Frame] | None = None
        self._busy = False  # the writer holds a frame it has not finished writing
        self._writer: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None  # the writer waits for frames
        self._room: asyncio.Future[None] | None = None  # a sender waits for queue room
        self._raw = raw
        self._backlog_bytes = backlog_bytes
        self._close_code: int | None = None
        self._close_reason = ""
        self.closing = False
        # While the hub checks this socket's rights again, live events wait here.
        self._holds = 0
        self._held: list[Event] | None = None  # made by the first event held

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def raw(self) -> bool:
        return self._raw is not None

    def push(self, text: str, wire: bytes | None = None) -> None:
        """Send a frame without waiting; `wire` is its WebSocket frame when already built."""
        if self.closing:
            return
        raw = self._raw
        if raw is not None and not self._pending and not self._busy:
            if raw.buffered() > self._backlog_bytes:
                self.close(CLOSE_TOO_SLOW, "too slow")
            elif raw.open():
                raw.write(wire if wire is not None else websocket_text_frame(text.encode()))
            else:
                self.close(None)
            return
        pending = self._queue()
        if len(pending) >= self.queue_size:
            self.close(CLOSE_TOO_SLOW, "too slow")
            return
        pending.append((text, wire))
        self._kick()

    async def send(self, text: str, wire: bytes | None = None) -> None:
        """Send a frame, waiting for queue room: for replies and replays, not fan-out."""
        pending = self._queue()
        while len(pending) >= self.queue_size and not self.closing:
            self._room = asyncio.get_running_loop().create_future()
            await self._room
        if self.closing:
            raise ConnectionClosing
        raw = self._raw
        if raw is not None and not pending and not self._busy and raw.ready():
            raw.write(wire if wire is not None else websocket_text_frame(text.encode()))
            return
        pending.append((text, wire))
        self._kick()

    def hold(self) -> None:
        """Keep live events back until `release`: the principal's rights are being checked
        again, and nothing may reach it under the rights it had before. Holds nest."""
        self._holds += 1

    def release(self, visible: VisibleFn | None) -> None:
        """Undo one `hold`; the last one offers what waited, each event checked with
        `visible` against the principal as it is now (channels dropped meanwhile get none)."""
        self._holds -= 1
        if self._holds > 0:
            return
        held, self._held = self._held or [], None
        for event in held:
            self.offer(event, visible)

    def offer(self, event: Event, visible: VisibleFn | None) -> None:
        """Deliver a live event: held, buffered, dropped as a duplicate, or sent."""
        sub = self.subscriptions.get(event.channel)
        if sub is None or self.closing:
            return
        if sub.buffer is not None:
            # Flushed through here when the subscribe's replay ends, so a hold then
            # keeps these in order ahead of what comes later.
            sub.buffer.append(event)
            if len(sub.buffer) > self.queue_size:
                self.close(CLOSE_TOO_SLOW, "too slow")
            return
        if self._holds:
            if self._held is None:
                self._held = []
            self._held.append(event)
            if len(self._held) > self.queue_size:
                self.close(CLOSE_TOO_SLOW, "too slow")
            return
        if event.seq <= sub.last_seq:
            return
        skipped = event.seq > sub.last_seq + 1
        sub.last_seq = event.seq
        if skipped:
            # The hub could not fill the gap: say so rather than skip silently.
            self.push(encode_resync(event.channel, event.seq - 1))
        if visible is None or self.sees(event, visible):
            self.push(event.text, event.wire)

    def sees(self, event: Event, visible: VisibleFn | None) -> bool:
        if visible is None:
            return True
        try:
            return visible(self.principal, event)
        except Exception:
            logger.exception("visible() failed on %s#%d; withholding it", event.channel, event.seq)
            return False

    def skip_to(self, channel: str, seq: int, resync_frame: str) -> None:
        """History up to `seq` cannot be replayed: tell a live subscriber to refetch."""
        sub = self.subscriptions.get(channel)
        if sub is not None and sub.buffer is None and seq > sub.last_seq:
            sub.last_seq = seq
            self.push(resync_frame)

    def offer_presence(self, channel: str, frame: str, wire: bytes | None = None) -> None:
        sub = self.subscriptions.get(channel)
        if sub is not None and sub.buffer is None:
            self.push(frame, wire)

    def close(self, code: int | None, reason: str = "") -> None:
        """Stop sending; a close frame with `code` follows unless code is None (the peer is
        already gone). Frames still queued are dropped: the client resumes from the last
        seq it saw."""
        if self.closing:
            return
        self.closing = True
        self._close_code, self._close_reason = code, reason
        if self._pending:
            self._pending.clear()
        _wake(self._room)
        if code is not None or self._writer is not None:
            self._kick()

    async def wait_closed(self) -> None:
        """Wait for the writer to finish, its close frame sent; cancelling this cancels it."""
        if self._writer is not None:
            await self._writer

    def _queue(self) -> deque[_Frame]:
        if self._pending is None:
            self._pending = deque()
        return self._pending

    def _kick(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        else:
            _wake(self._wakeup)

    async def _write(self) -> None:
        pending, raw = self._queue(), self._raw
        try:
            while not self.closing:
                if not pending:
                    self._wakeup = asyncio.get_running_loop().create_future()
                    await self._wakeup
                    continue
                text, wire = pending.popleft()
                self._busy = True
                _wake(self._room)
                if raw is None:
                    await self.transport.send_text(text)
                else:
                    # Replies wait for the socket to drain; fan-out (push) does not.
                    await raw.drained()
                    if self.closing:
                        break
                    if not raw.open():
                        self.close(None)
                        break
                    raw.write(wire if wire is not None else websocket_text_frame(text.encode()))
                self._busy = False
            if self._close_code is not None:
                await self.transport.close(self._close_code, self._close_reason)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The socket died under us (uvicorn reports some of these as
            # RuntimeError once it has answered a peer's close).
            self.close(None)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
