"""`python -m bench.search [--full] [--postgres URL]`: search latency on a generated corpus.

For each database: load the corpus (bench/search_corpus.py) with bulk inserts, build the
index with ``koryu reindex``'s function (its rows/s), then for 1-, 2-, 3-, 6-character and
3-word queries time ``forum.search.search`` (what GET /api/v1/search runs: ranked page,
facets, snippets) against the bare ranked index query it contains, sent on the same driver
connection; and time one post write through ``posts.create_post`` with and without the
index hook. In-process, no HTTP: the comparison is the search against its own index query.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.connection import get_connection

from bench.search_corpus import generate, titles
from forum import boards, posts, search, search_index
from forum.config import tortoise_config
from forum.db import migrate
from forum.gate import OpenGate
from forum.models import Board, Post, Thread, User
from forum.permissions import ANONYMOUS
from forum.search_reindex import reindex
from forum.search_text import parse_query

QUERIES = [
    ("1 char", "町"),
    ("2 chars", "移住"),
    ("3 chars", "関係人"),
    ("6 chars", "地域おこし協"),
    ("3 words", "移住 空き家 補助金"),
]
POSTS_PER_THREAD = 20


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _load(n: int) -> None:
    user = await User.create(username="bench", display_name="計測", password_hash="!")  # noqa: S106 - no login
    board = await Board.create(slug="bench", title="計測")
    names = titles(n // POSTS_PER_THREAD + 1)
    threads = [Thread(board_id=board.id, author_id=user.id, title=t) for t in names]
    await Thread.bulk_create(threads, batch_size=1000)
    thread_ids = [t.id for t in await Thread.all().order_by("id")]
    rows = [
        Post(
            thread_id=thread_ids[i // POSTS_PER_THREAD],
            author_id=user.id,
            body=body,
            html=f"<p>{html.escape(body)}</p>",
        )
        for i, body in enumerate(generate(n))
    ]
    await Post.bulk_create(rows, batch_size=1000)
    await Thread.all().update(post_count=POSTS_PER_THREAD)


async def _timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    for _ in range(3):
        await call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _bare(text: str) -> Callable[[], Awaitable[Any]]:
    """The ranked index query alone, as ``search.search`` sends it (no facets, no rows)."""
    conn = get_connection("default")
    sql = search._Sql(conn)
    source, order, order_args = search._match(sql, parse_query(text))
    statement = sql.text(
        f"SELECT d.id FROM {source} WHERE {' AND '.join(sql.where)} "  # noqa: S608
        f"ORDER BY {order} LIMIT ?"
    )
    args = [*sql.args, *order_args, search.PAGE + 1]
    return lambda: conn.execute_query(statement, args)


async def _write_cost(n: int) -> tuple[float, float]:
    """Mean ms of one post write with the index hook, and with it made a no-op."""
    user = await User.get(username="bench")
    actor = await boards.load_actor(user)
    board = await Board.get(slug="bench")
    thread = await Thread.filter(board_id=board.id).first()
    assert thread is not None
    bodies = list(generate(2 * n, seed=99))
    gate = OpenGate()

    async def write(body: str) -> float:
        start = time.perf_counter()
        await posts.create_post(actor, thread, board, posts.Draft(body=body), gate=gate)
        return (time.perf_counter() - start) * 1000

    with_index = [await write(b) for b in bodies[:n]]
    original = search_index.index_post

    async def skip(*args: Any, **kwargs: Any) -> None:
        return None

    search_index.index_post = skip  # type: ignore[assignment]
    try:
        without = [await write(b) for b in bodies[n:]]
    finally:
        search_index.index_post = original  # type: ignore[assignment]
    return statistics.mean(with_index), statistics.mean(without)


async def run(url: str, n: int, repeat: int, writes: int) -> dict[str, Any]:
    # Tortoise caches insert statements per connection name, whatever the dialect.
    EXECUTOR_CACHE.clear()
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        started = time.perf_counter()
        await _load(n)
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        rows = await reindex(batch=2000)
        indexing = time.perf_counter() - started
        result: dict[str, Any] = {
            "posts": n,
            "load_s": loaded,
            "reindex_rows": rows,
            "reindex_rows_per_s": rows / indexing,
            "queries": [],
        }
        for label, text in QUERIES:
            query = search.Query(text=text)
            api = await _timed(lambda q=query: search.search(ANONYMOUS, q), repeat)  # type: ignore[misc]
            bare = await _timed(_bare(text), repeat)
            hits = (await search.search(ANONYMOUS, query)).total
            result["queries"].append(
                {
                    "label": label,
                    "q": text,
                    "hits": hits,
                    "api_p50": _percentile(api, 0.5),
                    "api_p99": _percentile(api, 0.99),
                    "bare_p50": _percentile(bare, 0.5),
                    "bare_p99": _percentile(bare, 0.99),
                    "ratio": statistics.mean(bare) / statistics.mean(api),
                }
            )
        result["write_ms"] = await _write_cost(writes)
        return result
    finally:
        await Tortoise.close_connections()


def _table(name: str, result: dict[str, Any]) -> str:
    lines = [
        f"{name}: {result['posts']} posts, reindex {result['reindex_rows']} rows at "
        f"{result['reindex_rows_per_s']:.0f} rows/s",
        "",
        "| query | hits | search p50 / p99 ms | bare index query p50 / p99 ms | req/s vs bare |",
        "|---|---|---|---|---|",
    ]
    for q in result["queries"]:
        lines.append(
            f"| {q['label']} `{q['q']}` | {q['hits']} | {q['api_p50']:.1f} / {q['api_p99']:.1f} "
            f"| {q['bare_p50']:.1f} / {q['bare_p99']:.1f} | {q['ratio']:.2f}× |"
        )
    with_index, without = result["write_ms"]
    lines += [
        "",
        f"one post write: {with_index:.2f} ms with the index, {without:.2f} ms without "
        f"({with_index / without:.2f}×)",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    p.add_argument("--full", action="store_true", help="100,000 posts, 200 runs per query")
    p.add_argument("--posts", type=int, default=None)
    p.add_argument("--postgres", default="", help="also on this server (a database is made)")
    args = p.parse_args()
    n = args.posts or (100_000 if args.full else 5_000)
    repeat, writes = (200, 500) if args.full else (30, 50)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite://{Path(work) / 'search.sqlite3'}"
        print(_table("SQLite", asyncio.run(run(url, n, repeat, writes))))
    if args.postgres:
        asyncio.run(_fresh_postgres(args.postgres))
        print()
        print(_table("PostgreSQL", asyncio.run(run(args.postgres, n, repeat, writes))))


async def _fresh_postgres(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres".replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
