"""A setting that cannot work stops `koryu serve` and `koryu migrate` with one line, status 2."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from forum.cli import log_config
from forum.config import ConfigError, Settings, database_channel, redacted
from realtime.redis import RedisBroker
from tests.conftest import POSTGRES_URL, REDIS_URL
from tests.forum.demo_site import free_port

KORYU = [sys.executable, "-m", "forum.cli"]
BAD_DATABASE_URLS = {
    "unknown scheme": "mysql://koryu@127.0.0.1/koryu",
    "bare path": "var/koryu.sqlite3",
    "no file": "sqlite://",
    "no database name": "postgres://koryu@127.0.0.1:5432/",
    "unreachable host": "postgres://koryu:secret@127.0.0.1:1/koryu",
    "unknown host": "postgres://koryu@no-such-host.invalid:5432/koryu",
    "file under a file": "sqlite:///dev/null/koryu.sqlite3",
}


def koryu(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    environment.update(
        KORYU_DATABASE_URL=f"sqlite://{tmp_path / 'ok.sqlite3'}",
        KORYU_DATA_DIR=str(tmp_path / "var"),
        KORYU_SECRET_KEY="cli-errors-test",
    )
    environment.update(env)
    return subprocess.run(
        [*KORYU, *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


def assert_refused(done: subprocess.CompletedProcess[str], setting: str) -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"koryu: {setting}"), lines[0]
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr  # a password in the URL is not repeated


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
@pytest.mark.parametrize("case", sorted(BAD_DATABASE_URLS))
def test_a_database_url_that_cannot_work_is_one_line_and_status_2(
    tmp_path: Path, command: list[str], case: str
) -> None:
    done = koryu(command, tmp_path, KORYU_DATABASE_URL=BAD_DATABASE_URLS[case])
    assert_refused(done, "KORYU_DATABASE_URL")


@pytest.mark.skipif(not POSTGRES_URL, reason="KORYU_TEST_DATABASE_URL is not set")
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
def test_a_database_that_does_not_exist_is_one_line_and_status_2(
    tmp_path: Path, command: list[str]
) -> None:
    missing = urlsplit(POSTGRES_URL)._replace(path=f"/koryu_missing_{uuid.uuid4().hex[:12]}")
    done = koryu(command, tmp_path, KORYU_DATABASE_URL=urlunsplit(missing))
    assert_refused(done, "KORYU_DATABASE_URL")
    assert "koryu_missing_" in done.stderr


@pytest.mark.parametrize(
    "broker_url", ["redis://:secret@127.0.0.1:1/0", "127.0.0.1:6379", "amqp://127.0.0.1/"]
)
def test_serve_with_a_broker_it_cannot_reach_is_one_line_and_status_2(
    tmp_path: Path, broker_url: str
) -> None:
    done = koryu(["serve", "--port", "1"], tmp_path, KORYU_BROKER_URL=broker_url)
    assert_refused(done, "KORYU_BROKER_URL")


def test_a_broker_url_of_another_kind_stops_migrate_too(tmp_path: Path) -> None:
    done = koryu(["migrate"], tmp_path, KORYU_BROKER_URL="amqp://127.0.0.1/")
    assert_refused(done, "KORYU_BROKER_URL")


def test_migrate_with_good_settings_still_works(tmp_path: Path) -> None:
    done = koryu(["migrate"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "migrations applied" in done.stdout


@pytest.mark.parametrize("case", ["unknown scheme", "bare path", "no file", "no database name"])
def test_settings_name_the_database_setting_they_refuse(tmp_path: Path, case: str) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_SECRET_KEY": "k"}
    with pytest.raises(ConfigError, match=r"^KORYU_DATABASE_URL"):
        Settings.from_env({**env, "KORYU_DATABASE_URL": BAD_DATABASE_URLS[case]})


def test_settings_accept_every_documented_database_url(tmp_path: Path) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_SECRET_KEY": "k"}
    for url in (
        "sqlite://var/koryu.sqlite3",
        "sqlite:///srv/koryu/koryu.sqlite3",
        "sqlite://:memory:",
        "postgres://koryu@db.internal:5432/koryu",
        "postgresql://koryu:pw@db.internal/koryu?maxsize=20",
        "asyncpg://koryu@127.0.0.1/koryu",
    ):
        assert Settings.from_env({**env, "KORYU_DATABASE_URL": url}).database_url == url
    assert Settings.from_env(env).database_url == "sqlite://var/koryu.sqlite3"


def test_a_password_never_appears_in_a_redacted_url() -> None:
    assert redacted("postgres://koryu:s3cret@db:5432/koryu") == "postgres://koryu:***@db:5432/koryu"
    assert redacted("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert redacted("sqlite://var/koryu.sqlite3") == "sqlite://var/koryu.sqlite3"


# --- every worker logs its Redis channel ---------------------------------------------------


def test_a_worker_started_with_the_serve_log_config_logs_koryus_info_lines() -> None:
    # What uvicorn does first in every worker process of `koryu serve --workers N`.
    script = (
        "import logging, uvicorn.config, forum.cli\n"
        "uvicorn.config.Config('forum.app:create_app', log_config=forum.cli.log_config())"
        ".configure_logging()\n"
        "logging.getLogger('realtime.redis').info('redis broker: pub/sub channel koryu:x')\n"
        "logging.getLogger('tortoise').info('Tortoise-ORM started')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "INFO realtime.redis [" in done.stderr
    assert "redis broker: pub/sub channel koryu:x" in done.stderr
    assert "Tortoise-ORM started" not in done.stderr


def test_the_serve_log_config_keeps_uvicorns_own_loggers() -> None:
    config = log_config()
    assert {"uvicorn", "uvicorn.error", "uvicorn.access"} <= set(config["loggers"])
    assert config["root"]["level"] == "INFO"


@pytest.mark.skipif(not REDIS_URL, reason="KORYU_TEST_REDIS_URL is not set")
async def test_a_process_logs_the_channel_it_derived_from_its_database_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite://{tmp_path}/site.sqlite3", broker_url=REDIS_URL)
    broker = RedisBroker(settings.realtime_broker_url)
    broker.set_listener(lambda event: None)
    with caplog.at_level(logging.INFO, logger="realtime.redis"):
        await broker.connect()
        await broker.disconnect()
    channel = database_channel(settings.database_url)
    assert f"redis broker: pub/sub channel {channel}" in caplog.text


@pytest.mark.slow
@pytest.mark.skipif(
    not (REDIS_URL and POSTGRES_URL), reason="needs KORYU_TEST_DATABASE_URL and _REDIS_URL"
)
def test_each_worker_of_serve_logs_its_redis_channel(
    tmp_path: Path, postgres_migrated: str
) -> None:
    channel = database_channel(postgres_migrated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    env.update(
        KORYU_DATABASE_URL=postgres_migrated,
        KORYU_BROKER_URL=REDIS_URL,
        KORYU_SECRET_KEY="workers-test",
        KORYU_DATA_DIR=str(tmp_path),
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*KORYU, "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            workers: set[str] = set()
            said = re.compile(rf"\[(\d+)\]: redis broker: pub/sub channel {channel}$", re.M)
            for _ in range(300):
                workers = set(said.findall(log_path.read_text()))
                if len(workers) >= 2 or server.poll() is not None:
                    break
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(20)
    assert len(workers) == 2, log_path.read_text()
