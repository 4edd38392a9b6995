"""The way out to the broker: committed events leave in order, and nobody waits for them.

`offer` never blocks. One task sends the queued events in order; while the broker is
down or frozen it retries the oldest with backoff, so a short outage costs other
processes some latency and nothing else. The queue is bounded: when it is full the
oldest event gives way, and once the broker is back `on_dropped` runs so that other
processes can fetch what they missed from the database (the events are committed rows).

A health check pings the broker every `check_interval` seconds and gives up after
`check_timeout`, so a frozen broker is noticed within a few seconds even when nobody
posts. Each change of state is logged once, with its reason: no traceback per failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable

from realtime.broker import Broker
from realtime.protocol import Event

__all__ = ["Publisher"]

logger = logging.getLogger(__name__)


class Publisher:
    def __init__(
        self,
        broker: Broker,
        *,
        limit: int = 10_000,
        publish_timeout: float = 2.0,
        check_interval: float = 1.0,
        check_timeout: float = 1.0,
        min_backoff: float = 0.05,
        max_backoff: float = 1.0,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1: the queue must be bounded")
        self.broker = broker
        self.limit = limit
        self.publish_timeout = publish_timeout
        self.check_interval = check_interval
        self.check_timeout = check_timeout
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self.on_dropped = on_dropped
        self._queue: deque[Event] = deque()
        self._wakeup = asyncio.Event()  # an event was queued
        self._retry = asyncio.Event()  # the health check passed again: stop backing off
        self._empty = asyncio.Event()  # everything queued has been sent
        self._empty.set()
        self._sender: asyncio.Task[None] | None = None
        self._checker: asyncio.Task[None] | None = None
        # Why the broker is degraded, per signal: the last publish, the last health check.
        self._publish_problem: str | None = None
        self._check_problem: str | None = None
        self._degraded_since: float | None = None
        self._late = 0  # events that were queued when the broker took them again
        self._dropped = 0  # events the full queue gave up during this outage
        self.dropped_total = 0

    @property
    def healthy(self) -> bool:
        """The last health check answered in time and no publish is failing."""
        return self._degraded_since is None

    @property
    def problem(self) -> str | None:
        return self._publish_problem or self._check_problem

    @property
    def pending(self) -> int:
        return len(self._queue)

    async def start(self) -> None:
        if self._sender is not None:
            raise RuntimeError("publisher is already running")
        # Fresh primitives per start: a hub may be started again on another event loop.
        self._wakeup, self._retry, self._empty = asyncio.Event(), asyncio.Event(), asyncio.Event()
        if self._queue:
            self._wakeup.set()
        else:
            self._empty.set()
        self._publish_problem = self._check_problem = self._degraded_since = None
        self._sender = asyncio.create_task(self._send_forever(), name="koryu-publish")
        self._checker = asyncio.create_task(self._check_forever(), name="koryu-broker-check")

    async def stop(self, *, drain: float = 2.0) -> None:
        """Send what is queued if the broker takes it within `drain` seconds, then stop."""
        if self._sender is None:
            return
        if self._queue and self.healthy:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(drain):
                    await self._empty.wait()
        tasks = [t for t in (self._sender, self._checker) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._sender = self._checker = None
        if self._queue:
            logger.warning("realtime broker: %d events not sent at shutdown", len(self._queue))
            self._queue.clear()

    def offer(self, event: Event) -> None:
        """Queue `event` for the broker; returns at once."""
        if len(self._queue) >= self.limit:
            self._queue.popleft()
            self._dropped += 1
            self.dropped_total += 1
        self._queue.append(event)
        self._empty.clear()
        self._wakeup.set()

    async def sent(self, timeout: float) -> bool:  # noqa: ASYNC109 - bounded by the broker's health too
        """Wait (at most ``timeout`` seconds, and only while the broker is healthy) until
        everything queued so far has gone to the broker; whether it has."""
        if not self._queue:
            return True
        if not self.healthy or self._sender is None:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._empty.wait()
        return not self._queue

    async def _send_forever(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self.min_backoff
        while True:
            if not self._queue:
                self._empty.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            event = self._queue[0]
            try:
                async with asyncio.timeout(self.publish_timeout):
                    await self.broker.publish(event)
            except TimeoutError:
                failure: str | None = f"no answer to publish within {self.publish_timeout:g} s"
            except Exception as exc:  # BrokerUnavailable, or whatever a backend raises
                failure = str(exc) or type(exc).__name__
            else:
                failure = None
            if failure is None:
                if self._publish_problem is not None:
                    # This event and every one queued behind it waited for the broker.
                    self._late = len(self._queue)
                    self._publish_problem = None
                    self._changed(loop.time())
                if self._queue and self._queue[0] is event:
                    self._queue.popleft()
                if self._dropped and self._degraded_since is None:
                    # A broker that is up but slower than the posts: the queue overflowed.
                    logger.warning("realtime broker: publish queue full, %d dropped", self._dropped)
                    self._report_dropped()
                delay = self.min_backoff
                continue
            if self._publish_problem is None:
                self._publish_problem = failure
                self._changed(loop.time())
            # Jitter spreads the retries of many processes after a broker restart.
            self._retry.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay * random.uniform(0.5, 1.0)):
                    await self._retry.wait()
            delay = min(delay * 2, self.max_backoff)

    async def _check_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                async with asyncio.timeout(self.check_timeout):
                    ok = await self.broker.healthy()
                problem = None if ok else "the broker reports it is not connected"
            except TimeoutError:
                problem = f"no answer to the health check within {self.check_timeout:g} s"
            except Exception as exc:
                problem = f"health check failed: {exc or type(exc).__name__}"
            if problem != self._check_problem:
                self._check_problem = problem
                if problem is None:
                    self._retry.set()
                self._changed(loop.time())
            await asyncio.sleep(self.check_interval)

    def _changed(self, now: float) -> None:
        """Log a change between healthy and degraded, once, with the reason."""
        problem = self.problem
        if problem is not None and self._degraded_since is None:
            self._degraded_since = now
            logger.warning("realtime broker degraded: %s", problem)
        elif problem is None and self._degraded_since is not None:
            logger.warning(
                "realtime broker recovered after %.1f s: %d events held back, %d dropped",
                now - self._degraded_since,
                self._late,
                self._dropped,
            )
            self._late = 0
            self._degraded_since = None
            self._report_dropped()

    def _report_dropped(self) -> None:
        dropped, self._dropped = self._dropped, 0
        if dropped and self.on_dropped is not None:
            try:
                self.on_dropped(dropped)
            except Exception:
                logger.exception("on_dropped hook failed")
