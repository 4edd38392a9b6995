"""Every broker test runs on the in-memory bus, and on Redis when
KORYU_TEST_REDIS_URL is set (then a Redis that is down fails, it does not skip)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable

import pytest

from realtime import Broker, MemoryBroker, MemoryBus

REDIS_URL = os.environ.get("KORYU_TEST_REDIS_URL", "")
BROKERS = ["memory", *(["redis"] if REDIS_URL else [])]

# Each call is one more "process" on the same bus.
BrokerFactory = Callable[[], Broker]


def unique_channel_url(url: str) -> str:
    """``url`` with a Redis pub/sub channel no other test (or test run) uses."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}channel=koryu:test:{uuid.uuid4().hex}"


def redis_factory(url: str) -> BrokerFactory:
    from realtime.redis import RedisBroker

    # A channel of its own keeps parallel runs (and the forum's tests) apart; every broker
    # of one factory is a process of the same site, so they share it.
    channel_url = unique_channel_url(url)
    return lambda: RedisBroker(channel_url, min_backoff=0.02, max_backoff=0.2)


@pytest.fixture(params=BROKERS)
def broker_factory(request: pytest.FixtureRequest) -> BrokerFactory:
    if request.param == "redis":
        return redis_factory(REDIS_URL)
    bus = MemoryBus()
    return lambda: MemoryBroker(bus)
