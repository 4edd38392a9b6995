"""The soak: a long steady load with faults, watching for loss, duplicates and growth.

`python -m bench --soak [--soak-minutes 60]`. Two koryu processes (PostgreSQL when it
answers on loopback, else one SQLite file) share a redis-server the run starts itself on
a port of its own. Viewers, split over both processes, follow one thread; a few of them
leave and resume from their last seq every second; posts go to both processes at a steady
rate. Faults are spread over the run: Redis frozen (SIGSTOP) for 10 s, Redis killed and
restarted, one koryu process killed and restarted.

Every minute: each process's RSS, file descriptors and asyncio tasks, delivery and posting
latency. Per fault: posting latency while it lasts and the time until every viewer has
every event committed before it ended. At the end each viewer must hold every event of the
thread exactly once and in order. The run fails on a lost or duplicated event, a resync, or
RSS growth of the never-killed process over the last half of the run beyond its bound
(judged in runs of RSS_MIN_MINUTES or more).

Everything stays on loopback; every loop is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.httpclient import HttpConnection
from bench.loadgen import MARKER, marker
from bench.procs import HOST, PYTHON, Child, free_port, rss_bytes, spawn, wait_ready
from bench.site import ORIGIN, Seed, koryu_env, post_body
from bench.soak_serve import read_tasks
from bench.stats import percentile
from bench.viewers import ViewerPool

__all__ = [
    "RSS_BOUND_MB",
    "RSS_MIN_MINUTES",
    "RSS_SLOPE_MB_PER_MIN",
    "Ledger",
    "SoakOptions",
    "fault_schedule",
    "rss_verdict",
    "run_soak",
]

# The never-killed process may not grow over the last half of the run by more than this
# slope (least squares over the per-minute samples) unless its total growth there is
# also within RSS_BOUND_MB: a short run's slope is mostly noise.
RSS_SLOPE_MB_PER_MIN = 0.2
RSS_BOUND_MB = 2.0
RSS_MIN_MINUTES = 20.0
FREEZE_SECONDS = 10.0
DOWN_SECONDS = 5.0
CONVERGE_SECONDS = 60.0
KINDS = ("redis-freeze", "redis-kill", "koryu-kill")
_SEQ = re.compile(rb'"seq":(\d+)')
_T0 = re.compile(rb"t0=(\d{10}\.\d{6})")


@dataclass(frozen=True)
class SoakOptions:
    minutes: float = 60.0
    viewers: int = 600
    posts_per_second: float = 2.0
    resumes_per_second: float = 1.5


def fault_schedule(seconds: float) -> list[tuple[float, str]]:
    """(offset, kind) pairs: the three kinds in turn, evenly spaced, the last one over a
    whole interval before the end so that its recovery is measured too."""
    interval = max(40.0, seconds / 15)
    faults = []
    for k in range(1, 1000):
        if (k + 1) * interval > seconds:
            break
        faults.append((k * interval, KINDS[(k - 1) % len(KINDS)]))
    return faults


def rss_verdict(samples: list[tuple[float, int]]) -> dict[str, Any]:
    """Growth over the last half of (minute, rss bytes) samples, and whether it is bounded.

    Judged only from RSS_MIN_MINUTES on: in a shorter run the last half still holds the
    first time the process took over its dead neighbour's viewers, a high-water mark rather
    than growth."""
    if len(samples) < 2:
        return {"slope_mb_per_min": None, "growth_mb": None, "ok": True, "judged": False}
    end = samples[-1][0]
    half = [(t, rss / 2**20) for t, rss in samples if t >= end / 2]
    if len(half) < 2:
        half = [(t, rss / 2**20) for t, rss in samples[-2:]]
    n = len(half)
    mean_t = sum(t for t, _ in half) / n
    mean_r = sum(r for _, r in half) / n
    var = sum((t - mean_t) ** 2 for t, _ in half)
    slope = sum((t - mean_t) * (r - mean_r) for t, r in half) / var if var else 0.0
    growth = half[-1][1] - half[0][1]
    judged = end >= RSS_MIN_MINUTES
    ok = not judged or slope <= RSS_SLOPE_MB_PER_MIN or growth <= RSS_BOUND_MB
    return {"slope_mb_per_min": slope, "growth_mb": growth, "ok": ok, "judged": judged}


class Ledger:
    """Per viewer: the last seq held; every event must be the next one."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.last: dict[int, int] = {}
        self.delivered = 0
        self.duplicates = 0
        self.gaps = 0

    def position(self, viewer: int) -> int:
        return self.last.get(viewer, self.start)

    def record(self, viewer: int, seq: int) -> None:
        last = self.position(viewer)
        if seq <= last:
            self.duplicates += 1
            return
        if seq > last + 1:
            self.gaps += 1
        self.last[viewer] = seq
        self.delivered += 1


class _Pool(ViewerPool):
    def __init__(self, ledger: Ledger, started: float) -> None:
        super().__init__()
        self.ledger = ledger
        self.started = started
        self.latency: dict[int, list[float]] = {}

    def on_event(self, arrived: float, payload: bytes, tag: int) -> None:
        if tag < 0:
            return  # a socket that is closing: its viewer already resumed elsewhere
        found = _SEQ.search(payload)
        if found is None:
            self.anomalies.append(payload)
            return
        self.ledger.record(tag, int(found.group(1)))
        t0 = _T0.search(payload)
        if t0 is not None and t0.group(1) != MARKER[3:]:
            minute = int((arrived - self.started) // 60)
            self.latency.setdefault(minute, []).append(arrived - float(t0.group(1)))


@dataclass
class _Server:
    name: str
    port: int
    env: dict[str, str]
    stats: Path
    child: Child | None = None
    alive: bool = False
    starts: int = 0

    @property
    def pid(self) -> int:
        assert self.child is not None
        return self.child.pid


@dataclass
class _Fault:
    kind: str
    start: float
    end: float = 0.0
    converged: float | None = None
    head: int = 0


@dataclass
class _Post:
    sent: float
    server: str
    latency: float | None
    status: int


@dataclass
class _Run:
    options: SoakOptions
    seed: Seed
    channel: str
    servers: list[_Server]
    redis: _Server
    logs: Path
    cpus: set[int]
    started: float = field(default_factory=time.perf_counter)
    posts: list[_Post] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    minutes: list[dict[str, Any]] = field(default_factory=list)
    resumes: int = 0
    reopen_failures: int = 0
    stopping: bool = False

    def now(self) -> float:
        return time.perf_counter() - self.started


def _redis_command(port: int) -> list[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("the soak needs the redis-server binary")
    return [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]


def _start_redis(run: _Run) -> None:
    redis = run.redis
    redis.starts += 1
    redis.child = spawn(
        f"soak-redis-{redis.starts}",
        _redis_command(redis.port),
        env=dict(os.environ),
        log_dir=run.logs,
        cpus=run.cpus,
    )
    for _ in range(200):
        with (
            contextlib.suppress(OSError),
            socket.create_connection((HOST, redis.port), timeout=1) as sock,
        ):
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                redis.alive = True
                return
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not start\n{redis.child.tail()}")


def _start_koryu(run: _Run, server: _Server) -> None:
    server.starts += 1
    command = [PYTHON, "-m", "bench.soak_serve", "--port", str(server.port)]
    server.child = spawn(
        f"{server.name}-{server.starts}", command, env=server.env, log_dir=run.logs, cpus=run.cpus
    )
    wait_ready(server.child, f"http://{HOST}:{server.port}/healthz")
    server.alive = True


async def _open(run: _Run, pool: _Pool, tag: int, views: dict[int, Any]) -> bool:
    from bench.viewers import Viewer

    live = [s for s in run.servers if s.alive]
    if not live:
        return False
    home = run.servers[tag % len(run.servers)]
    server = home if home.alive else random.choice(live)
    after = pool.ledger.position(tag)
    subscribe = orjson.dumps({"type": "subscribe", "channel": run.channel, "after": after})
    viewer = Viewer(
        pool,
        f"ws://{HOST}:{server.port}/ws",
        subscribe=subscribe,
        origin=ORIGIN,
        headers=None,
        tag=tag,
    )
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(10):
            await loop.create_connection(lambda: viewer, HOST, server.port)
            await viewer.ready
    except (OSError, TimeoutError, ConnectionError, RuntimeError):
        viewer.abort()
        return False
    viewer.port = server.port  # type: ignore[attr-defined]
    views[tag] = viewer
    return True


def _retire(viewer: Any) -> None:
    """Close a viewer's socket; what still arrives on it no longer counts. Its successor
    resumes from the last seq this one recorded, as a browser does."""
    viewer.tag = -1
    viewer.close()


async def _viewers(run: _Run, pool: _Pool, views: dict[int, Any]) -> None:
    """Keep every viewer connected: reopen the dropped ones, churn a few each second, and
    send those a dead process displaced back home once it is up again."""
    rng = random.Random(17)
    budget = 0.0
    for _ in range(10_000_000):
        if run.stopping:
            return
        await asyncio.sleep(0.5)
        budget += run.options.resumes_per_second * 0.5
        leaving = []
        while budget >= 1 and views:
            budget -= 1
            leaving.append(rng.choice(list(views)))
        for tag, viewer in views.items():
            home = run.servers[tag % len(run.servers)]
            if home.alive and viewer.is_open and viewer.port != home.port:
                leaving.append(tag)
        for tag in leaving:
            viewer = views.pop(tag, None)
            if viewer is not None and viewer.is_open:
                _retire(viewer)
        for tag in range(run.options.viewers):
            viewer = views.get(tag)
            if viewer is None or not viewer.is_open:
                views.pop(tag, None)
                if await _open(run, pool, tag, views):
                    run.resumes += 1
                else:
                    run.reopen_failures += 1


async def _poster(run: _Run) -> None:
    connections = {s.name: HttpConnection(HOST, s.port) for s in run.servers}
    template = orjson.dumps({"body": post_body(MARKER.decode())})
    headers = {"Content-Type": "application/json", **run.seed.auth}
    path = f"/api/v1/threads/{run.seed.fanout_thread}/posts"
    gap = 1.0 / run.options.posts_per_second
    next_at = time.perf_counter()
    try:
        for i in range(10_000_000):
            if run.stopping:
                return
            next_at += gap
            server = run.servers[i % len(run.servers)]
            if server.alive:
                conn = connections[server.name]
                t0 = time.perf_counter()
                body = template.replace(MARKER, marker(t0))
                try:
                    async with asyncio.timeout(15):
                        status, _ = await conn.request("POST", path, body, headers)
                    latency: float | None = time.perf_counter() - t0
                except (OSError, TimeoutError, EOFError, ValueError, IndexError):
                    await conn.close()
                    status, latency = 0, None
                run.posts.append(_Post(t0 - run.started, server.name, latency, status))
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        for conn in connections.values():
            await conn.close()


async def _head(run: _Run) -> int:
    for server in run.servers:
        if not server.alive:
            continue
        conn = HttpConnection(HOST, server.port)
        try:
            async with asyncio.timeout(10):
                status, body = await conn.request(
                    "GET", f"/api/v1/threads/{run.seed.fanout_thread}", b"", run.seed.auth
                )
            if status == 200:
                return int(orjson.loads(body)["seq"])
        except (OSError, TimeoutError, EOFError, ValueError):
            continue
        finally:
            await conn.close()
    raise RuntimeError("no koryu process answers")


async def _converge(run: _Run, pool: _Pool, views: dict[int, Any], head: int) -> float | None:
    """Seconds until every viewer holds `head`; None if not within CONVERGE_SECONDS."""
    started = time.perf_counter()
    for _ in range(int(CONVERGE_SECONDS / 0.05)):
        if all(pool.ledger.position(t) >= head for t in range(run.options.viewers)):
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    return None


async def _inject(run: _Run, pool: _Pool, views: dict[int, Any], kind: str) -> _Fault:
    fault = _Fault(kind, run.now())
    redis = run.redis
    victim = run.servers[-1]
    if kind == "redis-freeze":
        assert redis.child is not None
        os.kill(redis.child.pid, signal.SIGSTOP)
        await asyncio.sleep(FREEZE_SECONDS)
        os.kill(redis.child.pid, signal.SIGCONT)
    elif kind == "redis-kill":
        assert redis.child is not None
        redis.alive = False
        redis.child.popen.kill()
        await asyncio.to_thread(redis.child.stop)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(_start_redis, run)
    else:
        assert victim.child is not None
        victim.alive = False
        victim.child.popen.kill()
        await asyncio.to_thread(victim.child.stop)
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(_start_koryu, run, victim)
    fault.end = run.now()
    fault.head = await _head(run)
    fault.converged = await _converge(run, pool, views, fault.head)
    return fault


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def _sample(run: _Run, pool: _Pool, views: dict[int, Any], minute: int) -> dict[str, Any]:
    start, end = minute * 60, (minute + 1) * 60
    posts = [p.latency for p in run.posts if start <= p.sent < end and p.latency is not None]
    row: dict[str, Any] = {
        "minute": minute + 1,
        "viewers_open": sum(1 for v in views.values() if v.is_open),
        "delivery_p50": percentile(pool.latency.get(minute, []), 50),
        "delivery_p99": percentile(pool.latency.get(minute, []), 99),
        "deliveries": len(pool.latency.get(minute, [])),
        "post_p50": percentile(posts, 50),
        "post_p99": percentile(posts, 99),
        "posts": len(posts),
        "post_errors": sum(1 for p in run.posts if start <= p.sent < end and p.status != 201),
        "processes": {},
    }
    pool.latency.pop(minute, None)
    for server in run.servers:
        if server.alive and server.child is not None:
            row["processes"][server.name] = {
                "start": server.starts,
                "rss": rss_bytes(server.pid),
                "fds": _fds(server.pid),
                "tasks": read_tasks(server.stats),
            }
    return row


async def _drive(run: _Run) -> dict[str, Any]:
    ledger = Ledger(start=await _head(run))
    pool = _Pool(ledger, run.started)
    views: dict[int, Any] = {}
    seconds = run.options.minutes * 60
    for tag in range(run.options.viewers):
        if not await _open(run, pool, tag, views):
            raise RuntimeError(f"viewer {tag} could not connect")
    run.started = time.perf_counter()
    pool.started = run.started
    tasks = [
        asyncio.create_task(_viewers(run, pool, views)),
        asyncio.create_task(_poster(run)),
        asyncio.create_task(_sampler(run, pool, views, seconds)),
    ]
    try:
        for offset, kind in fault_schedule(seconds):
            await asyncio.sleep(max(0.0, offset - run.now()))
            print(f"[soak] {run.now():.0f} s: {kind}", flush=True)
            run.faults.append(await _inject(run, pool, views, kind))
        await asyncio.sleep(max(0.0, seconds - run.now()))
        if len(run.minutes) < int(seconds // 60):
            run.minutes.append(_sample(run, pool, views, len(run.minutes)))
    finally:
        run.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    head = await _head(run)
    run.stopping = False
    # Those who were between leaving and resuming when the load stopped come back now.
    for tag in range(run.options.viewers):
        if tag not in views or not views[tag].is_open:
            await _open(run, pool, tag, views)
    converged = await _converge(run, pool, views, head)
    await asyncio.sleep(1.0)  # a duplicate would arrive by now
    await pool.close()
    return _summary(run, pool, head, converged)


async def _sampler(run: _Run, pool: _Pool, views: dict[int, Any], seconds: float) -> None:
    for minute in range(int(seconds // 60)):
        await asyncio.sleep(max(0.0, (minute + 1) * 60 - run.now()))
        run.minutes.append(_sample(run, pool, views, minute))
        print(f"[soak] minute {minute + 1}: {_line(run.minutes[-1])}", flush=True)


def _line(row: dict[str, Any]) -> str:
    procs = ", ".join(
        f"{name} {p['rss'] / 2**20:.1f} MB {p['fds']} fds {p['tasks']} tasks"
        for name, p in row["processes"].items()
    )
    p99 = row["delivery_p99"]
    return f"{row['viewers_open']} viewers, delivery p99 {p99 and p99 * 1000:.0f} ms; {procs}"


def _summary(run: _Run, pool: _Pool, head: int, converged: float | None) -> dict[str, Any]:
    ledger = pool.ledger
    missing = sum(head - ledger.position(t) for t in range(run.options.viewers))
    faults = []
    normal = [
        p.latency
        for p in run.posts
        if p.latency is not None and not any(f.start - 1 <= p.sent <= f.end + 5 for f in run.faults)
    ]
    normal_p99 = percentile(normal, 99)
    for fault in run.faults:
        during = [p for p in run.posts if fault.start <= p.sent <= fault.end + 1]
        latencies = [p.latency for p in during if p.latency is not None]
        p99 = percentile(latencies, 99)
        faults.append(
            {
                "kind": fault.kind,
                "start": fault.start,
                "seconds": fault.end - fault.start,
                "posts": len(during),
                "post_errors": sum(1 for p in during if p.status != 201),
                "post_p50": percentile(latencies, 50),
                "post_p99": p99,
                "post_max": max(latencies) if latencies else None,
                "p99_over_normal": p99 / normal_p99 if p99 and normal_p99 else None,
                "converged": fault.converged,
            }
        )
    first = run.servers[0].name
    rss = [
        (float(row["minute"]), row["processes"][first]["rss"])
        for row in run.minutes
        if first in row["processes"]
    ]
    verdict = rss_verdict(rss)
    problems = []
    if ledger.duplicates:
        problems.append(f"{ledger.duplicates} duplicate deliveries")
    if ledger.gaps or missing:
        problems.append(f"{ledger.gaps} gaps, {missing} events missing at the end")
    if pool.anomalies:
        problems.append(f"{len(pool.anomalies)} unexpected frames: {pool.anomalies[0][:120]!r}")
    if converged is None or any(f["converged"] is None for f in faults):
        problems.append(f"viewers did not converge within {CONVERGE_SECONDS:.0f} s")
    if not verdict["ok"]:
        problems.append(
            f"RSS of {first} grew {verdict['growth_mb']:.1f} MB "
            f"({verdict['slope_mb_per_min']:.2f} MB/min) over the last half"
        )
    return {
        "options": vars(run.options),
        "viewers": run.options.viewers,
        "head": head,
        "events": head - ledger.start,
        "deliveries": ledger.delivered,
        "expected_deliveries": (head - ledger.start) * run.options.viewers,
        "duplicates": ledger.duplicates,
        "gaps": ledger.gaps,
        "missing": missing,
        "anomalies": len(pool.anomalies),
        "resumes": run.resumes,
        "reopen_failures": run.reopen_failures,
        "posts": len(run.posts),
        "post_errors": sum(1 for p in run.posts if p.status != 201),
        "normal_post_p50": percentile(normal, 50),
        "normal_post_p99": normal_p99,
        "final_convergence": converged,
        "faults": faults,
        "minutes": run.minutes,
        "rss": verdict,
        "log_lines": _log_lines(run.logs),
        "problems": problems,
    }


def _log_lines(logs: Path) -> dict[str, int]:
    counts = {"Traceback": 0, "broker degraded": 0, "broker recovered": 0}
    counts |= {"subscription lost": 0, "subscription restored": 0}
    for path in logs.glob("soak-koryu-*.log"):
        text = path.read_text(errors="replace")
        for key in counts:
            counts[key] += text.count(key)
    return counts


def run_soak(
    *,
    options: SoakOptions,
    seed: Seed,
    database_url: str,
    work: Path,
    logs: Path,
    server_cpus: set[int],
) -> dict[str, Any]:
    """Start Redis and two koryu processes, drive the load, stop everything."""
    redis = _Server("soak-redis", free_port(), {}, work / "redis.stats")
    channel = f"thread:{seed.fanout_thread}"
    broker_url = f"redis://{HOST}:{redis.port}/0?channel=koryu:soak"
    servers = []
    for name in ("soak-koryu-a", "soak-koryu-b"):
        stats = work / f"{name}.stats"
        env = {**koryu_env(database_url, work / "data", broker_url), "BENCH_STATS": str(stats)}
        servers.append(_Server(name, free_port(), env, stats))
    run = _Run(options, seed, channel, servers, redis, logs, server_cpus)
    try:
        _start_redis(run)
        for server in servers:
            _start_koryu(run, server)
        return asyncio.run(_drive(run))
    finally:
        for child in (s.child for s in [*servers, redis]):
            if child is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGCONT)
                child.stop()
