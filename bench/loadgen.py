"""The load generator: a process of its own, pinned to its own core.

`python -m bench.loadgen SPEC.json` reads a spec written by the orchestrator, runs it and
writes the result as JSON to `spec["out"]`. Modes:

- `fanout`: open viewers in stages, and at each stage post batches through HTTP and time
  every delivery; reads the servers' CPU (/proc/<pid>/stat) around each batch and their
  RSS at each stage, and its own CPU to tell when it was the bottleneck.
- `http`: closed-loop HTTP load (the fallback when wrk is not installed, and the load of
  requests that differ per connection).
- `storm`: a live session's viewers under questions and a vote storm (bench/storm_load.py).
"""

from __future__ import annotations

import asyncio
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.httpclient import HttpConnection, closed_loop
from bench.procs import cpu_seconds, rss_bytes
from bench.stats import percentile
from bench.viewers import ViewerPool

__all__ = ["MARKER", "main", "marker"]

# Posts carry the poster's send time in their body; bare frames copy the same bytes.
MARKER = b"t0=0000000000.000000"
_T0 = re.compile(rb"t0=(\d{10}\.\d{6})")


def marker(t0: float) -> bytes:
    return f"t0={t0:017.6f}".encode()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _fanout(spec: dict[str, Any]) -> dict[str, Any]:
    pool = ViewerPool()
    targets: list[dict[str, Any]] = spec["targets"]
    subscribe = orjson.dumps({"type": "subscribe", "channel": spec["channel"]})
    pids: list[int] = [t["pid"] for t in targets]
    stages_out: list[dict[str, Any]] = []
    opened = [0] * len(targets)
    try:
        for stage in spec["stages"]:
            failures = 0
            for index, target in enumerate(targets):
                want = stage // len(targets) + (1 if index < stage % len(targets) else 0)
                more = want - opened[index]
                if more > 0:
                    failures += await pool.open(
                        target["host"],
                        target["port"],
                        more,
                        subscribe=subscribe,
                        origin=target.get("origin"),
                        headers=target.get("headers"),
                        tag=index,
                    )
                    opened[index] = want
            viewers = pool.open_count
            # Let presence frames and connection bookkeeping settle, then check that every
            # viewer is alive (an app-level ping also keeps koryu's idle timeout away).
            await asyncio.sleep(spec["settle"])
            pool.send_all(b'{"type":"ping"}')
            await asyncio.sleep(0.3)
            rss = {str(pid): rss_bytes(pid) for pid in pids}
            batches = []
            for batch in spec["batches"]:
                batches.append(await _batch(spec, batch, pool, viewers, pids))
            stages_out.append(
                {
                    "viewers": viewers,
                    "wanted": stage,
                    "failures": failures,
                    "rss": rss,
                    "batches": batches,
                    "lost": pool.lost,
                }
            )
    finally:
        await pool.close()
    return {"stages": stages_out}


async def _batch(
    spec: dict[str, Any],
    batch: dict[str, Any],
    pool: ViewerPool,
    viewers: int,
    pids: list[int],
) -> dict[str, Any]:
    conn = HttpConnection(batch["host"], batch["port"])
    headers = {"Content-Type": "application/json", **batch.get("headers", {})}
    template: bytes = batch["body"].encode()
    posts: int = spec["posts"]
    timeout: float = spec["timeout"]
    counts_before = [v.events for v in pool.viewers]
    latencies: list[float] = []
    per_target: dict[int, list[float]] = {}
    durations: list[float] = []
    sizes: list[float] = []
    missing = 0
    errors: list[str] = []
    load_cpu = load_wall = 0.0
    cpu_start: list[float] = []
    wall_start = time.perf_counter()
    try:
        await conn.connect()
        for i in range(-spec.get("warmup", 1), posts):
            if i == 0:
                cpu_start = [cpu_seconds(pid) for pid in pids]
                wall_start = time.perf_counter()
            pool.expect(viewers)
            own0 = _own_cpu()
            t0 = time.perf_counter()
            body = template.replace(MARKER, marker(t0))
            status, answer = await conn.request("POST", batch["path"], body, headers)
            if status != 201:
                errors.append(f"{status} {answer[:200]!r}")
            try:
                async with asyncio.timeout(timeout):
                    await pool.done.wait()
            except TimeoutError:
                pass
            t_end = time.perf_counter()
            own1 = _own_cpu()
            if i < 0:
                await asyncio.sleep(spec["gap"])
                continue
            load_cpu += own1 - own0
            load_wall += t_end - t0
            missing += max(0, viewers - pool.count)
            if pool.count:
                durations.append(pool.last_arrival - t0)
            for arrived, payload, tag in pool.frames:
                sizes.append(len(payload))
                found = _T0.search(payload)
                if found is None:
                    errors.append("frame without t0")
                    continue
                latency = arrived - float(found.group(1))
                latencies.append(latency)
                per_target.setdefault(tag, []).append(latency)
            pool.frames = []
            await asyncio.sleep(spec["gap"])
        cpu_end = [cpu_seconds(pid) for pid in pids]
        wall = time.perf_counter() - wall_start
    finally:
        await conn.close()
    received = [v.events - c for v, c in zip(pool.viewers, counts_before, strict=False)]
    delivered = len(latencies)
    return {
        "name": batch["name"],
        "viewers": viewers,
        "posts": posts,
        "request_bytes": len(template),
        "frame_bytes": percentile(sizes, 50),
        "server_cpu_per_post": [(e - s) / posts for s, e in zip(cpu_start, cpu_end, strict=True)],
        "wall": wall,
        "latency_p50": percentile(latencies, 50),
        "latency_p99": percentile(latencies, 99),
        "latency_by_target": {
            str(tag): {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
            for tag, v in sorted(per_target.items())
        },
        "fanout_p50": percentile(durations, 50),
        "deliveries_per_s": delivered / sum(durations) if durations else 0.0,
        "delivered": delivered,
        "missing": missing,
        "every_viewer_got_every_post": all(r >= posts for r in received),
        "load_utilisation": load_cpu / load_wall if load_wall else 0.0,
        "errors": errors[:5],
    }


async def _http(spec: dict[str, Any]) -> dict[str, Any]:
    headers = dict(spec.get("headers", {}))
    body = spec.get("body", "").encode()
    conn = HttpConnection(spec["host"], spec["port"])
    raw = conn.encode(spec["method"], spec["path"], body, headers)
    # Requests that differ per connection (each its own voter), sent in turn on it.
    cycles = [
        [
            conn.encode(r["method"], r["path"], r.get("body", "").encode(), r.get("headers", {}))
            for r in cycle
        ]
        for cycle in spec.get("cycles", [])
    ]
    own0, t0 = _own_cpu(), time.perf_counter()
    result = await closed_loop(
        spec["host"],
        spec["port"],
        raw,
        connections=spec["connections"],
        seconds=spec["seconds"],
        cycles=cycles or None,
    )
    own1, t1 = _own_cpu(), time.perf_counter()
    return {
        "requests": result.requests,
        "ok": result.ok,
        "errors": result.errors,
        "statuses": {str(k): v for k, v in result.statuses.items()},
        "rate": result.rate,
        "seconds": result.seconds,
        "load_utilisation": (own1 - own0) / (t1 - t0),
    }


async def _run(spec: dict[str, Any]) -> dict[str, Any]:
    async with asyncio.timeout(spec.get("deadline", 300)):
        if spec["mode"] == "fanout":
            return await _fanout(spec)
        if spec["mode"] == "http":
            return await _http(spec)
        if spec["mode"] == "storm":
            from bench.storm_load import run_storm

            return await run_storm(spec)
    raise ValueError(f"unknown mode {spec['mode']!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec: dict[str, Any] = orjson.loads(Path(args[0]).read_bytes())
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        runner = asyncio.Runner()
    with runner:
        result = runner.run(_run(spec))
    Path(spec["out"]).write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
