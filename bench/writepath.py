"""Write path: posts/s through POST /api/v1/threads/{id}/posts at 16 concurrent clients,
against a bare Starlette endpoint doing one raw INSERT with the same driver."""

from __future__ import annotations

from typing import Any

import orjson

from bench.common import Context, Invalid
from bench.http_load import http_load
from bench.procs import http_json
from bench.site import POST_TEXT, Seed, Server, koryu_env, start_baseline, start_koryu

__all__ = ["run_write_path"]

CLIENTS = 16


def run_write_path(ctx: Context, database: str, *, seconds: float) -> list[dict[str, Any]]:
    if database == "sqlite":
        url, seed = ctx.sqlite_url, ctx.sqlite_seed
        bare_url = f"sqlite://{ctx.work / 'bare.sqlite3'}"
    else:
        assert ctx.pg_url is not None and ctx.pg_seed is not None
        url, seed, bare_url = ctx.pg_url, ctx.pg_seed, ctx.pg_url
    env = koryu_env(url, ctx.work / "data")
    env["BENCH_DATABASE_URL"] = bare_url
    body = orjson.dumps({"body": POST_TEXT}).decode()
    ours = start_koryu(f"write-ours-{database}", env, ctx.logs, ctx.server_cpus)
    try:
        bare = start_baseline(f"write-bare-{database}", env, ctx.logs, ctx.server_cpus)
        try:
            _warm(ours, bare, seed, body)
            pairs = []
            for k in range(ctx.pairs):
                order = ("ours", "bare") if k % 2 == 0 else ("bare", "ours")
                pair: dict[str, Any] = {}
                for kind in order:
                    ctx.say(f"write path ({database}) pair {k + 1}/{ctx.pairs}: {kind}")
                    if kind == "ours":
                        pair[kind] = http_load(
                            ctx,
                            f"write-{database}-ours-{k}",
                            ours.port,
                            "POST",
                            f"/api/v1/threads/{seed.write_thread}/posts",
                            headers=seed.auth,
                            body=body,
                            connections=CLIENTS,
                            seconds=seconds,
                        )
                    else:
                        pair[kind] = http_load(
                            ctx,
                            f"write-{database}-bare-{k}",
                            bare.port,
                            "POST",
                            "/insert",
                            body=body,
                            connections=CLIENTS,
                            seconds=seconds,
                        )
                pairs.append(pair)
        finally:
            bare.stop()
    finally:
        ours.stop()
    return pairs


def _warm(ours: Server, bare: Server, seed: Seed, body: str) -> None:
    for _ in range(10):
        status, answer = http_json(
            "POST",
            f"{ours.base}/api/v1/threads/{seed.write_thread}/posts",
            orjson.loads(body),
            headers=seed.auth,
        )
        if status != 201:
            raise Invalid(f"koryu refused a post: {status} {answer}")
        status, answer = http_json("POST", f"{bare.base}/insert", orjson.loads(body))
        if status != 201:
            raise Invalid(f"bare insert failed: {status} {answer}")
