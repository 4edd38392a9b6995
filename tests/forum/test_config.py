"""Settings come from KORYU_* once, with clear errors and a kept development key."""

from __future__ import annotations

from pathlib import Path

import pytest

from forum.config import ConfigError, Settings


def test_defaults_are_sqlite_and_the_memory_broker(tmp_path: Path) -> None:
    settings = Settings.from_env({"KORYU_DATA_DIR": str(tmp_path)})
    assert settings.database_url == "sqlite://var/koryu.sqlite3"
    assert settings.broker_url == "memory://"
    assert settings.allowed_origins == frozenset({"http://127.0.0.1:8000"})


def test_without_a_secret_key_one_is_generated_once_and_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Settings.from_env({"KORYU_DATA_DIR": str(tmp_path)})
    second = Settings.from_env({"KORYU_DATA_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert "KORYU_SECRET_KEY is not set" in caplog.text


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KORYU_SECRET_KEY"):
        Settings.from_env({"KORYU_ENV": "production", "KORYU_DATA_DIR": str(tmp_path)})


def test_values_are_cast_and_bad_values_are_named(tmp_path: Path) -> None:
    env = {
        "KORYU_DATA_DIR": str(tmp_path),
        "KORYU_SECRET_KEY": "k",
        "KORYU_SITE_URL": "https://koryu.example.jp/",
        "KORYU_ALLOWED_ORIGINS": "https://a.example.jp, https://b.example.jp:8443",
        "KORYU_REGISTRATION_OPEN": "no",
        "KORYU_POSTS_PER_MINUTE": "3",
    }
    settings = Settings.from_env(env)
    assert settings.allowed_origins == {
        "https://koryu.example.jp",
        "https://a.example.jp",
        "https://b.example.jp:8443",
    }
    assert settings.registration_open is False
    assert settings.posts_per_minute == 3
    assert settings.secure_cookies is True
    with pytest.raises(ConfigError, match="KORYU_POSTS_PER_MINUTE"):
        Settings.from_env({**env, "KORYU_POSTS_PER_MINUTE": "many"})
    with pytest.raises(ConfigError, match="KORYU_REGISTRATION_OPEN"):
        Settings.from_env({**env, "KORYU_REGISTRATION_OPEN": "maybe"})
    with pytest.raises(ConfigError, match="origin"):
        Settings.from_env({**env, "KORYU_ALLOWED_ORIGINS": "ftp://x"})


def test_websocket_connections_per_address_default_to_50_and_must_be_positive(
    tmp_path: Path,
) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_SECRET_KEY": "k"}
    assert Settings.from_env(env).ws_connections_per_ip == 50
    assert Settings.from_env({**env, "KORYU_WS_CONNECTIONS_PER_IP": "8"}).ws_connections_per_ip == 8
    with pytest.raises(ConfigError, match="KORYU_WS_CONNECTIONS_PER_IP must be at least 1"):
        Settings.from_env({**env, "KORYU_WS_CONNECTIONS_PER_IP": "0"})


def test_the_password_hasher_is_full_cost_argon2_unless_set(tmp_path: Path) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_SECRET_KEY": "k"}
    assert Settings().password_hasher == "argon2"
    assert Settings.from_env(env).password_hasher == "argon2"
    assert Settings.from_env({**env, "KORYU_PASSWORD_HASHER": "Fast "}).password_hasher == "fast"
    with pytest.raises(ConfigError, match="KORYU_PASSWORD_HASHER must be one of argon2, fast"):
        Settings.from_env({**env, "KORYU_PASSWORD_HASHER": "md5"})


def test_production_refuses_the_fast_password_hasher(tmp_path: Path) -> None:
    env = {
        "KORYU_ENV": "production",
        "KORYU_DATA_DIR": str(tmp_path),
        "KORYU_SECRET_KEY": "k",
        "KORYU_PASSWORD_HASHER": "fast",
    }
    with pytest.raises(ConfigError, match="refused when KORYU_ENV=production"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match="KORYU_PASSWORD_HASHER=fast"):
        Settings(production=True, password_hasher="fast")
    assert Settings.from_env({**env, "KORYU_PASSWORD_HASHER": "argon2"}).production
