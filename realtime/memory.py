"""In-process broker: the default for a single process and for tests."""

from __future__ import annotations

import asyncio

from realtime.broker import BrokerUnavailable, Listener, ReconnectHook
from realtime.protocol import Event

__all__ = ["MemoryBroker", "MemoryBus"]


class MemoryBus:
    """What connected brokers share. Brokers on one bus behave like processes
    on one Redis; `create_broker("memory://")` gives each broker its own bus."""

    def __init__(self) -> None:
        self.brokers: set[MemoryBroker] = set()


class MemoryBroker:
    def __init__(self, bus: MemoryBus | None = None) -> None:
        self._bus = bus if bus is not None else MemoryBus()
        self._listener: Listener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def set_listener(
        self, callback: Listener, *, on_reconnect: ReconnectHook | None = None
    ) -> None:
        # The bus never loses a message, so there is never a reconnect to report.
        self._listener = callback

    async def connect(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._bus.brokers.add(self)

    async def disconnect(self) -> None:
        self._bus.brokers.discard(self)
        self._loop = None

    async def publish(self, event: Event) -> None:
        if self not in self._bus.brokers:
            raise BrokerUnavailable("memory broker is not connected")
        running = asyncio.get_running_loop()
        for broker in self._bus.brokers:
            loop = broker._loop
            if broker._listener is None or loop is None:
                continue
            # call_soon keeps publish from running the fan-out inline, and the
            # loop's FIFO keeps each publisher's order on every receiver.
            if loop is running:
                loop.call_soon(broker._deliver, event)
            else:
                loop.call_soon_threadsafe(broker._deliver, event)

    def _deliver(self, event: Event) -> None:
        if self._listener is not None and self in self._bus.brokers:
            self._listener(event)

    async def healthy(self) -> bool:
        return self in self._bus.brokers
