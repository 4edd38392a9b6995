"""Q&A writes: votes/s and questions/s through the API at 16 clients, against the bare
endpoint doing one raw INSERT with the same driver (bench/baseline_app.py `/insert`).

- votes: client i votes as participant i for one of four questions of a live session and
  takes the vote back, in turn (`PUT`, `DELETE`, …): every request changes a count.
- questions: `POST /api/v1/threads/{id}/posts` `{kind: "question"}` into the live
  session's thread, as a staff member (never held for moderation).

All three load runs use the Python client, so each pair compares like with like.
"""

from __future__ import annotations

from typing import Any

import orjson

from bench.common import Context
from bench.http_load import http_load
from bench.site import (
    POST_TEXT,
    Server,
    ask,
    koryu_env,
    live_session,
    start_baseline,
    start_koryu,
)
from bench.storm import ensure_voters

__all__ = ["CLIENTS", "run_qa_write"]

CLIENTS = 16
VOTED_QUESTIONS = 4


def run_qa_write(ctx: Context, database: str, *, seconds: float) -> dict[str, list[dict[str, Any]]]:
    if database == "sqlite":
        url, seed = ctx.sqlite_url, ctx.sqlite_seed
        bare_url = f"sqlite://{ctx.work / 'bare.sqlite3'}"
    else:
        assert ctx.pg_url is not None and ctx.pg_seed is not None
        url, seed, bare_url = ctx.pg_url, ctx.pg_seed, ctx.pg_url
    env = koryu_env(url, ctx.work / "data")
    env["BENCH_DATABASE_URL"] = bare_url
    ours = start_koryu(f"qa-write-ours-{database}", env, ctx.logs, ctx.server_cpus)
    try:
        tokens = ensure_voters(ctx, database, ours.base, CLIENTS)
        thread = live_session(ours.base, seed.auth, "質疑応答（書き込み計測）")
        questions = [
            ask(ours.base, seed.auth, thread, f"{POST_TEXT}（投票計測 {i + 1}）")
            for i in range(VOTED_QUESTIONS)
        ]
        votes = [
            [
                {
                    "method": method,
                    "path": f"/api/v1/posts/{questions[i % VOTED_QUESTIONS]}/vote",
                    "headers": {"Authorization": f"Bearer {token}"},
                }
                for method in ("PUT", "DELETE")
            ]
            for i, token in enumerate(tokens)
        ]
        question = orjson.dumps({"body": POST_TEXT, "kind": "question"}).decode()
        bare = start_baseline(f"qa-write-bare-{database}", env, ctx.logs, ctx.server_cpus)
        try:
            out: dict[str, list[dict[str, Any]]] = {"votes": [], "questions": []}
            for k in range(ctx.pairs):
                for what in ("votes", "questions"):
                    order = ("ours", "bare") if k % 2 == 0 else ("bare", "ours")
                    pair: dict[str, Any] = {}
                    for kind in order:
                        ctx.say(f"{what} ({database}) pair {k + 1}/{ctx.pairs}: {kind}")
                        pair[kind] = _load(
                            ctx,
                            ours if kind == "ours" else bare,
                            kind,
                            what,
                            database,
                            k,
                            seed.auth,
                            thread,
                            question,
                            votes,
                            seconds,
                        )
                    out[what].append(pair)
        finally:
            bare.stop()
    finally:
        ours.stop()
    return out


def _load(
    ctx: Context,
    server: Server,
    kind: str,
    what: str,
    database: str,
    k: int,
    auth: dict[str, str],
    thread: int,
    question: str,
    votes: list[list[dict[str, Any]]],
    seconds: float,
) -> dict[str, Any]:
    name = f"{what}-{database}-{kind}-{k}"
    if kind == "bare":
        return http_load(
            ctx,
            name,
            server.port,
            "POST",
            "/insert",
            body=question,
            connections=CLIENTS,
            seconds=seconds,
            python=True,
        )
    if what == "votes":
        return http_load(
            ctx,
            name,
            server.port,
            "PUT",
            "/",
            connections=CLIENTS,
            seconds=seconds,
            cycles=votes,
        )
    return http_load(
        ctx,
        name,
        server.port,
        "POST",
        f"/api/v1/threads/{thread}/posts",
        headers=auth,
        body=question,
        connections=CLIENTS,
        seconds=seconds,
        python=True,
    )
