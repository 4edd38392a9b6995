"""The hub without sockets: Recorder transports stand in for WebSockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial

import pytest

from realtime import (
    CLOSE_LOGIN_ENDED,
    CLOSE_TOO_SLOW,
    Connection,
    Event,
    Hub,
    MemoryBroker,
    Replay,
    Resync,
)
from tests.realtime.conftest import BrokerFactory
from tests.realtime.support import (
    ANONYMOUS,
    Recorder,
    Store,
    User,
    authorise,
    eventually,
    visible,
)


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
async def hub(store: Store, broker_factory: BrokerFactory) -> AsyncIterator[Hub]:
    async with Hub(broker_factory(), replay=store.replay, visible=visible, queue_size=64) as h:
        yield h


async def watch(
    hub: Hub, channel: str, after: int | None = 0, *, user: User = ANONYMOUS
) -> tuple[Connection, Recorder]:
    recorder = Recorder()
    conn = hub.attach(recorder, user)
    await hub.subscribe(conn, channel, after)
    return conn, recorder


async def received(recorder: Recorder, count: int) -> None:
    await eventually(lambda: len(recorder.seqs()) >= count)


def told_forbidden(recorder: Recorder) -> bool:
    return recorder.decoded()[-1].get("code") == "forbidden"


async def test_one_frame_object_is_sent_to_every_viewer(hub: Hub, store: Store) -> None:
    viewers = [await watch(hub, "thread:1") for _ in range(5)]

    event = store.append("thread:1", body="全国フォーラム")
    await hub.publish(event)

    await eventually(lambda: all(len(r.frames) == 2 for _, r in viewers))
    delivered = {id(recorder.frames[1]) for _, recorder in viewers}
    # With Redis the hub holds a decoded copy, but still one object for everybody.
    assert len(delivered) == 1
    assert all(r.frames[1] == event.text for _, r in viewers)


async def test_subscribers_get_subscribed_then_history_then_live(hub: Hub, store: Store) -> None:
    for _ in range(3):
        store.append("thread:1")
    _, recorder = await watch(hub, "thread:1", after=1)

    await hub.publish(store.append("thread:1"))

    await eventually(lambda: len(recorder.frames) == 4)
    assert recorder.decoded()[0] == {"type": "subscribed", "channel": "thread:1", "seq": 3}
    assert recorder.seqs() == [2, 3, 4]


async def test_duplicates_from_the_broker_are_dropped(hub: Hub, store: Store) -> None:
    _, recorder = await watch(hub, "thread:1")
    first, second = store.append("thread:1"), store.append("thread:1")

    for event in (first, first, second, first, second):
        await hub.publish(event)

    await eventually(lambda: recorder.seqs() == [1, 2])
    await asyncio.sleep(0.05)
    assert recorder.seqs() == [1, 2]


async def test_a_seq_the_broker_skipped_is_filled_from_the_store(hub: Hub, store: Store) -> None:
    _, recorder = await watch(hub, "thread:1")
    events = [store.append("thread:1") for _ in range(4)]

    for event in (events[0], events[3]):  # 2 and 3 were committed but never published
        await hub.publish(event)

    await eventually(lambda: recorder.seqs() == [1, 2, 3, 4])
    assert ("thread:1", 1, 3) in store.calls


async def test_a_gap_whose_history_is_pruned_becomes_a_resync(hub: Hub, store: Store) -> None:
    _, recorder = await watch(hub, "thread:1")
    events = [store.append("thread:1") for _ in range(4)]
    store.pruned["thread:1"] = 3

    await hub.publish(events[0])
    await hub.publish(events[3])

    await eventually(lambda: len(recorder.frames) == 4)
    assert recorder.decoded()[2] == {"type": "resync", "channel": "thread:1", "seq": 3}
    assert recorder.seqs() == [1, 4]


async def test_recheck_after_a_broker_reconnect_delivers_lost_events(
    hub: Hub, store: Store
) -> None:
    _, recorder = await watch(hub, "thread:1")
    await hub.publish(store.append("thread:1"))
    store.append("thread:1")  # published while the broker was away: lost

    await eventually(lambda: recorder.seqs() == [1])
    hub.recheck()

    await eventually(lambda: recorder.seqs() == [1, 2])


async def test_events_a_viewer_may_not_see_are_withheld_without_a_resync(
    hub: Hub, store: Store
) -> None:
    _, anonymous = await watch(hub, "thread:1")
    _, admin = await watch(hub, "thread:1", user=User("admin"))

    for hidden in (False, True, False):
        await hub.publish(store.append("thread:1", hidden=hidden))

    await eventually(lambda: admin.seqs() == [1, 2, 3])
    await eventually(lambda: anonymous.seqs() == [1, 3])
    assert [f["type"] for f in anonymous.decoded()] == ["subscribed", "event", "event"]


async def test_a_viewer_whose_socket_stalls_is_closed_with_4008_and_others_get_everything(
    hub: Hub, store: Store
) -> None:
    slow_conn, slow = await watch(hub, "thread:1")
    _, fast = await watch(hub, "thread:1")
    await eventually(lambda: len(slow.frames) == 1)
    slow.gate.clear()

    for seq in range(1, 201):
        await hub.publish(store.append("thread:1"))
        if seq % 16 == 0:  # a healthy viewer drains its queue between bursts
            await received(fast, seq)

    await eventually(lambda: fast.seqs() == list(range(1, 201)))
    assert slow_conn.close_code == CLOSE_TOO_SLOW
    slow.gate.set()
    await eventually(lambda: slow.closed == CLOSE_TOO_SLOW)
    assert len(slow.seqs()) < 200


async def test_kick_and_revalidate_drop_subscribers_that_lost_access(
    hub: Hub, store: Store
) -> None:
    _, anonymous = await watch(hub, "board:kanto")
    _, admin = await watch(hub, "board:kanto", user=User("admin"))
    _, alice = await watch(hub, "board:kanto", user=User("alice"))

    assert hub.kick("board:kanto", lambda user: user.name == "alice") == 1

    async def admins_only(user: User, channel: str) -> bool:
        return user.admin

    assert await hub.revalidate("board:kanto", admins_only) == 1
    await hub.publish(store.append("board:kanto"))

    await eventually(lambda: admin.seqs() == [1])
    for dropped in (anonymous, alice):
        await eventually(partial(told_forbidden, dropped))
        assert dropped.seqs() == []
    assert hub.viewers("board:kanto") == 1


async def test_presence_counts_viewers_across_processes(broker_factory: BrokerFactory) -> None:
    store = Store()
    first = Hub(broker_factory(), replay=store.replay, presence_interval=0.02)
    second = Hub(broker_factory(), replay=store.replay, presence_interval=0.02)
    async with first:
        await second.start()
        _, here = await watch(first, "session:1")
        await watch(second, "session:1")
        await watch(second, "session:1")

        three = {"type": "presence", "channel": "session:1", "viewers": 3}
        await eventually(lambda: three in here.decoded())
        assert first.viewers("session:1") == 3

        await second.stop()  # says goodbye: its viewers leave the count at once
        await eventually(lambda: here.decoded()[-1].get("viewers") == 1)


async def test_a_replay_that_returns_events_out_of_order_is_sorted(store: Store) -> None:
    async def shuffled(channel: str, after: int | None, until: int | None) -> Replay:
        result = await store.replay(channel, after, until)
        return Replay(list(reversed(result.events)), result.head)

    for _ in range(3):
        store.append("thread:1")
    async with Hub(MemoryBroker(), replay=shuffled) as hub:
        _, recorder = await watch(hub, "thread:1")
        await eventually(lambda: recorder.seqs() == [1, 2, 3])


def test_events_are_values() -> None:
    assert Event("a", 1, "n", {}) == Event("a", 1, "n", {})


async def test_a_replay_may_return_resync_instead_of_raising_it(store: Store) -> None:
    async def pruned(channel: str, after: int | None, until: int | None) -> Resync:
        return Resync(store.head(channel))

    store.append("thread:1")
    async with Hub(MemoryBroker(), replay=pruned) as hub:
        _, recorder = await watch(hub, "thread:1", after=0)
        await eventually(lambda: len(recorder.frames) == 1)
        assert recorder.decoded() == [{"type": "resync", "channel": "thread:1", "seq": 1}]


async def test_a_client_ahead_of_the_server_is_told_to_resync(hub: Hub, store: Store) -> None:
    store.append("thread:1")

    _, recorder = await watch(hub, "thread:1", after=9)

    await eventually(lambda: len(recorder.frames) == 1)
    assert recorder.decoded() == [{"type": "resync", "channel": "thread:1", "seq": 1}]


async def test_a_visible_check_that_raises_withholds_only_that_event(store: Store) -> None:
    def fussy(user: User, event: Event) -> bool:
        if event.seq == 2:
            raise KeyError("board")
        return True

    async with Hub(MemoryBroker(), replay=store.replay, visible=fussy) as hub:
        _, recorder = await watch(hub, "thread:1")
        for _ in range(3):
            await hub.publish(store.append("thread:1"))
        await eventually(lambda: recorder.seqs() == [1, 3])


async def test_visible_runs_per_viewer_only_for_events_public_does_not_clear(
    store: Store, broker_factory: BrokerFactory
) -> None:
    checked: list[str] = []

    def counting_visible(user: User, event: Event) -> bool:
        checked.append(event.channel)
        return visible(user, event)

    def public(event: Event) -> bool:
        return event.channel != "thread:secret"

    async with Hub(
        broker_factory(), replay=store.replay, visible=counting_visible, public=public
    ) as hub:
        viewers = [await watch(hub, channel, user=User("admin")) for channel in ("thread:1",) * 3]
        secret = [await watch(hub, "thread:secret", user=User("admin")) for _ in range(3)]
        await hub.publish(store.append("thread:1"))
        await hub.publish(store.append("thread:secret"))
        await eventually(lambda: all(r.seqs() == [1] for _, r in viewers + secret))
    assert checked == ["thread:secret"] * 3


class GatedStore(Store):
    """Gap fills (bounded replays) wait until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.filling = asyncio.Event()

    async def replay(self, channel: str, after: int | None, until: int | None) -> Replay:
        if until is not None:
            self.filling.set()
            await self.release.wait()
        return await super().replay(channel, after, until)


async def test_a_recheck_during_a_gap_fill_is_not_forgotten(
    broker_factory: BrokerFactory,
) -> None:
    store = GatedStore()
    async with Hub(broker_factory(), replay=store.replay, visible=visible) as hub:
        _, recorder = await watch(hub, "thread:1")
        events = [store.append("thread:1") for _ in range(3)]
        await hub.publish(events[0])
        await hub.publish(events[2])  # 2 is missing: a bounded fill starts and waits
        async with asyncio.timeout(5):
            await store.filling.wait()
        store.append("thread:1")  # 4 commits while the broker is away: never published
        hub.recheck()
        store.release.set()
        await eventually(lambda: recorder.seqs() == [1, 2, 3, 4])


# --- rights that change under an open socket ------------------------------------------------


async def deny_after_move(user: User, channel: str) -> bool:
    """After the test's "moved" event only an admin may read the channel."""
    return user.admin


async def test_a_rechecked_event_holds_what_follows_until_its_viewers_are_authorised_again(
    store: Store, broker_factory: BrokerFactory
) -> None:
    checks = asyncio.Event()

    async def slow_authorise(user: User, channel: str) -> bool:
        await checks.wait()
        return await deny_after_move(user, channel)

    async with Hub(
        broker_factory(),
        replay=store.replay,
        visible=visible,
        recheck=lambda event: event.name == "thread.moved",
        authorise=slow_authorise,
    ) as hub:
        _, outsider = await watch(hub, "thread:1")
        _, admin = await watch(hub, "thread:1", user=User("admin"))
        moved = store.append("thread:1", "thread.moved")
        racing = store.append("thread:1")
        # Another process published the post first: it waits for the gap, filled from
        # the table, and both come through the channel in seq order.
        await hub.publish(racing)
        await hub.publish(moved)
        await received(admin, 1)
        await asyncio.sleep(0.05)
        assert admin.seqs() == [1] and outsider.seqs() == [1]
        checks.set()
        await received(admin, 2)
        await eventually(lambda: told_forbidden(outsider))
    assert admin.seqs() == [1, 2]
    assert outsider.seqs() == [1]


async def test_reauthenticate_closes_ended_logins_and_drops_what_fresh_rights_refuse(
    hub: Hub, store: Store
) -> None:
    kept_conn, kept = await watch(hub, "secret:1", user=User("admin"))
    await hub.subscribe(kept_conn, "thread:1", 0)
    ended_conn, ended = await watch(hub, "thread:1", user=User("admin"))
    _, other = await watch(hub, "thread:1", user=User("bob"))

    async def refresh(user: User) -> User | None:
        # One socket's login ended; the other's user lost the admin role.
        return None if user is ended_conn.principal else User("demoted")

    task = hub.reauthenticate(lambda user: user.name == "admin", refresh, authorise)
    # Held at once: nothing reaches the affected sockets until they are read afresh.
    await hub.publish(store.append("secret:1"))
    assert await task == 1
    await hub.publish(store.append("thread:1"))
    await eventually(lambda: kept.seqs() == [1] and other.seqs() == [1])
    await eventually(lambda: ended.closed == CLOSE_LOGIN_ENDED)
    assert kept_conn.principal == User("demoted")
    assert "secret:1" not in kept_conn.subscriptions and "thread:1" in kept_conn.subscriptions
    assert [f for f in kept.decoded() if f["type"] == "event" and f["channel"] == "secret:1"] == []
    assert ended.seqs() == []
