"""Many WebSocket viewers in one asyncio process, on the `websockets` sans-I/O protocol.

One `asyncio.Protocol` per socket and no task per viewer: a frame costs the client a few
microseconds, so the load generator stays well below its core while the server under
test is the bottleneck. Event frames are kept raw with their arrival time and decoded
only after a batch, outside the measured window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import cast

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Origin
from websockets.uri import parse_uri

__all__ = ["Viewer", "ViewerPool"]

EVENT_PREFIX = b'{"type":"event"'
SUBSCRIBED_PREFIX = b'{"type":"subscribed"'
IGNORED_PREFIXES = (b'{"type":"presence"', b'{"type":"pong"')


class ViewerPool:
    """Counts event frames across all viewers; `done` is set when `expected` have arrived."""

    def __init__(self) -> None:
        self.viewers: list[Viewer] = []
        self.frames: list[tuple[float, bytes, int]] = []
        self.count = 0
        self.expected = 0
        self.last_arrival = 0.0
        self.done = asyncio.Event()
        self.anomalies: list[bytes] = []
        self.lost = 0

    def expect(self, frames: int) -> None:
        self.count = 0
        self.frames = []
        self.expected = frames
        self.done.clear()
        if frames <= 0:
            self.done.set()

    def on_event(self, arrived: float, payload: bytes, tag: int) -> None:
        self.frames.append((arrived, payload, tag))
        self.count += 1
        self.last_arrival = arrived
        if self.count >= self.expected:
            self.done.set()

    async def open(
        self,
        host: str,
        port: int,
        count: int,
        *,
        subscribe: bytes,
        origin: str | None = None,
        headers: Mapping[str, str] | None = None,
        tag: int = 0,
        concurrency: int = 64,
        deadline: float = 30.0,
    ) -> int:
        """Open `count` more viewers and wait for each one's `subscribed`; returns failures."""
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(concurrency)
        uri = f"ws://{host}:{port}/ws"
        failures = 0

        async def one() -> None:
            nonlocal failures
            async with gate:
                viewer = Viewer(
                    self, uri, subscribe=subscribe, origin=origin, headers=headers, tag=tag
                )
                try:
                    async with asyncio.timeout(deadline):
                        await loop.create_connection(lambda: viewer, host, port)
                        await viewer.ready
                except (OSError, TimeoutError, ConnectionError, RuntimeError):
                    failures += 1
                    viewer.abort()
                    return
                self.viewers.append(viewer)

        await asyncio.gather(*(one() for _ in range(count)))
        return failures

    def send_all(self, text: bytes) -> None:
        for viewer in self.viewers:
            viewer.send_text(text)

    @property
    def open_count(self) -> int:
        return sum(1 for v in self.viewers if v.is_open)

    async def close(self, *, within: float = 10.0) -> None:
        for viewer in self.viewers:
            viewer.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        for _ in range(int(within / 0.05) + 1):
            if not any(v.is_open for v in self.viewers) or loop.time() > deadline:
                break
            await asyncio.sleep(0.05)
        for viewer in self.viewers:
            viewer.abort()
        self.viewers.clear()


class Viewer(asyncio.Protocol):
    def __init__(
        self,
        pool: ViewerPool,
        uri: str,
        *,
        subscribe: bytes,
        origin: str | None,
        headers: Mapping[str, str] | None,
        tag: int = 0,
    ) -> None:
        self.pool = pool
        self.tag = tag
        self.events = 0
        self.subscribe = subscribe
        self.protocol = ClientProtocol(parse_uri(uri), origin=Origin(origin) if origin else None)
        self.headers = dict(headers or {})
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.is_open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.is_open = True
        request = self.protocol.connect()
        for key, value in self.headers.items():
            request.headers[key] = value
        self.protocol.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        protocol = self.protocol
        protocol.receive_data(data)
        for event in protocol.events_received():
            if type(event) is Frame:
                if event.opcode is not Opcode.TEXT:
                    continue
                payload = event.data
                if type(payload) is not bytes:
                    payload = bytes(payload)
                if payload.startswith(EVENT_PREFIX):
                    self.events += 1
                    self.pool.on_event(arrived, payload, self.tag)
                elif payload.startswith(IGNORED_PREFIXES):
                    continue
                elif not self.ready.done():
                    if payload.startswith(SUBSCRIBED_PREFIX):
                        self.ready.set_result(None)
                    else:
                        self.ready.set_exception(RuntimeError(payload.decode(errors="replace")))
                else:
                    self.pool.anomalies.append(payload)
            elif isinstance(event, Response):
                if protocol.handshake_exc is not None:
                    if not self.ready.done():
                        self.ready.set_exception(RuntimeError(str(protocol.handshake_exc)))
                else:
                    protocol.send_text(self.subscribe)
        self._flush()

    def send_text(self, text: bytes) -> None:
        if self.is_open and self.ready.done():
            self.protocol.send_text(text)
            self._flush()

    def _flush(self) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                transport.write(chunk)
            else:
                # The protocol asks to half-close after a close frame.
                transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        was_ready = self.ready.done() and self.ready.exception() is None
        self.is_open = False
        self.protocol.receive_eof()
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before subscribed"))
        elif was_ready:
            self.pool.lost += 1

    def close(self) -> None:
        if self.is_open and self.transport is not None and not self.transport.is_closing():
            try:
                self.protocol.send_close(1000)
            except Exception:
                self.transport.close()
                return
            self._flush()
            self.pool.lost -= 1  # a close we asked for is not a loss

    def abort(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()
