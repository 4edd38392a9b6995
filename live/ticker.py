"""The per-process clock that moves sessions when their time comes.

Every process runs one; ``transitions.tick`` is safe to run in all of them at once, since
each move is a conditional update that only one of them wins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from live.transitions import Clock, record_viewers, tick, utcnow

__all__ = ["TICK_EVERY", "run_ticker"]

log = logging.getLogger("koryu.live")

# Viewers see a session go live within this many seconds of its start time.
TICK_EVERY = 5.0


async def run_ticker(
    stop: asyncio.Event,
    *,
    clock: Clock = utcnow,
    every: float = TICK_EVERY,
    viewers: Callable[[str], int] | None = None,
) -> None:
    """Move due sessions every ``every`` seconds; with ``viewers`` (the hub's counts), also
    raise live sessions' viewer peaks."""
    while True:
        try:
            async with asyncio.timeout(every):
                await stop.wait()
            return
        except TimeoutError:
            pass
        try:
            moved = await tick(clock())
            for m in moved:
                log.info("session %d: %s -> %s", m.session_id, m.before.value, m.after.value)
            if viewers is not None:
                await record_viewers(viewers)
        except Exception:
            log.warning("moving sessions by the clock failed", exc_info=True)
