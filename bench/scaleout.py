"""Scale-out smoke: two `koryu serve` processes on PostgreSQL + Redis, viewers split
across them, posts to one; every viewer must get every post."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from bench.common import Context, Invalid, run_loadgen
from bench.loadgen import MARKER
from bench.site import ORIGIN, koryu_env, post_body, start_koryu

__all__ = ["run_scaleout"]


def run_scaleout(ctx: Context, viewers: int, posts: int) -> dict[str, Any]:
    assert ctx.pg_url is not None and ctx.pg_seed is not None and ctx.redis_url is not None
    seed = ctx.pg_seed
    # A Redis pub/sub channel of this run's own: a test suite or another site on the same
    # Redis never mixes its events with ours, whatever their thread ids.
    separator = "&" if "?" in ctx.redis_url else "?"
    broker_url = f"{ctx.redis_url}{separator}channel=koryu:bench:{uuid.uuid4().hex}"
    env = koryu_env(ctx.pg_url, ctx.work / "data", broker_url=broker_url)
    servers = []
    try:
        for name in ("scale-a", "scale-b"):
            servers.append(start_koryu(name, env, ctx.logs, ctx.server_cpus))
        a = servers[0]
        ctx.say(f"scale-out: {viewers} viewers on 2 processes, {posts} posts to one")
        spec = {
            "mode": "fanout",
            "channel": f"thread:{seed.fanout_thread}",
            "stages": [viewers],
            "posts": posts,
            "warmup": 1,
            "gap": 0.05,
            "settle": 1.5,
            "timeout": 15.0,
            "targets": [
                {"host": "127.0.0.1", "port": s.port, "pid": s.pid, "origin": ORIGIN}
                for s in servers
            ],
            "batches": [
                {
                    "name": "scale-out",
                    "host": "127.0.0.1",
                    "port": a.port,
                    "path": f"/api/v1/threads/{seed.fanout_thread}/posts",
                    "headers": seed.auth,
                    "body": orjson.dumps({"body": post_body(MARKER.decode())}).decode(),
                }
            ],
        }
        result = run_loadgen(ctx, spec, timeout=60.0 + viewers / 50 + posts * 2)
    finally:
        for server in servers:
            server.stop()
    stage = result["stages"][0]
    if stage["failures"]:
        raise Invalid(f"scale-out: {stage['failures']} viewers failed to connect")
    batch = stage["batches"][0]
    return {
        "viewers": stage["viewers"],
        "posts": posts,
        "delivered": batch["delivered"],
        "missing": batch["missing"],
        "every_viewer_got_every_post": batch["every_viewer_got_every_post"],
        "latency_p50": batch["latency_p50"],
        "latency_p99": batch["latency_p99"],
        "by_process": batch["latency_by_target"],
        "load_utilisation": batch["load_utilisation"],
        "errors": batch["errors"],
    }
