"""One channel's sequencing in this process: seq order, gap fill, no duplicates."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from realtime.connection import Connection
from realtime.protocol import Event, encode_resync
from realtime.types import PublicFn, Replay, Resync, VisibleFn

__all__ = ["Channel", "by_seq"]

logger = logging.getLogger(__name__)

# Waits before each attempt to fill a gap; then viewers are told to resync.
_FILL_RETRY_DELAYS = (0.0, 0.1, 0.5, 2.0)

Replayer = Callable[[str, int | None, int | None], Awaitable[Replay | Resync]]
Spawner = Callable[[Coroutine[Any, Any, None]], None]
# Called after each event's fan-out, in seq order.
Delivered = Callable[["Channel", Event], None]


def by_seq(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda event: event.seq)


class Channel:
    """`last_seq` is the last seq handed to subscribers. Events beyond a gap are
    held while the gap is fetched from the database, then delivered in order."""

    def __init__(
        self,
        name: str,
        *,
        visible: VisibleFn | None,
        replay: Replayer,
        spawn: Spawner,
        public: PublicFn | None = None,
        delivered: Delivered | None = None,
    ) -> None:
        self.name = name
        self.visible = visible
        self.public = public
        self._replay = replay
        self._spawn = spawn
        self._delivered = delivered
        self.subscribers: set[Connection] = set()
        # None until a subscriber's replay tells us the head.
        self.last_seq: int | None = None
        # Events waiting for that head, or for a gap fill to finish.
        self.held: list[Event] = []
        self.filling = False
        # A recheck asked for while a bounded fill ran: done when that fill ends.
        self._recheck_pending = False

    def receive(self, event: Event) -> None:
        if self.last_seq is None or self.filling:
            self.held.append(event)
        else:
            self._advance(event)

    def learn_head(self, head: int) -> None:
        if self.last_seq is None:
            self.last_seq = head
            self._drain()

    def recheck(self) -> None:
        """Fetch whatever came after `last_seq` that the broker did not deliver."""
        if self.last_seq is None:
            return
        if self.filling:
            self._recheck_pending = True
            return
        self._recheck_pending = False
        self.filling = True
        self._spawn(self._fill(self.last_seq, None))

    def hole_after(self, position: int, buffered: list[Event]) -> int | None:
        """For a subscriber at `position` holding `buffered` live events: the
        last seq of the run it is missing right after `position`, or None."""
        newer = [event.seq for event in buffered if event.seq > position]
        if newer:
            return newer[0] - 1 if newer[0] > position + 1 else None
        if self.last_seq is not None and self.last_seq > position and not self.filling:
            return self.last_seq
        return None

    def _advance(self, event: Event) -> None:
        assert self.last_seq is not None
        if event.seq <= self.last_seq:
            return
        if event.seq > self.last_seq + 1:
            self.filling = True
            self.held.append(event)
            self._spawn(self._fill(self.last_seq, event.seq - 1))
            return
        self._deliver(event)

    def _deliver(self, event: Event) -> None:
        self.last_seq = event.seq
        visible = self.visible
        if visible is not None and self.public is not None and self._public(event):
            visible = None
        for conn in self.subscribers:
            conn.offer(event, visible)
        if self._delivered is not None:
            self._delivered(self, event)

    def _public(self, event: Event) -> bool:
        assert self.public is not None
        try:
            return self.public(event)
        except Exception:
            logger.exception("public() failed on %s#%d", event.channel, event.seq)
            return False

    def _drain(self) -> None:
        held, self.held = by_seq(self.held), []
        for event in held:
            if self.last_seq is None or self.filling:
                self.held.append(event)
            else:
                self._advance(event)

    async def _fill(self, after: int, until: int | None) -> None:
        result: Replay | Resync | None = None
        for delay in _FILL_RETRY_DELAYS:
            await asyncio.sleep(delay)
            try:
                result = await self._replay(self.name, after, until)
                break
            except Exception:
                logger.warning("replay of %s after %d failed", self.name, after, exc_info=True)
        assert self.last_seq is not None
        if result is None and until is not None:
            # The database is not answering: tell viewers to refetch rather than stall.
            result = Resync(until)
        if isinstance(result, Replay):
            top = until if until is not None else result.head
            for event in by_seq(result.events):
                if self.last_seq < event.seq <= top:
                    self._deliver(event)
            self.last_seq = max(self.last_seq, top)
        elif isinstance(result, Resync):
            top = until if until is not None else result.head
            if top > self.last_seq:
                self.last_seq = top
                frame = encode_resync(self.name, top)
                for conn in self.subscribers:
                    conn.skip_to(self.name, top, frame)
        self.filling = False
        self._drain()
        if self._recheck_pending and not self.filling:
            self.recheck()
