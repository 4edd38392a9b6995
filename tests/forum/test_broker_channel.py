"""A site's Redis pub/sub channel: named in KORYU_BROKER_URL, or derived from its database."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from forum.config import Settings, broker_url_with_channel, database_channel
from realtime import Event, create_broker
from realtime.redis import RedisBroker, split_channel
from tests.conftest import REDIS_URL
from tests.realtime.support import eventually

REDIS = "redis://127.0.0.1:6379/0"


def channel_of(settings: Settings) -> str | None:
    return split_channel(settings.realtime_broker_url)[1]


def test_the_default_channel_is_stable_and_differs_per_database() -> None:
    prod = "postgres://koryu:secret@db.internal:5432/koryu"
    assert database_channel(prod) == database_channel(prod)
    assert database_channel(prod).startswith("koryu:")
    assert len(database_channel(prod)) == len("koryu:") + 16
    # Known value: a new release must not move a running site to another channel.
    assert database_channel("postgres://koryu@db.internal:5432/koryu") == "koryu:" + (
        "f1348ca0d3c22660"
    )
    # The same database, spelled with another password, port default, driver or options.
    for same in (
        "postgres://koryu:rotated@db.internal:5432/koryu",
        "postgres://koryu@db.internal/koryu",
        "asyncpg://koryu:secret@DB.internal:5432/koryu?maxsize=20",
        "postgresql://koryu:secret@db.internal:5432/koryu",
    ):
        assert database_channel(same) == database_channel(prod), same
    # Another database, host, port or user is another site.
    for other in (
        "postgres://koryu:secret@db.internal:5432/koryu_staging",
        "postgres://koryu:secret@db2.internal:5432/koryu",
        "postgres://koryu:secret@db.internal:5433/koryu",
        "postgres://other:secret@db.internal:5432/koryu",
        "sqlite://var/koryu.sqlite3",
    ):
        assert database_channel(other) != database_channel(prod), other


def test_sqlite_paths_are_compared_as_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = database_channel("sqlite://var/koryu.sqlite3")
    assert relative == database_channel(f"sqlite://{tmp_path}/var/koryu.sqlite3")
    assert relative != database_channel(f"sqlite://{tmp_path}/other/koryu.sqlite3")


def test_the_broker_url_gets_the_channel_unless_it_names_one() -> None:
    db = "postgres://koryu:secret@db.internal:5432/koryu"
    derived = database_channel(db)
    assert broker_url_with_channel(REDIS, db) == f"{REDIS}?channel={derived}"
    assert broker_url_with_channel(f"{REDIS}?health_check_interval=5", db) == (
        f"{REDIS}?health_check_interval=5&channel={derived}"
    )
    assert broker_url_with_channel(f"{REDIS}?channel=koryu-prod", db) == (
        f"{REDIS}?channel=koryu-prod"
    )
    assert broker_url_with_channel("rediss://cache:6380/1", db).endswith(f"?channel={derived}")
    assert broker_url_with_channel("memory://", db) == "memory://"
    assert "secret" not in broker_url_with_channel(REDIS, db)


def test_settings_from_the_environment_resolve_the_channel(tmp_path: Path) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_SECRET_KEY": "k"}
    prod = "postgres://koryu:secret@db.internal:5432/koryu"
    a = Settings.from_env({**env, "KORYU_DATABASE_URL": prod, "KORYU_BROKER_URL": REDIS})
    b = Settings.from_env({**env, "KORYU_DATABASE_URL": prod, "KORYU_BROKER_URL": REDIS})
    other = Settings.from_env(
        {**env, "KORYU_DATABASE_URL": prod + "_test", "KORYU_BROKER_URL": REDIS}
    )
    named = Settings.from_env(
        {**env, "KORYU_DATABASE_URL": prod, "KORYU_BROKER_URL": f"{REDIS}?channel=koryu-prod"}
    )
    assert a.broker_url == REDIS  # as configured; the channel is added where it is used
    assert channel_of(a) == channel_of(b) == database_channel(prod)
    assert channel_of(other) != channel_of(a)
    assert channel_of(named) == "koryu-prod"
    broker = create_broker(a.realtime_broker_url)
    assert isinstance(broker, RedisBroker)
    assert broker.channel == database_channel(prod)
    assert Settings.from_env(env).realtime_broker_url == "memory://"


@pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")
async def test_two_sites_on_one_redis_do_not_mix_their_events(tmp_path: Path) -> None:
    # Two databases of this run's own: their derived channels are unique to it as well.
    run = f"{os.getpid()}-{tmp_path.name}"
    site_a = Settings(database_url=f"sqlite://{tmp_path}/a-{run}.sqlite3", broker_url=REDIS_URL)
    site_b = Settings(database_url=f"sqlite://{tmp_path}/b-{run}.sqlite3", broker_url=REDIS_URL)
    a = create_broker(site_a.realtime_broker_url)
    b1, b2 = create_broker(site_b.realtime_broker_url), create_broker(site_b.realtime_broker_url)
    heard: dict[str, list[Event]] = {"a": [], "b2": []}
    a.set_listener(heard["a"].append)
    b2.set_listener(heard["b2"].append)
    for broker in (a, b1, b2):
        await broker.connect()
    try:
        sent = [Event("thread:1", seq, "post.created", {"site": "b"}) for seq in (1, 2)]
        for event in sent:
            await b1.publish(event)
        await eventually(lambda: len(heard["b2"]) == 2)
        await asyncio.sleep(0.2)
        assert heard["b2"] == sent
        assert heard["a"] == []
    finally:
        for broker in (a, b1, b2):
            await broker.disconnect()
