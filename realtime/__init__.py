"""Realtime delivery of committed events to WebSocket viewers.

Knows nothing of the forum: the application injects `authenticate`,
`authorise`, `replay` and `visible` (see `realtime.types`).
"""

from realtime.backends import create_broker
from realtime.broker import Broker, BrokerUnavailable
from realtime.connection import CLOSE_TOO_SLOW, Connection, ConnectionClosing, Transport
from realtime.endpoint import make_ws_endpoint
from realtime.hub import CLOSE_LOGIN_ENDED, Hub
from realtime.memory import MemoryBroker, MemoryBus
from realtime.protocol import (
    ClientFrame,
    Event,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode_error,
    encode_pong,
    encode_presence,
    encode_resync,
    encode_subscribed,
    parse_client_frame,
    websocket_text_frame,
)
from realtime.rawsocket import CaptureRawSend, RawSocket, raw_socket
from realtime.types import (
    AuthenticateFn,
    AuthoriseFn,
    Principal,
    PublicFn,
    RecheckFn,
    RefreshFn,
    Replay,
    ReplayFn,
    Resync,
    VisibleFn,
)

__all__ = [
    "CLOSE_LOGIN_ENDED",
    "CLOSE_TOO_SLOW",
    "AuthenticateFn",
    "AuthoriseFn",
    "Broker",
    "BrokerUnavailable",
    "CaptureRawSend",
    "ClientFrame",
    "Connection",
    "ConnectionClosing",
    "Event",
    "Hub",
    "MemoryBroker",
    "MemoryBus",
    "Ping",
    "Principal",
    "ProtocolError",
    "PublicFn",
    "RawSocket",
    "RecheckFn",
    "RefreshFn",
    "Replay",
    "ReplayFn",
    "Resync",
    "Subscribe",
    "Transport",
    "Unsubscribe",
    "VisibleFn",
    "create_broker",
    "encode_error",
    "encode_pong",
    "encode_presence",
    "encode_resync",
    "encode_subscribed",
    "make_ws_endpoint",
    "parse_client_frame",
    "raw_socket",
    "websocket_text_frame",
]
