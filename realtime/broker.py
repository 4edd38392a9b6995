"""The broker carries committed events between processes.

One subscription per process: every event received goes to the single
listener (the hub), which fans out locally. Backends are chosen by URL scheme
and imported lazily, so redis is only imported where it is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from realtime.protocol import Event

__all__ = ["Broker", "BrokerUnavailable", "Listener", "ReconnectHook", "create_broker"]

Listener = Callable[[Event], None]
ReconnectHook = Callable[[], None]


class BrokerUnavailable(Exception):
    """Publishing failed. The event is already committed: viewers catch up by replay."""


class Broker(Protocol):
    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def publish(self, event: Event) -> None:
        """Send to every process; raises BrokerUnavailable when that is impossible."""
        ...

    def set_listener(
        self, callback: Listener, *, on_reconnect: ReconnectHook | None = None
    ) -> None:
        """`on_reconnect` runs after a lost subscription is restored: events
        published in between are gone from the broker and must be replayed."""
        ...

    async def healthy(self) -> bool: ...


def create_broker(url: str) -> Broker:
    """`memory://` (one process) or `redis://` / `rediss://` (any number)."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from realtime.memory import MemoryBroker

        return MemoryBroker()
    if scheme in {"redis", "rediss"}:
        from realtime.redis import RedisBroker

        return RedisBroker(url)
    raise ValueError(
        f"unsupported broker URL scheme {scheme!r}: use memory://, redis:// or rediss://"
    )
