"""The broker carries committed events between processes.

One subscription per process: every event received goes to the single
listener (the hub), which fans out locally. The backends (`realtime.memory`,
`realtime.redis`) implement this protocol; `realtime.backends` chooses one by URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from realtime.protocol import Event

__all__ = ["Broker", "BrokerUnavailable", "Listener", "ReconnectHook"]

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
