"""The koryu command: migrate, createuser, demo and serve's refusals."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def koryu(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "KORYU_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "KORYU_DATA_DIR": str(tmp_path / "var"),
        "KORYU_SECRET_KEY": "cli-test",
        "KORYU_PASSWORD_HASHER": "fast",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "forum.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_migrate_createuser_and_demo_work_on_an_empty_database(tmp_path: Path) -> None:
    assert koryu(["migrate"], tmp_path).returncode == 0
    created = koryu(
        ["createuser", "chief", "--role", "admin", "--password-stdin"],
        tmp_path,
        stdin="a long password here\n",
    )
    assert created.returncode == 0, created.stderr
    assert "created chief (admin)" in created.stdout
    demo = koryu(["demo"], tmp_path)
    assert demo.returncode == 0, demo.stderr
    again = koryu(["demo"], tmp_path)
    assert "already present" in again.stdout
    db = sqlite3.connect(tmp_path / "cli.sqlite3")
    titles = {row[0] for row in db.execute("SELECT title FROM boards")}
    assert {"関係人口の創出・拡大", "移住・定住", "デジタル活用", "実践事例"} <= titles
    roles = {row[0] for row in db.execute("SELECT role FROM users")}
    (chief,) = db.execute("SELECT password_hash FROM users WHERE username = 'chief'").fetchone()
    assert chief.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # KORYU_PASSWORD_HASHER=fast
    assert roles == {"participant", "expert", "moderator", "admin"}
    assert db.execute("SELECT count(*) FROM posts").fetchone()[0] >= 10
    assert db.execute("SELECT count(*) FROM threads WHERE featured").fetchone()[0] >= 1


def test_createuser_refuses_a_bad_name_or_role_with_a_message(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "cli.sqlite3")  # migrated already
    bad_name = koryu(
        ["createuser", "No Spaces", "--password-stdin"], tmp_path, stdin="a long password here\n"
    )
    assert bad_name.returncode == 1
    assert "username" in bad_name.stderr
    bad_role = koryu(
        ["createuser", "okname", "--role", "king", "--password-stdin"], tmp_path, stdin="pw\n"
    )
    assert bad_role.returncode == 2
    assert "unknown role" in bad_role.stderr


def test_serve_with_workers_refuses_the_memory_broker(tmp_path: Path) -> None:
    refused = koryu(["serve", "--workers", "2"], tmp_path)
    assert refused.returncode == 2
    assert "memory://" in refused.stderr


def test_production_without_a_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "KORYU_SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "forum.cli", "migrate"],
        capture_output=True,
        text=True,
        env={**env, "KORYU_ENV": "production", "KORYU_DATA_DIR": str(tmp_path)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "KORYU_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("command", [["serve", "--help"], ["createuser", "--help"]])
def test_help_lists_the_documented_options(tmp_path: Path, command: list[str]) -> None:
    result = koryu(command, tmp_path)
    assert result.returncode == 0
    expected = "--workers" if command[0] == "serve" else "--password-stdin"
    assert expected in result.stdout


def test_serve_bounds_websocket_frames_and_trusts_proxy_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from forum.cli import main

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setenv("KORYU_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("KORYU_SECRET_KEY", "cli-test")
    assert main(["serve", "--port", "8123"]) == 0
    [options] = calls
    assert options["ws_max_size"] == 16 * 1024
    assert options["ws_per_message_deflate"] is False
    assert options["proxy_headers"] is True
