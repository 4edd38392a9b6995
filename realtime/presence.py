"""Viewer counts across processes.

Each process publishes its own per-channel counts through the broker as one
`presence` event on a channel no client can subscribe to (it fails the channel
pattern). Counts from other processes expire unless refreshed, so a crashed
worker's viewers disappear after `ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from realtime.channel import Channel
from realtime.protocol import Event, encode_presence, websocket_text_frame

__all__ = ["PRESENCE_CHANNEL", "PRESENCE_EVENT", "Presence"]

PRESENCE_CHANNEL: Final = "_presence"
PRESENCE_EVENT: Final = "presence"


class Presence:
    def __init__(self, process_id: str, *, ttl: float) -> None:
        self.process_id = process_id
        self.ttl = ttl
        # channel -> process -> (viewers, expires at)
        self._remote: dict[str, dict[str, tuple[int, float]]] = {}
        self._changed: set[str] = set()
        self._shown: dict[str, int] = {}
        self._force: set[str] = set()
        self._next_refresh = 0.0

    def local_changed(self, channel: str) -> None:
        self._changed.add(channel)

    def force(self, channel: str) -> None:
        """Send the count on the next tick even if unchanged (a new viewer needs it)."""
        self._force.add(channel)

    def forget(self, channel: str) -> None:
        self._shown.pop(channel, None)
        self._force.discard(channel)

    async def tick(
        self, channels: Mapping[str, Channel], publish: Callable[[Event], Awaitable[bool]]
    ) -> None:
        """Publish our counts, then tell local viewers whose total changed."""
        outgoing = self.outgoing({name: len(ch.subscribers) for name, ch in channels.items()})
        if outgoing is not None and not await publish(outgoing):
            self.unsent(outgoing)
        self.expire()
        for name, ch in channels.items():
            viewers = len(ch.subscribers) + self.remote(name)
            if self.due(name, viewers):
                frame = encode_presence(name, viewers)
                wire = websocket_text_frame(frame.encode())
                for conn in ch.subscribers:
                    conn.offer_presence(name, frame, wire)

    def outgoing(self, local: Mapping[str, int]) -> Event | None:
        """This process's counts to publish: changed ones, or all when a refresh is due."""
        now = time.monotonic()
        channels = self._changed
        if now >= self._next_refresh:
            # Refresh well inside the ttl so one lost message does not expire us.
            self._next_refresh = now + self.ttl / 3
            channels = channels | local.keys()
        self._changed = set()
        if not channels:
            return None
        counts = {channel: local.get(channel, 0) for channel in channels}
        return self._event(counts)

    def farewell(self, local: Mapping[str, int]) -> Event | None:
        return self._event(dict.fromkeys(local, 0)) if local else None

    def unsent(self, event: Event) -> None:
        """Publishing `event` failed: try its channels again next tick."""
        self._changed.update(event.data["c"])

    def receive(self, event: Event) -> None:
        data: dict[str, Any] = event.data
        process, counts, ttl = data.get("p"), data.get("c"), data.get("ttl")
        if process == self.process_id or not isinstance(process, str):
            return
        if not isinstance(counts, dict) or not isinstance(ttl, int | float):
            return
        expires = time.monotonic() + float(ttl)
        for channel, viewers in counts.items():
            per_process = self._remote.setdefault(channel, {})
            if isinstance(viewers, int) and viewers > 0:
                per_process[process] = (viewers, expires)
            else:
                per_process.pop(process, None)
                if not per_process:
                    del self._remote[channel]

    def remote(self, channel: str) -> int:
        now = time.monotonic()
        return sum(n for n, expires in self._remote.get(channel, {}).values() if expires > now)

    def expire(self) -> None:
        now = time.monotonic()
        for channel in list(self._remote):
            alive = {p: v for p, v in self._remote[channel].items() if v[1] > now}
            if alive:
                self._remote[channel] = alive
            else:
                del self._remote[channel]

    def due(self, channel: str, viewers: int) -> bool:
        """Whether local viewers must be told `viewers` now."""
        if channel not in self._force and self._shown.get(channel) == viewers:
            return False
        self._force.discard(channel)
        self._shown[channel] = viewers
        return True

    def _event(self, counts: dict[str, int]) -> Event:
        data = {"p": self.process_id, "ttl": self.ttl, "c": counts}
        return Event(PRESENCE_CHANNEL, 0, PRESENCE_EVENT, data)
