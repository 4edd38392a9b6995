"""Local fan-out: channel -> connections, in seq order, without gaps or duplicates.

An event committed in this process goes to its own viewers at once and to the broker
through a bounded queue (`realtime.publisher`), so neither a request nor a local viewer
ever waits on the broker. The broker delivers every event once per process, this
process's own events a second time: the hub checks each against the channel's last seq
(dropping what it has already delivered), fills gaps from the database (a publish lost
while Redis was down, or publishers racing each other), and hands the one encoded frame
to each subscribed connection without awaiting any of them.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Self

from realtime.broker import Broker
from realtime.channel import Channel, by_seq
from realtime.connection import Connection, Subscription, Transport
from realtime.presence import PRESENCE_CHANNEL, PRESENCE_EVENT, Presence
from realtime.protocol import (
    Event,
    encode_error,
    encode_resync,
    encode_subscribed,
    websocket_text_frame,
)
from realtime.publisher import Publisher
from realtime.rawsocket import RawSocket
from realtime.types import (
    AuthoriseFn,
    Principal,
    PublicFn,
    RecheckFn,
    RefreshFn,
    Replay,
    ReplayFn,
    Resync,
    VisibleFn,
)

__all__ = ["CLOSE_LOGIN_ENDED", "RECHECK_CHANNEL", "Hub"]

logger = logging.getLogger(__name__)

_CLOSE_SERVICE_RESTART = 1012
# A process whose full publish queue dropped events asks every other process, once the
# broker is back, to look for them in the database. Like presence, no client can
# subscribe to it (it fails the channel pattern).
RECHECK_CHANNEL = "_recheck"
_RECHECK_EVENT = "recheck"

# The socket's login ended (logout, password change, token revoked, suspension): the
# client must not reconnect with the same credentials.
CLOSE_LOGIN_ENDED = 4401


class Hub:
    """Run it inside the app's lifespan: `async with hub: ...`.

    `replay` reads the events table (see `realtime.types.ReplayFn`); `visible`
    runs per viewer per event and must not do I/O, unless `public` says once for
    the event that every viewer of its channel may see it. Presence counts go out
    at most once per `presence_interval` per channel. A connection is closed as too
    slow when `queue_size` frames wait for its writer or, on a raw socket, when
    more than `backlog_bytes` wait in its transport.

    Events bound for the broker wait in a queue of at most `publish_limit`; the broker
    counts as degraded when a publish fails or a health check (every `check_interval`
    seconds) gets no answer within `check_timeout`.

    `recheck` (with `authorise`) marks events that change who may read their own
    channel (a thread moved to another board): in seq order, right after such an event
    is sent, the channel's subscribers are held and authorised again, and nothing after
    it reaches them until that is done.
    """

    def __init__(
        self,
        broker: Broker,
        *,
        replay: ReplayFn,
        visible: VisibleFn | None = None,
        public: PublicFn | None = None,
        recheck: RecheckFn | None = None,
        authorise: AuthoriseFn | None = None,
        queue_size: int = 1024,
        backlog_bytes: int = 256 * 1024,
        presence_interval: float = 1.0,
        presence_ttl: float = 30.0,
        replay_timeout: float = 10.0,
        process_id: str | None = None,
        publish_limit: int = 10_000,
        publish_timeout: float = 2.0,
        check_interval: float = 1.0,
        check_timeout: float = 1.0,
    ) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1: the queue must be bounded")
        self.broker = broker
        self.replay = replay
        self.visible = visible
        self.public = public
        if (recheck is None) != (authorise is None):
            raise ValueError("recheck and authorise go together")
        self.recheck_event = recheck
        self.authorise = authorise
        self.queue_size = queue_size
        self.backlog_bytes = backlog_bytes
        self.presence_interval = presence_interval
        self.replay_timeout = replay_timeout
        self.process_id = process_id or uuid.uuid4().hex
        self._presence = Presence(self.process_id, ttl=presence_ttl)
        self._publisher = Publisher(
            broker,
            limit=publish_limit,
            publish_timeout=publish_timeout,
            check_interval=check_interval,
            check_timeout=check_timeout,
            on_dropped=self._ask_recheck,
        )
        self._channels: dict[str, Channel] = {}
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._checks: set[asyncio.Task[int]] = set()
        # After a Redis outage every channel re-checks at once: spare the database.
        self._fill_slots = asyncio.Semaphore(8)
        self._presence_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.broker.set_listener(self.dispatch, on_reconnect=self.recheck)
        await self.broker.connect()
        await self._publisher.start()
        self._presence_task = asyncio.create_task(self._presence_loop(), name="koryu-presence")

    async def stop(self) -> None:
        if self._presence_task is not None:
            self._presence_task.cancel()
            await asyncio.gather(self._presence_task, return_exceptions=True)
            self._presence_task = None
        farewell = self._presence.farewell(self._local_counts())
        if farewell is not None:
            await self._publish_quietly(farewell)
        await self._publisher.stop()
        for conn in self._connections:
            conn.close(_CLOSE_SERVICE_RESTART, "server restarting")
        tasks = [*self._tasks, *self._checks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.broker.disconnect()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def publish(self, event: Event) -> None:
        """Deliver a committed event: to this process's viewers on the next turn of the
        loop, to other processes through the publish queue. Never waits on the broker."""
        asyncio.get_running_loop().call_soon(self.dispatch, event)
        self._publisher.offer(event)

    async def healthy(self) -> bool:
        """Whether the broker answered its last health check and takes publishes.
        Answers from memory: a frozen broker does not hold up the caller."""
        return self._publisher.healthy

    @property
    def broker_problem(self) -> str | None:
        """Why the broker counts as degraded, or None."""
        return self._publisher.problem

    def attach(
        self, transport: Transport, principal: Principal, *, raw: RawSocket | None = None
    ) -> Connection:
        conn = Connection(
            transport,
            principal,
            queue_size=self.queue_size,
            raw=raw,
            backlog_bytes=self.backlog_bytes,
        )
        self._connections.add(conn)
        return conn

    def detach(self, conn: Connection) -> None:
        for channel in list(conn.subscriptions):
            self.unsubscribe(conn, channel)
        self._connections.discard(conn)

    def channels(self) -> list[str]:
        return list(self._channels)

    def viewers(self, channel: str) -> int:
        ch = self._channels.get(channel)
        return (len(ch.subscribers) if ch else 0) + self._presence.remote(channel)

    def dispatch(self, event: Event) -> None:
        """The broker listener. Synchronous: it queues frames and never waits on a socket."""
        if event.channel == PRESENCE_CHANNEL:
            if event.name == PRESENCE_EVENT:
                self._presence.receive(event)
            return
        if event.channel == RECHECK_CHANNEL:
            if event.name == _RECHECK_EVENT and event.data.get("p") != self.process_id:
                self.recheck()
            return
        ch = self._channels.get(event.channel)
        if ch is not None:
            ch.receive(event)

    def recheck(self) -> None:
        """Look for events the broker lost (the on_reconnect hook)."""
        for ch in self._channels.values():
            ch.recheck()

    async def subscribe(
        self, conn: Connection, channel: str, after: int | None, *, replay: ReplayFn | None = None
    ) -> None:
        """Register first, replay second: what is published meanwhile is buffered,
        so it is neither lost nor sent twice. Authorisation is the caller's job."""
        self.unsubscribe(conn, channel)
        ch = self._channels.get(channel)
        if ch is None:
            ch = self._channels[channel] = Channel(
                channel,
                visible=self.visible,
                public=self.public,
                replay=self._replay_bounded,
                spawn=self._spawn,
                delivered=self._delivered if self.recheck_event is not None else None,
            )
        ch.subscribers.add(conn)
        sub = conn.subscriptions[channel] = Subscription()
        self._presence.local_changed(channel)
        try:
            await self._catch_up(conn, ch, sub, after, replay or self.replay)
        except BaseException:
            if conn.subscriptions.get(channel) is sub:
                self.unsubscribe(conn, channel)
            raise

    def unsubscribe(self, conn: Connection, channel: str) -> bool:
        if conn.subscriptions.pop(channel, None) is None:
            return False
        ch = self._channels.get(channel)
        if ch is not None:
            ch.subscribers.discard(conn)
            if not ch.subscribers:
                del self._channels[channel]
                self._presence.forget(channel)
        self._presence.local_changed(channel)
        return True

    def kick(self, channel: str, predicate: Callable[[Principal], bool]) -> int:
        """Drop the subscribers whose principal matches, telling each with a
        `forbidden` error frame. Returns how many were dropped."""
        ch = self._channels.get(channel)
        if ch is None:
            return 0
        return self._drop(channel, [c for c in ch.subscribers if predicate(c.principal)])

    async def revalidate(self, channel: str, authorise: AuthoriseFn) -> int:
        """Re-run `authorise` for every subscriber (e.g. a board went private); live
        events of the checked sockets wait until it is done. Returns how many were dropped."""
        ch = self._channels.get(channel)
        if ch is None:
            return 0
        conns = list(ch.subscribers)
        for conn in conns:
            conn.hold()
        return await self._authorise_held(channel, conns, authorise)

    def reauthenticate(
        self,
        predicate: Callable[[Principal], bool],
        refresh: RefreshFn,
        authorise: AuthoriseFn,
    ) -> asyncio.Task[int]:
        """The rights of the matching principals changed: hold their sockets at once, read
        each principal afresh, close with 4401 those whose login ended, and drop every
        subscription the fresh principal may no longer hold. Returns the task doing it,
        which answers how many sockets it closed."""
        conns = [c for c in self._connections if predicate(c.principal)]
        for conn in conns:
            conn.hold()
        task = asyncio.get_running_loop().create_task(self._refresh_held(conns, refresh, authorise))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)
        return task

    async def _refresh_held(
        self, conns: list[Connection], refresh: RefreshFn, authorise: AuthoriseFn
    ) -> int:
        checks = asyncio.Semaphore(16)
        closed = 0

        async def check(conn: Connection) -> None:
            nonlocal closed
            async with checks:
                try:
                    fresh = await refresh(conn.principal)
                except Exception:
                    # Rights that cannot be read are treated as gone: the client logs in again.
                    logger.exception("refreshing a principal failed")
                    fresh = None
                if fresh is None:
                    conn.close(CLOSE_LOGIN_ENDED, "login ended")
                    closed += 1
                    return
                conn.principal = fresh
                for channel in list(conn.subscriptions):
                    try:
                        allowed = await authorise(fresh, channel)
                    except Exception:
                        logger.exception("authorise failed for %s", channel)
                        allowed = False
                    if not allowed:
                        self._drop(channel, [conn])

        try:
            await asyncio.gather(*map(check, conns))
        finally:
            for conn in conns:
                conn.release(self.visible)
        return closed

    async def _authorise_held(
        self, channel: str, conns: list[Connection], authorise: AuthoriseFn
    ) -> int:
        checks = asyncio.Semaphore(16)

        async def allowed(conn: Connection) -> bool:
            async with checks:
                return await authorise(conn.principal, channel)

        try:
            results = await asyncio.gather(*map(allowed, conns), return_exceptions=True)
            # An authorise that fails closes the door: the client may subscribe again.
            denied = [c for c, ok in zip(conns, results, strict=True) if ok is not True]
            return self._drop(channel, denied)
        finally:
            for conn in conns:
                conn.release(self.visible)

    def _delivered(self, ch: Channel, event: Event) -> None:
        assert self.recheck_event is not None and self.authorise is not None
        if not self.recheck_event(event):
            return
        conns = list(ch.subscribers)
        for conn in conns:
            conn.hold()
        authorise = self.authorise

        async def check() -> None:
            await self._authorise_held(ch.name, conns, authorise)

        self._spawn(check())

    def _drop(self, channel: str, conns: Iterable[Connection]) -> int:
        frame = encode_error("forbidden", "access to this channel was withdrawn", channel)
        wire = websocket_text_frame(frame.encode())
        dropped = 0
        for conn in conns:
            if self.unsubscribe(conn, channel):
                conn.push(frame, wire)
                dropped += 1
        return dropped

    async def _catch_up(
        self,
        conn: Connection,
        ch: Channel,
        sub: Subscription,
        after: int | None,
        replay: ReplayFn,
    ) -> None:
        channel = ch.name
        result = await self._replay(replay, channel, after, None)
        if conn.subscriptions.get(channel) is not sub:
            return
        position = result.head
        ch.learn_head(position)
        if after is not None and after > position:
            # The client claims events the server never had (say, a restored
            # database): only a refetch makes its state trustworthy again.
            result = Resync(position)
        if isinstance(result, Resync):
            await conn.send(encode_resync(channel, position))
        else:
            await conn.send(encode_subscribed(channel, position))
            if after is not None:
                await self._send_replayed(conn, result.events, after, position)
        # Live events are normally contiguous with the head; a hole means the
        # replay lagged behind what the hub had already delivered. Bounded: a
        # hole that persists is reported as a resync by Connection.offer.
        for _ in range(3):
            assert sub.buffer is not None
            hole = ch.hole_after(position, sub.buffer)
            if hole is None or conn.subscriptions.get(channel) is not sub:
                break
            fill = await self._replay(replay, channel, position, hole)
            if isinstance(fill, Resync):
                await conn.send(encode_resync(channel, hole))
            else:
                await self._send_replayed(conn, fill.events, position, hole)
            position = hole
        if conn.subscriptions.get(channel) is not sub or sub.buffer is None:
            return
        # No await from here on: going live is atomic with respect to dispatch.
        buffered, sub.buffer, sub.last_seq = sub.buffer, None, position
        for event in buffered:
            conn.offer(event, self.visible)
        self._presence.force(channel)

    async def _send_replayed(
        self, conn: Connection, events: Iterable[Event], after: int, until: int
    ) -> None:
        last = after
        for event in by_seq(events):
            if last < event.seq <= until:
                last = event.seq
                if conn.sees(event, self.visible):
                    await conn.send(event.text, event.wire)

    async def _replay_bounded(
        self, channel: str, after: int | None, until: int | None
    ) -> Replay | Resync:
        async with self._fill_slots:
            return await self._replay(self.replay, channel, after, until)

    async def _replay(
        self, replay: ReplayFn, channel: str, after: int | None, until: int | None
    ) -> Replay | Resync:
        async with asyncio.timeout(self.replay_timeout):
            try:
                return await replay(channel, after, until)
            except Resync as resync:
                return resync

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _local_counts(self) -> dict[str, int]:
        return {name: len(ch.subscribers) for name, ch in self._channels.items()}

    async def _presence_loop(self) -> None:
        while True:
            await asyncio.sleep(self.presence_interval)
            try:
                await self._presence.tick(self._channels, self._publish_quietly)
            except Exception:
                logger.exception("presence tick failed")

    async def _publish_quietly(self, event: Event) -> bool:
        # Presence is news only while fresh: while the broker is degraded it waits for the
        # next tick rather than crowding the queue of committed events.
        if not self._publisher.healthy:
            return False
        self._publisher.offer(event)
        return True

    def _ask_recheck(self, dropped: int) -> None:
        self._publisher.offer(
            Event(RECHECK_CHANNEL, 0, _RECHECK_EVENT, {"p": self.process_id, "n": dropped})
        )
