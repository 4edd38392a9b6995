"""Shapes of the callables the application injects into the realtime layer.

realtime never sees the forum's user model: a principal is whatever
`authenticate` returns, handed back unchanged to `authorise` and `visible`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from starlette.websockets import WebSocket

from realtime.protocol import Event

__all__ = [
    "AuthenticateFn",
    "AuthoriseFn",
    "Principal",
    "PublicFn",
    "RecheckFn",
    "RefreshFn",
    "Replay",
    "ReplayFn",
    "Resync",
    "VisibleFn",
]

Principal: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class Replay:
    """Events of a channel with `after < seq <= head`, in seq order, and the head."""

    events: Sequence[Event]
    head: int


class Resync(Exception):
    """History before `after` is gone: the client refetches over HTTP from `head`.

    `replay` may raise it or return it.
    """

    def __init__(self, head: int) -> None:
        super().__init__(f"history pruned; continue from seq {head}")
        self.head = head


# replay(channel, after, until): events with after < seq <= until (until=None:
# up to the current head). after=None asks only for the head, with no events.
ReplayFn: TypeAlias = Callable[[str, int | None, int | None], Awaitable[Replay | Resync]]
# Runs once per viewer per event inside the fan-out loop: keep it cheap and
# free of I/O (decide from fields already on the principal and the event).
VisibleFn: TypeAlias = Callable[[Principal, Event], bool]
# True when every viewer allowed on the event's channel may see the event: the hub then
# skips `visible` for its viewers. Runs once per event; keep it free of I/O too.
PublicFn: TypeAlias = Callable[[Event], bool]
AuthoriseFn: TypeAlias = Callable[[Principal, str], Awaitable[bool]]
# Reads the principal afresh (its rights may have changed); None when its login ended.
RefreshFn: TypeAlias = Callable[[Principal], Awaitable[Principal | None]]
# Runs in seq order for each event a channel delivers, after its fan-out: True when the
# event changes who may read the channel, so its subscribers are authorised again before
# anything after it is sent. Keep it free of I/O.
RecheckFn: TypeAlias = Callable[[Event], bool]
# Returns None to refuse the handshake (e.g. a bad bearer token); an
# anonymous principal is a valid principal.
AuthenticateFn: TypeAlias = Callable[[WebSocket], Awaitable[Principal | None]]
