"""The Redis pub/sub channel comes from the broker URL: brokers on different channels never
see each other's events, brokers on the same channel see all of them."""

from __future__ import annotations

import asyncio

import pytest

from realtime import Event, create_broker
from realtime.redis import DEFAULT_CHANNEL, RedisBroker, split_channel
from tests.realtime.conftest import REDIS_URL, unique_channel_url
from tests.realtime.support import eventually

needs_redis = pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")


def test_the_channel_parameter_is_taken_out_of_the_url() -> None:
    assert split_channel("redis://127.0.0.1:6379/0?channel=koryu-prod") == (
        "redis://127.0.0.1:6379/0",
        "koryu-prod",
    )
    assert split_channel("rediss://:p%40ss@cache:6380/1?ssl_cert_reqs=none&channel=a%3Ab") == (
        "rediss://:p%40ss@cache:6380/1?ssl_cert_reqs=none",
        "a:b",
    )
    assert split_channel("redis://h/0?health_check_interval=5") == (
        "redis://h/0?health_check_interval=5",
        None,
    )
    assert split_channel("redis://h/0") == ("redis://h/0", None)
    with pytest.raises(ValueError, match="more than one"):
        split_channel("redis://h/0?channel=a&channel=b")
    with pytest.raises(ValueError, match="empty"):
        split_channel("redis://h/0?channel=")


def test_the_broker_takes_its_channel_from_the_url_or_the_keyword() -> None:
    broker = create_broker("redis://127.0.0.1:6379/0?channel=koryu-prod")
    assert isinstance(broker, RedisBroker)
    assert broker.channel == "koryu-prod"
    assert broker._url == "redis://127.0.0.1:6379/0"
    assert RedisBroker("redis://127.0.0.1:6379/0", channel="x").channel == "x"
    assert RedisBroker("redis://127.0.0.1:6379/0?channel=x", channel="x").channel == "x"
    assert RedisBroker("redis://127.0.0.1:6379/0").channel == DEFAULT_CHANNEL
    with pytest.raises(ValueError, match="two channels"):
        RedisBroker("redis://127.0.0.1:6379/0?channel=x", channel="y")


@needs_redis
async def test_brokers_on_different_channels_do_not_see_each_others_events() -> None:
    site_a = [create_broker(unique_channel_url(REDIS_URL))]
    url_b = unique_channel_url(REDIS_URL)
    site_b = [create_broker(url_b), create_broker(url_b)]
    heard: dict[str, list[Event]] = {"a": [], "b0": [], "b1": []}
    site_a[0].set_listener(heard["a"].append)
    site_b[0].set_listener(heard["b0"].append)
    site_b[1].set_listener(heard["b1"].append)
    brokers = site_a + site_b
    for broker in brokers:
        await broker.connect()
    try:
        # Both sites number thread:1 from 1: mixed up, these would be wrong events.
        ours = [Event("thread:1", seq, "post.created", {"site": "b"}) for seq in (1, 2, 3)]
        theirs = [Event("thread:1", seq, "post.created", {"site": "a"}) for seq in (1, 2, 3)]
        for mine, other in zip(ours, theirs, strict=True):
            await site_b[0].publish(mine)
            await site_a[0].publish(other)
        await eventually(lambda: len(heard["b1"]) == 3 and len(heard["a"]) == 3)
        await asyncio.sleep(0.2)  # anything crossing over would have arrived by now
        assert heard["b0"] == ours
        assert heard["b1"] == ours
        assert heard["a"] == theirs
    finally:
        for broker in brokers:
            await broker.disconnect()
