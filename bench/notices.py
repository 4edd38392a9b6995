"""`python -m bench.notices [--full] [--postgres URL]`: what notices add to one post write.

A post that mentions 50 people and replies into a thread with 1,000 followers, against a
plain post in a thread nobody follows, written in turn through ``posts.create_post`` (what
``POST /api/v1/threads/{id}/posts`` runs) on the same connection. The notices are fanned out
after commit, in bulk: the write's latency should barely move (target ≤ 1.5×) and every
notice should be stored within 2 s of the write (``outbox.settled`` is awaited and timed
after each heavy write, and the notices are counted).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from bench.search import _fresh_postgres, _percentile
from forum import boards, outbox, posts, threads
from forum.config import tortoise_config
from forum.db import migrate
from forum.gate import OpenGate
from forum.models import Board, Follow, FollowLevel, Notification, Thread, User

__all__ = ["run"]

MENTIONED = 50
FOLLOWERS = 1_000


async def _load() -> tuple[User, Board, int, int, int]:
    """The author, the board, a followed thread and a post in it, a quiet thread."""
    author = await User.create(username="author", display_name="投稿者", password_hash="!")  # noqa: S106 - no login
    people = [
        User(username=f"u{i:04d}", display_name=f"参加者{i}", password_hash="!")  # noqa: S106
        for i in range(MENTIONED + FOLLOWERS)
    ]
    await User.bulk_create(people, batch_size=1000)
    ids = [u.id for u in await User.exclude(id=author.id).order_by("id")]
    board = await Board.create(slug="bench", title="計測")
    actor = await boards.load_actor(author)
    gate = OpenGate()
    busy = await threads.create_thread(
        actor, board, threads.NewThread(title="フォローの多いスレッド", body="始まり"), gate=gate
    )
    quiet = await threads.create_thread(
        actor, board, threads.NewThread(title="静かなスレッド", body="始まり"), gate=gate
    )
    await outbox.settled()
    # The author's own automatic follows would make the quiet thread's posts notify nobody
    # anyway; the followed thread gets its thousand watchers.
    await Follow.bulk_create(
        [
            Follow(user_id=uid, thread_id=busy.thread_id, level=FollowLevel.WATCHING)
            for uid in ids[MENTIONED:]
        ],
        batch_size=1000,
    )
    return author, board, busy.thread_id, busy.post_id, quiet.thread_id


async def run(url: str, writes: int) -> dict[str, Any]:
    EXECUTOR_CACHE.clear()
    await migrate(url)
    await Tortoise.init(config=tortoise_config(url))
    try:
        author, board, busy_id, first_post, quiet_id = await _load()
        actor = await boards.load_actor(author)
        busy = await Thread.get(id=busy_id)
        quiet = await Thread.get(id=quiet_id)
        gate = OpenGate()
        mentions = " ".join(f"@u{i:04d}" for i in range(MENTIONED))
        heavy_ms: list[float] = []
        plain_ms: list[float] = []
        settle_ms: list[float] = []
        stored: list[int] = []
        for k in range(writes + 3):
            # In turn, so both see the same state of the machine; the first three warm up.
            before = await Notification.all().count()
            start = time.perf_counter()
            await posts.create_post(
                actor,
                busy,
                board,
                posts.Draft(body=f"{mentions} 皆さんへの報告 {k}", reply_to=first_post),
                gate=gate,
            )
            written = time.perf_counter()
            await outbox.settled()
            settled = time.perf_counter()
            count = await Notification.all().count() - before
            start_plain = time.perf_counter()
            await posts.create_post(
                actor, quiet, board, posts.Draft(body=f"ふつうの投稿 {k}"), gate=gate
            )
            plain = time.perf_counter()
            await outbox.settled()
            if k >= 3:
                heavy_ms.append((written - start) * 1000)
                settle_ms.append((settled - start) * 1000)
                plain_ms.append((plain - start_plain) * 1000)
                stored.append(count)
        return {
            "writes": writes,
            "heavy_p50": _percentile(heavy_ms, 0.5),
            "heavy_p99": _percentile(heavy_ms, 0.99),
            "plain_p50": _percentile(plain_ms, 0.5),
            "plain_p99": _percentile(plain_ms, 0.99),
            "ratio": statistics.mean(heavy_ms) / statistics.mean(plain_ms),
            "settle_p50": _percentile(settle_ms, 0.5),
            "settle_max": max(settle_ms),
            "notices": sorted(set(stored)),
        }
    finally:
        await Tortoise.close_connections()


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"| {name} | {r['writes']} | {r['plain_p50']:.1f} / {r['plain_p99']:.1f} "
        f"| {r['heavy_p50']:.1f} / {r['heavy_p99']:.1f} | {r['ratio']:.2f}× "
        f"| {r['settle_p50']:.0f} / {r['settle_max']:.0f} | {', '.join(map(str, r['notices']))} |"
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.notices", description=__doc__)
    p.add_argument("--full", action="store_true", help="200 writes of each kind (default 30)")
    p.add_argument("--postgres", default="", help="also on this server (a database is made)")
    args = p.parse_args()
    writes = 200 if args.full else 30
    print(
        "| database | writes | plain post p50 / p99 ms | 50 mentions + 1,000 followers "
        "p50 / p99 ms | mean ratio | all notices stored p50 / max ms | notices per post |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite://{Path(work) / 'notices.sqlite3'}"
        print(_line("SQLite", asyncio.run(run(url, writes))))
    if args.postgres:
        asyncio.run(_fresh_postgres(args.postgres))
        print(_line("PostgreSQL", asyncio.run(run(args.postgres, writes))))


if __name__ == "__main__":
    main()
