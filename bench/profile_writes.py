"""Where one vote and one question spend their time: `python -m bench.profile_writes [URL]`.

In one process, on a fresh SQLite file (or the PostgreSQL database URL given, which it
empties first — never point it at data you keep): the real app (`create_app`) behind
httpx's ASGI transport, a live session's thread, a staff asker and a participant voter.
Prints, for `PUT /api/v1/posts/{id}/vote` and for `POST /api/v1/threads/{id}/posts`
`{kind: "question"}`: the SQL statements of one request (Tortoise's `db_client` log), the
wall and CPU time per request over `N` sequential requests, and the functions with the most
CPU under cProfile, so the share of authentication and permission reads can be judged.
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2

from forum import accounts
from forum.app import create_app
from forum.config import Settings
from forum.db import migrate
from forum.models import Role

__all__ = ["main"]

N = 300
ORIGIN = "http://127.0.0.1:8000"


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.sql.append(message.split("\n")[0][:160])


def _statements_of(work: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[list[str]]]:
    async def run() -> list[str]:
        logger = logging.getLogger("tortoise.db_client")
        handler = _Statements()
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            await work()
        finally:
            logger.removeHandler(handler)
            logger.setLevel(logging.WARNING)
        return handler.sql

    return run


async def _empty_postgres(url: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def profile(url: str, data_dir: Path) -> None:
    if url.startswith("postgres"):
        await _empty_postgres(url)
    await migrate(url)
    settings = Settings(
        database_url=url,
        secret_key="profile-secret-key",  # noqa: S106 - a throwaway process
        data_dir=data_dir,
        allowed_origins=frozenset({ORIGIN}),
        password_hasher="fast",  # noqa: S106 - a hasher's name
        posts_per_minute=1_000_000,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        admin = await accounts.register(
            accounts.Registration("profile-admin", "profile password 1", "管理者", "other"),
            role=Role.ADMIN,
        )
        voter = await accounts.register(
            accounts.Registration("profile-voter", "profile password 2", "参加者", "citizen")
        )
        staff = {"Authorization": f"Bearer {await accounts.create_token(admin)}"}
        voting = {"Authorization": f"Bearer {await accounts.create_token(voter)}"}
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
            board = {"slug": "zenkoku", "title": "全国フォーラム", "description": ""}
            assert (await c.post("/api/v1/boards", json=board, headers=staff)).status_code == 201
            now = datetime.now(UTC)
            session = {
                "title": "質疑応答",
                "kind": "forum",
                "board": "zenkoku",
                "starts_at": (now + timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
            }
            made = (await c.post("/api/v1/sessions", json=session, headers=staff)).json()
            started = await c.post(f"/api/v1/sessions/{made['id']}/start", headers=staff)
            thread = int(started.json()["thread"]["id"])
            body = {"body": "移住後の住まいはどう確保しましたか。", "kind": "question"}
            posts_path = f"/api/v1/threads/{thread}/posts"
            asked = await c.post(posts_path, json=body, headers=staff)
            assert asked.status_code == 201, asked.text
            vote_path = f"/api/v1/posts/{asked.json()['id']}/vote"
            flips = iter(range(10_000_000))

            async def vote() -> None:
                method = "PUT" if next(flips) % 2 == 0 else "DELETE"
                response = await c.request(method, vote_path, headers=voting)
                assert response.status_code == 200, response.text

            async def question() -> None:
                response = await c.post(posts_path, json=body, headers=staff)
                assert response.status_code == 201, response.text

            for name, work in (("vote (PUT/DELETE)", vote), ("question (POST)", question)):
                for _ in range(20):
                    await work()  # warm caches and the statement cache
                sql = await _statements_of(work)()
                print(f"\n=== {name}: {len(sql)} statements in one request")
                for line in sql:
                    print("   ", line)
                cpu0, wall0 = time.process_time(), time.perf_counter()
                for _ in range(N):
                    await work()
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                print(
                    f"--- {N} sequential requests: {1000 * wall / N:.2f} ms wall, "
                    f"{1000 * cpu / N:.2f} ms CPU each (process CPU: the loop and "
                    "the SQLite driver's thread)"
                )
                # CPU time, not wall time: waiting for the database is not charged.
                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
                for _ in range(N):
                    await work()
                profiler.disable()
                _report(pstats.Stats(profiler), N)


# Where a write's CPU goes, by the function that owns each part of it.
PARTS = (
    ("whole request (middleware stack down)", "forum/web/middleware.py", "__call__"),
    ("authentication: token -> user", "forum/accounts.py", "user_for_token"),
    ("authorisation: the user's board roles", "forum/boards.py", "load_actor"),
    ("permission reads: the post, thread, board", "forum/posts.py", "get_post"),
    ("permission reads: the thread, board", "forum/threads.py", "get_thread"),
    ("the vote (checks, statements, commit)", "forum/posts.py", "set_vote"),
    ("the question (gate, transaction, outbox)", "forum/posts.py", "create_post"),
    ("Markdown rendering", "forum/render.py", "render_markdown_async"),
    ("notices after commit (own task)", "forum/notifications.py", "_fan_out"),
)


def _report(stats: pstats.Stats, n: int) -> None:
    table: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"--- CPU under cProfile: {1000 * total / n:.2f} ms per request (profiler overhead in)")
    print(f"    {'part':<45} {'ms/request':>10} {'share':>7}")
    for label, path, name in PARTS:
        cum = max(
            (
                row[3]
                for (file, _line, func), row in table.items()
                if file.endswith(path) and func == name
            ),
            default=0.0,
        )
        if cum:
            print(f"    {label:<45} {1000 * cum / n:>10.2f} {100 * cum / total:>6.0f}%")
    print("    top functions by own CPU:")
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:12]
    for (file, line, func), row in rows:
        short = "/".join(Path(file).parts[-2:]) if file != "~" else "builtins"
        print(f"      {1000 * row[2] / n:7.3f} ms  {short}:{line}({func})")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory(prefix="koryu-profile-") as work:
        url = args[0] if args else f"sqlite://{Path(work) / 'koryu.sqlite3'}"
        asyncio.run(profile(url, Path(work)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
