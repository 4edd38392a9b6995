"""Thread view counts, added up in memory and written in batches.

A popular live thread is viewed hundreds of times a second; a write per view would hold
SQLite's write lock (and a PostgreSQL row lock) on every page. Each process counts views
of each thread and writes them as one ``UPDATE … SET view_count = view_count + n`` per
thread at most every ``interval`` seconds, and once more when the app stops. Views counted
in a process that dies uncleanly are lost: a view count is a hint, not a ledger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

from tortoise.expressions import F

from forum.models import Thread

__all__ = ["ViewCounter"]

log = logging.getLogger(__name__)


class ViewCounter:
    def __init__(self, *, interval: float = 10.0, max_pending: int = 1000) -> None:
        self.interval = interval
        self.max_pending = max_pending
        self._pending: Counter[int] = Counter()
        self._last_flush = time.monotonic()
        self._flushing: asyncio.Task[None] | None = None

    @property
    def pending(self) -> dict[int, int]:
        return dict(self._pending)

    def hit(self, thread_id: int) -> None:
        """Count one view; start a flush in the background when one is due."""
        self._pending[thread_id] += 1
        due = time.monotonic() - self._last_flush >= self.interval
        if (due or len(self._pending) >= self.max_pending) and self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush_in_background())

    async def _flush_in_background(self) -> None:
        try:
            await self.flush()
        except Exception:  # the counts stay pending and go with the next flush
            log.exception("writing view counts failed")
        finally:
            self._flushing = None

    async def flush(self) -> int:
        """Write the pending counts: one UPDATE per thread viewed since the last flush."""
        batch, self._pending = self._pending, Counter()
        self._last_flush = time.monotonic()
        left = dict(sorted(batch.items()))
        try:
            for thread_id, views in list(left.items()):
                await Thread.filter(id=thread_id).update(view_count=F("view_count") + views)
                del left[thread_id]
        finally:
            self._pending.update(left)  # what was not written goes with the next flush
        return len(batch)

    async def close(self) -> None:
        if self._flushing is not None:
            await self._flushing
        await self.flush()
