"""Write an event's pre-built WebSocket frame straight to the socket's transport.

A server's text frame is unmasked, so every viewer of an event receives the very same
bytes: `Event.wire` builds them once, and fan-out becomes one `transport.write` per viewer
instead of each socket's protocol framing the same text again behind three layers of ASGI
`send` wrappers.

This reaches into uvicorn's websockets-sansio protocol (uvicorn's default when the
`websockets` package is installed). It is used only when the ASGI `send` that reached the
app is that protocol's own bound method, captured by `CaptureRawSend` before any
middleware wraps it, and no extension was negotiated; on any other server, or another
uvicorn protocol, `raw_socket` returns None and connections use the portable ASGI path.
Before every write the protocol must still be open, with no close frame sent: frames
written here and frames uvicorn writes itself (pings, pongs, the close) are each whole,
so they interleave safely.

That protocol lives in a uvicorn-internal module, looked up on first use rather than at
import: should uvicorn rename or remove it, only this shortcut is lost (every socket takes
the ASGI path), never `import realtime`.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.protocol import OPEN

__all__ = ["SANSIO_MODULE", "SCOPE_KEY", "CaptureRawSend", "RawSocket", "raw_socket"]

logger = logging.getLogger(__name__)

SCOPE_KEY = "realtime.raw_send"
SANSIO_MODULE = "uvicorn.protocols.websockets.websockets_sansio_impl"


class CaptureRawSend:
    """Outermost ASGI wrapper: remember the server's own `send` for WebSocket scopes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[SCOPE_KEY] = send
        await self.app(scope, receive, send)


class RawSocket:
    """What a connection asks of an accepted uvicorn WebSocket."""

    __slots__ = ("_protocol", "_transport", "buffered", "write")

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self.write: Callable[[bytes], None] = self._transport.write
        # Bytes accepted but not yet taken by the kernel: the socket's backlog.
        self.buffered: Callable[[], int] = self._transport.get_write_buffer_size

    def open(self) -> bool:
        protocol = self._protocol
        return (
            protocol.conn.state is OPEN
            and not protocol.close_sent
            and not self._transport.is_closing()
        )

    def ready(self) -> bool:
        """Open and below the transport's high-water mark: a write need not wait."""
        return self._protocol.writable.is_set() and self.open()

    async def drained(self) -> None:
        """Wait until the transport is below its high-water mark (or the peer is gone)."""
        await self._protocol.writable.wait()


@functools.cache
def _sansio_protocol() -> tuple[type[Any], Callable[..., Any]] | None:
    """uvicorn's websockets-sansio protocol class and its `send`; None where uvicorn has none."""
    try:
        protocol: type[Any] = importlib.import_module(SANSIO_MODULE).WebSocketsSansIOProtocol
        return protocol, protocol.send
    except (ImportError, AttributeError):
        logger.info("uvicorn's websockets-sansio protocol not found: frames go through ASGI send")
        return None


def raw_socket(scope: Scope) -> RawSocket | None:
    """The raw writer for an accepted WebSocket, or None where only ASGI `send` is safe."""
    send = scope.get(SCOPE_KEY)
    protocol = getattr(send, "__self__", None)
    sansio = _sansio_protocol()
    if protocol is None or sansio is None:
        return None
    protocol_class, protocol_send = sansio
    if type(protocol) is not protocol_class or getattr(send, "__func__", None) is not protocol_send:
        return None
    if protocol.conn.extensions or not protocol.handshake_complete:
        return None
    raw = RawSocket(protocol)
    return raw if raw.open() else None
