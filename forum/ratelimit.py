"""Sliding-window rate limits kept in the process's memory.

Each process counts on its own; behind N processes an attacker gets at most N times the
limit, which is still a hard bound (docs/deploy.md).
"""

from __future__ import annotations

import math
import time
from collections import deque

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None, *, limit: int | None = None) -> int | None:
        """Count one attempt; return the seconds to wait if it goes over the limit.

        ``limit`` replaces the limiter's own for this key, for keys that carry their own.
        """
        now = time.monotonic() if now is None else now
        limit = self.limit if limit is None else limit
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= limit:
            return max(1, math.ceil(hits[0] + self.window - now))
        hits.append(now)
        return None

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)

    def _evict(self, now: float) -> None:
        stale = [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]
        for key in stale:
            del self._hits[key]
        if len(self._hits) >= self.max_keys:
            self._hits.clear()
