"""Fan-out: N viewers of one thread, 20 posts through the real HTTP API.

Each pair runs koryu (a fresh `koryu serve` on SQLite + memory broker) and the bare app
(a fresh `python -m bench.baseline_app`: relay loop, then floor) against the same
viewer stages; the order alternates between pairs. RSS at each stage gives the memory
per idle viewer of a fresh process.
"""

from __future__ import annotations

from typing import Any

import orjson

from bench.common import Context, Invalid, run_loadgen
from bench.loadgen import MARKER
from bench.site import ORIGIN, post_body, start_baseline, start_koryu

__all__ = ["event_frame", "run_fanout"]


def event_frame(channel: str, seq: int, data: dict[str, Any]) -> bytes:
    """The frame koryu sends for a post (realtime/protocol.py), for the bare app to relay."""
    return orjson.dumps(
        {"type": "event", "channel": channel, "seq": seq, "name": "post.created", "data": data}
    )


def _spec(ctx: Context, stages: list[int], posts: int) -> dict[str, Any]:
    return {
        "mode": "fanout",
        "channel": f"thread:{ctx.sqlite_seed.fanout_thread}",
        "stages": stages,
        "posts": posts,
        "warmup": 1,
        "gap": 0.05,
        "settle": 1.2,
        "timeout": 15.0,
    }


def run_one(ctx: Context, kind: str, stages: list[int], posts: int, tag: str) -> dict[str, Any]:
    seed = ctx.sqlite_seed
    env = _koryu_env(ctx)
    if kind == "ours":
        server = start_koryu(f"fanout-ours-{tag}", env, ctx.logs, ctx.server_cpus)
        batches = [
            {
                "name": "ours",
                "host": "127.0.0.1",
                "port": server.port,
                "path": f"/api/v1/threads/{seed.fanout_thread}/posts",
                "headers": seed.auth,
                "body": orjson.dumps({"body": post_body(MARKER.decode())}).decode(),
            }
        ]
    else:
        server = start_baseline(f"fanout-bare-{tag}", env, ctx.logs, ctx.server_cpus)
        channel = f"thread:{seed.fanout_thread}"
        frame = event_frame(channel, 1000, seed.post_template).decode()
        batches = [
            {"name": name, "host": "127.0.0.1", "port": server.port, "path": path, "body": frame}
            for name, path in (("bare", "/relay"), ("floor", "/floor"))
        ]
    try:
        spec = {
            **_spec(ctx, stages, posts),
            "targets": [
                {"host": "127.0.0.1", "port": server.port, "pid": server.pid, "origin": ORIGIN}
            ],
            "batches": batches,
        }
        budget = 30.0 + sum(stages) / 100 + len(stages) * len(batches) * posts * 1.0
        result = run_loadgen(ctx, spec, timeout=budget)
    finally:
        server.stop()
    _check(result, kind)
    return result


def _koryu_env(ctx: Context) -> dict[str, str]:
    from bench.site import koryu_env

    env = koryu_env(ctx.sqlite_url, ctx.work / "data")
    env["BENCH_DATABASE_URL"] = f"sqlite://{ctx.work / 'bare.sqlite3'}"
    return env


def _check(result: dict[str, Any], kind: str) -> None:
    for stage in result["stages"]:
        if stage["failures"] or stage["viewers"] != stage["wanted"]:
            raise Invalid(
                f"{kind}: {stage['viewers']} of {stage['wanted']} viewers connected "
                f"({stage['failures']} failures)"
            )
        for batch in stage["batches"]:
            if batch["errors"] or batch["missing"]:
                raise Invalid(
                    f"{kind}/{batch['name']} at N={stage['viewers']}: "
                    f"{batch['missing']} frames missing, errors {batch['errors']}"
                )


def run_fanout(ctx: Context, stages: list[int]) -> list[dict[str, Any]]:
    """`ctx.pairs` pairs of (koryu, bare) runs, alternating which goes first."""
    pairs: list[dict[str, Any]] = []
    for k in range(ctx.pairs):
        order = ("ours", "bare") if k % 2 == 0 else ("bare", "ours")
        pair: dict[str, Any] = {}
        for kind in order:
            ctx.say(f"fan-out pair {k + 1}/{ctx.pairs}: {kind} at N={stages}")
            pair[kind] = run_one(ctx, kind, stages, ctx.posts, f"{k}")
        pairs.append(pair)
    return pairs
