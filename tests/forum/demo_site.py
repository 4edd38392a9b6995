"""A real `koryu serve` on a free loopback port, migrated and loaded with the demo content."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2

HOST = "127.0.0.1"
READY_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def site_env(tmp_path: Path, port: int) -> dict[str, str]:
    # Only this site's settings: none of the caller's KORYU_* leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    env.update(
        KORYU_DATABASE_URL=f"sqlite://{tmp_path / 'site.sqlite3'}",
        KORYU_SECRET_KEY="demo-site-test",
        KORYU_SITE_URL=f"http://{HOST}:{port}",
        KORYU_DATA_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def demo_site(
    koryu: Sequence[str],
    tmp_path: Path,
    *,
    cwd: Path,
    settings: Mapping[str, str] | None = None,
) -> Iterator[str]:
    """`koryu migrate`, `koryu demo`, then `koryu serve`; yields the base URL until stopped.

    ``settings`` are more ``KORYU_*`` variables (another database, other limits)."""
    port = free_port()
    env = {**site_env(tmp_path, port), **(settings or {})}
    for command in (["migrate"], ["demo"]):
        done = subprocess.run(
            [*koryu, *command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"koryu {command[0]}: {done.stdout}{done.stderr}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*koryu, "serve", "--host", HOST, "--port", str(port)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://{HOST}:{port}"
            _wait_until_healthy(base, server, log_path)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    last = "no answer"
    with httpx2.Client(base_url=base, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise AssertionError(f"koryu serve exited: {log_path.read_text()[-4000:]}")
            try:
                response = client.get("/healthz")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text}"
            except httpx2.TransportError as exc:
                last = repr(exc)
            time.sleep(0.1)
    raise AssertionError(
        f"not ready after {READY_SECONDS} s: {last}\n{log_path.read_text()[-4000:]}"
    )
