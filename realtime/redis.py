"""Redis pub/sub broker: one Redis channel, one subscription per process.

Redis pub/sub is at-most-once: whatever is published while a subscriber is
disconnected is gone. The reader therefore reconnects with backoff and then
calls `on_reconnect`, and the hub replays what it missed from the database. It
logs the loss and the return of its subscription once each, never each attempt.

Publishes and health checks share one connection (the hub sends them from one task
at a time), so an outage can never leave a process holding more sockets than before.

The Redis channel is named in the URL's `channel` query parameter
(`redis://host:6379/0?channel=koryu-prod`), which is taken out before the URL
goes to redis-py. Processes on one channel must share one event history (one
database): the same seq numbers from two histories would be mixed up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from realtime.broker import BrokerUnavailable, Listener, ReconnectHook
from realtime.protocol import Event

__all__ = ["DEFAULT_CHANNEL", "RedisBroker", "split_channel"]

logger = logging.getLogger(__name__)

DEFAULT_CHANNEL = "koryu:events"


def split_channel(url: str) -> tuple[str, str | None]:
    """The URL without its `channel` query parameter, and that parameter (None if absent).

    Other query parameters are kept as written, for redis-py to read.
    """
    parts = urlsplit(url)
    kept: list[str] = []
    channels: list[str] = []
    for item in parts.query.split("&") if parts.query else []:
        key, _, value = item.partition("=")
        if unquote_plus(key) == "channel":
            channels.append(unquote_plus(value))
        else:
            kept.append(item)
    if len(channels) > 1:
        raise ValueError("the broker URL names more than one channel")
    if channels and not channels[0]:
        raise ValueError("the broker URL's channel parameter is empty")
    stripped = urlunsplit(parts._replace(query="&".join(kept)))
    return stripped, (channels[0] if channels else None)


class RedisBroker:
    def __init__(
        self,
        url: str,
        *,
        channel: str | None = None,
        timeout: float = 2.0,
        keepalive: float = 5.0,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
    ) -> None:
        url, in_url = split_channel(url)
        if channel is not None and in_url is not None and channel != in_url:
            raise ValueError(f"two channels given: {channel!r} and ?channel={in_url}")
        self._url = url
        self._channel = channel or in_url or DEFAULT_CHANNEL
        self._timeout = timeout
        self._keepalive = keepalive
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._listener: Listener | None = None
        self._on_reconnect: ReconnectHook | None = None
        self._client: Redis | None = None
        self._sub_client: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = False

    @property
    def channel(self) -> str:
        """The Redis pub/sub channel this broker publishes on and listens to."""
        return self._channel

    def set_listener(
        self, callback: Listener, *, on_reconnect: ReconnectHook | None = None
    ) -> None:
        self._listener = callback
        self._on_reconnect = on_reconnect

    async def connect(self) -> None:
        if self._client is not None:
            raise RuntimeError("redis broker is already connected")
        common: dict[str, Any] = {
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
        }
        # One quick retry lets publish survive a pooled socket that went stale
        # across a Redis restart, without stalling a request when Redis is down.
        self._client = Redis.from_url(
            self._url,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.01), 1),
            single_connection_client=True,
            **common,
        )
        # No silent retries on the subscriber: every lost subscription must
        # surface here so that on_reconnect runs.
        self._sub_client = Redis.from_url(self._url, retry=Retry(NoBackoff(), 0), **common)
        try:
            pubsub = await self._subscribe()
        except BrokerUnavailable:
            await self._close_clients()
            raise
        self._reader = asyncio.create_task(self._read(pubsub), name="koryu-redis-reader")
        logger.info("redis broker: pub/sub channel %s", self._channel)

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except asyncio.CancelledError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise
            self._reader = None
        await self._close_clients()

    async def publish(self, event: Event) -> None:
        if self._client is None:
            raise BrokerUnavailable("redis broker is not connected")
        try:
            await self._client.publish(self._channel, event.to_wire())
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"redis publish failed: {exc}") from exc

    async def healthy(self) -> bool:
        if self._client is None or not self._subscribed:
            return False
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.ping()
        except (RedisError, OSError):
            return False
        return True

    async def _close_clients(self) -> None:
        self._subscribed = False
        for client in (self._client, self._sub_client):
            if client is not None:
                await client.aclose()
        self._client = self._sub_client = None

    async def _subscribe(self) -> PubSub:
        assert self._sub_client is not None
        pubsub = self._sub_client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
        except (RedisError, OSError) as exc:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise BrokerUnavailable(f"cannot subscribe to redis: {exc}") from exc
        self._subscribed = True
        return pubsub

    async def _read(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self._pump(pubsub)
            except (RedisError, OSError) as exc:
                logger.warning("redis subscription lost: %s", exc)
            except Exception:
                # Whatever broke, a reader that dies silently would stop all
                # realtime delivery on this worker: start over instead.
                logger.exception("redis reader failed")
            finally:
                self._subscribed = False
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            lost_at = loop.time()
            pubsub = await self._resubscribe()
            logger.warning("redis subscription restored after %.1f s", loop.time() - lost_at)
            if self._on_reconnect is not None:
                try:
                    self._on_reconnect()
                except Exception:
                    logger.exception("redis on_reconnect hook failed")

    async def _resubscribe(self) -> PubSub:
        delay = self._min_backoff
        while True:
            # Jitter spreads the reconnects of many workers after a Redis restart.
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self._max_backoff)
            try:
                return await self._subscribe()
            except BrokerUnavailable as exc:
                logger.debug("redis still unavailable: %s", exc.__cause__)

    async def _pump(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        pinged: float | None = None
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            now = loop.time()
            if message is not None:
                last_heard, pinged = now, None
                if message["type"] == "message":
                    self._deliver(message["data"])
            elif pinged is not None and now - pinged > self._timeout:
                # A half-open TCP connection or a frozen Redis reads nothing forever;
                # only a missing PONG tells them apart from a quiet channel.
                raise RedisConnectionError(f"no reply to keepalive ping within {self._timeout:g} s")
            elif pinged is None and now - last_heard > self._keepalive:
                await pubsub.ping()
                pinged = now

    def _deliver(self, data: bytes) -> None:
        try:
            event = Event.from_wire(data)
        except ValueError:
            logger.warning("dropping malformed broker message (%d bytes)", len(data))
            return
        if self._listener is not None:
            try:
                self._listener(event)
            except Exception:
                logger.exception("realtime listener failed on %s#%d", event.channel, event.seq)
