"""Real `koryu serve` processes, a private redis-server, and viewers that follow a thread.

Everything here is bounded: every wait has a deadline, every loop a count, and every
process is stopped (killed if it will not stop) by the context manager that started it.
Everything listens on loopback only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2
import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import REDIS_URL
from tests.realtime.support import Frame, open_ws, subscribe

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
# Both processes accept this Origin besides their own site URL, as behind one proxy.
ORIGIN = "http://koryu.test"
ADMIN = "admin-sato"
PASSWORD = "correct horse battery"
READY_SECONDS = 30.0
STOP_SECONDS = 5.0
KORYU = [sys.executable, "-m", "forum.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A child process whose output goes to a log file (never a pipe that can fill up)."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @classmethod
    def start(cls, name: str, args: list[str], env: dict[str, str], log_path: Path) -> Process:
        log_file = log_path.open("ab")
        try:
            popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            log_file.close()
            raise
        return cls(name, popen, log_path, log_file)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, chars: int = 4000) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n{text[-chars:]}"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to its sockets or to the broker."""
        if self.alive:
            self.popen.send_signal(signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_SECONDS."""
        if self.alive:
            self.popen.terminate()
            try:
                self.popen.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        self._reap()

    def _reap(self) -> None:
        with suppress(subprocess.TimeoutExpired):  # only a process stuck in the kernel
            self.popen.wait(STOP_SECONDS)
        self.log_file.close()


@contextmanager
def stopping(processes: Sequence[Process]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.stop()


def koryu_env(database_url: str, broker_url: str, port: int, data_dir: Path) -> dict[str, str]:
    # Only this test's settings: none of the caller's KORYU_* leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    env.update(
        KORYU_DATABASE_URL=database_url,
        KORYU_BROKER_URL=broker_url,
        KORYU_SECRET_KEY="test",
        KORYU_SITE_URL=f"http://{HOST}:{port}",
        KORYU_ALLOWED_ORIGINS=ORIGIN,
        KORYU_DATA_DIR=str(data_dir),
        KORYU_POSTS_PER_MINUTE="1000",
        # Every viewer of these tests comes from loopback: lift the per-address socket cap.
        KORYU_WS_CONNECTIONS_PER_IP="100000",
        KORYU_PASSWORD_HASHER="fast",
        PYTHONUNBUFFERED="1",
    )
    return env


def createuser(database_url: str, data_dir: Path, name: str = ADMIN) -> None:
    """`koryu createuser NAME --role admin --password-stdin` against the shared database."""
    env = koryu_env(database_url, "memory://", 8000, data_dir)
    result = subprocess.run(
        [*KORYU, "createuser", name, "--role", "admin", "--password-stdin"],
        cwd=ROOT,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass
class Koryu(Process):
    """One `koryu serve` process on loopback."""

    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/ws"

    @classmethod
    def launch(cls, name: str, database_url: str, broker_url: str, tmp_path: Path) -> Koryu:
        port = free_port()
        data_dir = tmp_path / name
        data_dir.mkdir(exist_ok=True)
        args = [*KORYU, "serve", "--host", HOST, "--port", str(port)]
        process = Process.start(
            name,
            args,
            koryu_env(database_url, broker_url, port, data_dir),
            tmp_path / f"{name}.log",
        )
        return cls(process.name, process.popen, process.log_path, process.log_file, port)

    async def ready(self, seconds: float = READY_SECONDS) -> None:
        """Poll GET /healthz until it answers 200 "ok" (the database and the broker are up;
        a process whose broker is down answers 200 "degraded")."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        last = "no answer"
        async with httpx2.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            for _ in range(int(seconds / 0.1) + 1):
                if not self.alive:
                    raise AssertionError(
                        f"{self.name} exited with {self.popen.returncode}\n{self.tail()}"
                    )
                try:
                    response = await client.get("/healthz")
                    if response.status_code == 200 and response.json()["status"] == "ok":
                        return
                    last = f"{response.status_code} {response.text}"
                except httpx2.TransportError as exc:
                    last = repr(exc)
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready after {seconds} s: {last}\n{self.tail()}")


@asynccontextmanager
async def koryu_servers(
    names: list[str], database_url: str, broker_url: str, tmp_path: Path
) -> AsyncIterator[list[Koryu]]:
    servers: list[Koryu] = []
    with stopping(servers):
        for name in names:
            servers.append(Koryu.launch(name, database_url, broker_url, tmp_path))
        # Wait for every one, so no readiness check is left running when one fails.
        results = await asyncio.gather(*(s.ready() for s in servers), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        yield servers


@dataclass
class RedisServer:
    """A redis-server of the test's own, so it can be killed and started again."""

    binary: str
    tmp_path: Path
    port: int = field(default_factory=free_port)
    process: Process | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    async def start(self) -> None:
        assert self.process is None or not self.process.alive
        self.starts += 1
        args = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", ""]
        args += ["--appendonly", "no", "--daemonize", "no", "--dir", str(self.tmp_path)]
        self.process = Process.start(
            f"redis-{self.starts}", args, dict(os.environ), self.tmp_path / "redis.log"
        )
        await self._ready()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    async def _ready(self, seconds: float = 10.0) -> None:
        assert self.process is not None
        for _ in range(int(seconds / 0.05)):
            if not self.process.alive:
                raise AssertionError(f"redis-server exited\n{self.process.tail()}")
            if await self._ping():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"redis-server not ready after {seconds} s\n{self.process.tail()}")

    async def _ping(self) -> bool:
        try:
            async with asyncio.timeout(1):
                reader, writer = await asyncio.open_connection(HOST, self.port)
                try:
                    writer.write(b"PING\r\n")
                    await writer.drain()
                    return (await reader.readline()).startswith(b"+PONG")
                finally:
                    writer.close()
                    with suppress(OSError):
                        await writer.wait_closed()
        except (OSError, TimeoutError):
            return False


@dataclass
class Api:
    """The JSON API of one process, as the admin."""

    client: httpx2.AsyncClient
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def login(self) -> None:
        response = await self.client.post(
            "/api/v1/tokens", json={"username": ADMIN, "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        self.token = response.json()["token"]

    async def thread(self, slug: str = "kankei") -> dict[str, Any]:
        board = {"slug": slug, "title": "関係人口", "moderation": "open"}
        made = await self.client.post("/api/v1/boards", json=board, headers=self.headers)
        assert made.status_code == 201, made.text
        response = await self.client.post(
            f"/api/v1/boards/{slug}/threads",
            json={"title": "全国フォーラム ライブQ&A", "body": "はじめます"},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return dict(response.json()["thread"])

    async def post(self, thread_id: int, body: str) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/threads/{thread_id}/posts", json={"body": body}, headers=self.headers
        )
        assert response.status_code == 201, f"{self.client.base_url}: {response.text}"
        post = dict(response.json())
        assert post["status"] == "published", post
        return post


@asynccontextmanager
async def api(server: Koryu, token: str = "") -> AsyncIterator[Api]:
    async with httpx2.AsyncClient(base_url=server.base_url, timeout=10.0) as client:
        yield Api(client, token)


@dataclass
class Follower:
    """A viewer of one channel that keeps its position across reconnects, as the browser does."""

    channel: str
    after: int
    events: list[Frame] = field(default_factory=list)
    others: list[Frame] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    ws: ClientConnection | None = None

    @property
    def last_seq(self) -> int:
        return int(self.events[-1]["seq"]) if self.events else self.after

    @property
    def seqs(self) -> list[int]:
        return [int(frame["seq"]) for frame in self.events]

    @property
    def post_ids(self) -> list[int]:
        return [int(f["data"]["id"]) for f in self.events if f["name"] == "post.created"]

    async def connect(self, url: str) -> None:
        """Open a socket and subscribe from the last seq seen."""
        self.ws = await open_ws(url, origin=ORIGIN)
        frame = await subscribe(self.ws, self.channel, after=self.last_seq)
        assert (frame["type"], frame["channel"]) == ("subscribed", self.channel), frame
        self.servers.append(url)

    async def reconnect(self, url: str, attempts: int = 50) -> None:
        await self.close()
        for _ in range(attempts):
            try:
                await self.connect(url)
                return
            except (OSError, InvalidStatus, TimeoutError, ConnectionClosed):
                await asyncio.sleep(0.1)
        raise AssertionError(f"could not reconnect to {url}")

    async def read(
        self,
        posts: int,
        *,
        seconds: float,
        fallback: str | None = None,
        resume: asyncio.Event | None = None,
    ) -> None:
        """Read until `posts` post.created frames have arrived in all; on a dropped
        socket wait for `resume` (a client's backoff), then resume from the last seq
        on `fallback`. Fails after `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        for _ in range(100_000):
            if len(self.post_ids) >= posts:
                return
            assert self.ws is not None
            try:
                async with asyncio.timeout(max(deadline - loop.time(), 0)):
                    raw = await self.ws.recv()
            except TimeoutError:
                raise AssertionError(
                    f"{self.channel}: {len(self.post_ids)} of {posts} posts after {seconds} s; "
                    f"seqs {self.seqs}, other frames {self.others}"
                ) from None
            except ConnectionClosed:
                if fallback is None:
                    raise
                if resume is not None:
                    async with asyncio.timeout(max(deadline - loop.time(), 0)):
                        await resume.wait()
                await self.reconnect(fallback)
                continue
            frame: Frame = orjson.loads(raw)
            if frame["type"] == "event":
                # Fail at once on a gap or a duplicate rather than wait for the deadline.
                assert frame["seq"] == self.last_seq + 1, (
                    f"{self.channel}: seq {frame['seq']} after {self.seqs or [self.after]}"
                )
                self.events.append(frame)
            elif frame["type"] != "presence":
                self.others.append(frame)
        raise AssertionError("too many frames")

    async def close(self) -> None:
        if self.ws is not None:
            with suppress(Exception):
                async with asyncio.timeout(2):
                    await self.ws.close()
            self.ws = None


@asynccontextmanager
async def followers(
    count: int, channel: str, after: int, url: str
) -> AsyncIterator[list[Follower]]:
    viewers = [Follower(channel, after) for _ in range(count)]
    try:
        for viewer in viewers:
            await viewer.connect(url)
        yield viewers
    finally:
        for viewer in viewers:
            await viewer.close()


# A Redis pub/sub channel of this run's own: other runs and benchmarks on the same Redis
# (even with the same thread ids) never reach our viewers. Every process gets the same URL.
_SEP = "&" if "?" in REDIS_URL else "?"
BROKER_URL = f"{REDIS_URL}{_SEP}channel=koryu:test:{uuid.uuid4().hex}" if REDIS_URL else ""
