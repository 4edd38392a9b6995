"""Frames of the realtime wire protocol (see docs: "Realtime wire protocol").

Server frames are JSON text. An event's frame is encoded once, when the
`Event` is built, and the very same object is queued for every viewer.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

__all__ = [
    "CHANNEL_RE",
    "ClientFrame",
    "Event",
    "Ping",
    "ProtocolError",
    "Subscribe",
    "Unsubscribe",
    "encode_error",
    "encode_pong",
    "encode_presence",
    "encode_resync",
    "encode_subscribed",
    "parse_client_frame",
    "websocket_text_frame",
]

CHANNEL_RE: Final = re.compile(r"[a-z]+(?::[A-Za-z0-9_\-]{1,64})?")


def websocket_text_frame(payload: bytes) -> bytes:
    """A complete, unmasked, uncompressed WebSocket text frame (RFC 6455 5.2) as a server
    sends it: the same bytes are valid on every connection."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


@dataclass(frozen=True, slots=True)
class Event:
    """One committed event of a channel; `seq` increases by one per channel."""

    channel: str
    seq: int
    name: str
    data: dict[str, Any]
    frame: bytes = field(init=False, repr=False, compare=False)
    # ASGI carries text frames as `str`: decoding here, once, keeps the
    # per-viewer path free of any encoding work.
    text: str = field(init=False, repr=False, compare=False)
    # The whole WebSocket frame, for writing the same bytes to every socket.
    wire: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        frame = orjson.dumps(
            {
                "type": "event",
                "channel": self.channel,
                "seq": self.seq,
                "name": self.name,
                "data": self.data,
            }
        )
        object.__setattr__(self, "frame", frame)
        object.__setattr__(self, "text", frame.decode())
        object.__setattr__(self, "wire", websocket_text_frame(frame))

    def to_wire(self) -> bytes:
        """The compact form carried by the broker between processes."""
        return orjson.dumps([self.channel, self.seq, self.name, self.data])

    @classmethod
    def from_wire(cls, raw: bytes | str) -> Event:
        """Decode `to_wire()` output; raises ValueError on anything else."""
        value = orjson.loads(raw)
        if not (isinstance(value, list) and len(value) == 4):
            raise ValueError("broker message is not [channel, seq, name, data]")
        channel, seq, name, data = value
        if not (
            isinstance(channel, str)
            and isinstance(seq, int)
            and not isinstance(seq, bool)
            and isinstance(name, str)
            and isinstance(data, dict)
        ):
            raise ValueError("broker message has fields of the wrong type")
        return cls(channel, seq, name, data)


class ProtocolError(Exception):
    """A client frame the server cannot accept; `code` goes into the error frame."""

    def __init__(self, code: str, message: str, channel: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.channel = channel


@dataclass(frozen=True, slots=True)
class Subscribe:
    channel: str
    after: int | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    channel: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientFrame = Subscribe | Unsubscribe | Ping

_KEYS: Final[dict[str, frozenset[str]]] = {
    "subscribe": frozenset({"type", "channel", "after"}),
    "unsubscribe": frozenset({"type", "channel"}),
    "ping": frozenset({"type"}),
}


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ProtocolError("bad_request", "frame is not valid JSON") from None
    if not isinstance(value, dict):
        raise ProtocolError("bad_request", "frame must be a JSON object")
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise ProtocolError("bad_request", "type must be subscribe, unsubscribe or ping")
    unknown = value.keys() - _KEYS[kind]
    if unknown:
        raise ProtocolError("bad_request", f"unexpected field(s): {', '.join(sorted(unknown))}")
    if kind == "ping":
        return Ping()
    channel = value.get("channel")
    if not isinstance(channel, str) or CHANNEL_RE.fullmatch(channel) is None:
        raise ProtocolError("bad_request", "channel is missing or malformed")
    if kind == "unsubscribe":
        return Unsubscribe(channel)
    after = value.get("after")
    if "after" in value and (type(after) is not int or after < 0):
        raise ProtocolError("bad_request", "after must be a non-negative integer", channel)
    return Subscribe(channel, after)


def _encode(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


def encode_subscribed(channel: str, seq: int) -> str:
    return _encode({"type": "subscribed", "channel": channel, "seq": seq})


def encode_resync(channel: str, seq: int) -> str:
    return _encode({"type": "resync", "channel": channel, "seq": seq})


def encode_presence(channel: str, viewers: int) -> str:
    return _encode({"type": "presence", "channel": channel, "viewers": viewers})


def encode_error(code: str, message: str, channel: str | None = None) -> str:
    frame: dict[str, Any] = {"type": "error", "code": code}
    if channel is not None:
        frame["channel"] = channel
    frame["message"] = message
    return _encode(frame)


_PONG: Final = _encode({"type": "pong"})


def encode_pong() -> str:
    return _PONG
