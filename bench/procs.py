"""Child processes (pinned, logged, always stopped), /proc readings and small sync HTTP calls.

Everything listens on and talks to 127.0.0.1 only. Every child is registered and stopped
by `stop_all()` (SIGTERM, then SIGKILL), which the CLI runs on exit and on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PYTHON = sys.executable
STOP_SECONDS = 5.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def core_plan() -> tuple[set[int], set[int]]:
    """(server cores, load-generator cores): the first CPU serves, the second loads."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[0]}, {cpus[1]}


def pinned(cpus: set[int], command: list[str]) -> list[str]:
    spec = ",".join(str(c) for c in sorted(cpus))
    return [PYTHON, "-m", "bench.launch", "--cpus", spec, "--", *command]


@dataclass
class Child:
    """A child process whose output goes to a log file, never to a pipe that can fill up."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 3000) -> str:
        if not self.log_file.closed:
            self.log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n{text[-chars:]}"

    def stop(self) -> None:
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # a process stuck in D state
            self.popen.wait(STOP_SECONDS)
        if not self.log_file.closed:
            self.log_file.close()
        _children.discard(self)

    def __hash__(self) -> int:
        return id(self)


_children: set[Child] = set()


def spawn(
    name: str,
    command: list[str],
    *,
    env: dict[str, str],
    log_dir: Path,
    cpus: set[int] | None = None,
    stdout: int | None = None,
    cwd: Path | None = None,
) -> Child:
    log_path = log_dir / f"{name}.log"
    log_file = log_path.open("ab")
    args = pinned(cpus, command) if cpus else command
    try:
        popen = subprocess.Popen(
            args,
            cwd=cwd or ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else log_file,
            stderr=log_file if stdout is not None else subprocess.STDOUT,
        )
    except BaseException:
        log_file.close()
        raise
    child = Child(name, popen, log_path, log_file)
    _children.add(child)
    return child


def stop_all() -> None:
    for child in list(_children):
        child.stop()


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C does, so `finally` blocks stop the children."""

    def unwind(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, unwind)
    # A shell without job control starts background commands with SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: install it explicitly.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the whole process (all threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        raw = f.read()
    fields = raw[raw.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def http_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    """One request to loopback; returns (status, decoded JSON or text)."""
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"loopback only: {url}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_ready(child: Child, url: str, *, seconds: float = 30.0) -> None:
    """Poll `url` until it answers 200; fail early if the child exits."""
    deadline = time.monotonic() + seconds
    last = "no answer"
    for _ in range(int(seconds / 0.05) + 1):
        if not child.alive:
            raise RuntimeError(f"{child.name} exited with {child.popen.returncode}\n{child.tail()}")
        try:
            status, body = http_json("GET", url, timeout=2.0)
            if status == 200:
                return
            last = f"{status} {body}"
        except OSError as exc:
            last = repr(exc)
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    raise RuntimeError(f"{child.name} not ready after {seconds} s: {last}\n{child.tail()}")
