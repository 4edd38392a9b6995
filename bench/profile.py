"""Where one request's time goes: `python -m bench.profile [--requests 200] [--top 25]`.

In one process, without sockets: the app runs under an ASGI client on a fresh SQLite
database (or ``--database postgres://…``), and for each kind of request — a post written
through the API as an admin with a bearer token, the 200-post thread page anonymous and
logged in, and its 304 — it counts the SQL statements one request runs and profiles
``--requests`` of them with cProfile (the top functions by own time and by cumulative time
go to stdout). Then it measures what one idle WebSocket viewer keeps in memory with
tracemalloc: ``--viewers`` sockets opened and subscribed through the app's own endpoint
(in memory, no network), and the bytes allocated per viewer by file and line.

This explains the ratios `python -m bench` reports; it is not one of them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["main"]

POST_BODY = (
    "地域おこし協力隊の任期後の定住について、他の自治体ではどのような支援をしていますか。"
    "空き家バンクと就業支援を組み合わせた事例があれば教えてください。"
)
THREAD_BODY = "- 空き家バンク\n- 就業支援\n\n詳しくは [事例集](https://example.jp/cases) を参照。"


@contextmanager
def counting_statements() -> Iterator[Counter[str]]:
    """Count each SQL statement the database clients run, by its first words."""
    from tortoise.backends.base.client import BaseDBAsyncClient

    counts: Counter[str] = Counter()
    names = ("execute_query", "execute_query_dict", "execute_insert", "execute_script")
    patched: list[tuple[type, str, Any]] = []
    for cls in _subclasses(BaseDBAsyncClient):
        for name in names:
            original = cls.__dict__.get(name)
            if original is None:
                continue

            def wrapper(self: Any, query: str, *args: Any, _o: Any = original, **kw: Any) -> Any:
                counts[" ".join(str(query).split()[:4])[:90]] += 1
                return _o(self, query, *args, **kw)

            setattr(cls, name, wrapper)
            patched.append((cls, name, original))
    try:
        yield counts
    finally:
        for cls, name, original in patched:
            setattr(cls, name, original)


def _subclasses(cls: type) -> list[type]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


async def _seed(client: Any) -> dict[str, Any]:
    from forum import accounts
    from forum.models import Role

    admin = await accounts.register(
        accounts.Registration(
            username="profile-admin",
            password="profile password 1",  # noqa: S106 - a throwaway database
            display_name="管理 さん",
        ),
        role=Role.ADMIN,
    )
    token = await accounts.create_token(admin)
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.post(
        "/api/v1/boards", json={"slug": "prof", "title": "計測", "description": ""}, headers=auth
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/boards/prof/threads",
        json={"title": "計測スレッド", "body": THREAD_BODY},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    thread_id = int(r.json()["thread"]["id"])
    for _ in range(199):
        r = await client.post(
            f"/api/v1/threads/{thread_id}/posts", json={"body": THREAD_BODY}, headers=auth
        )
        assert r.status_code == 201, r.text
    raw, _session = await accounts.start_session(admin, days=1)
    return {"auth": auth, "thread": thread_id, "cookie": raw}


async def _run(args: argparse.Namespace) -> None:
    import httpx2

    from forum.app import create_app
    from forum.config import Settings

    work = Path(tempfile.mkdtemp(prefix="koryu-profile-"))
    database = args.database or f"sqlite://{work / 'koryu.sqlite3'}"
    if database.startswith("sqlite"):
        from forum.db import migrate

        await migrate(database)
    settings = Settings(
        database_url=database,
        secret_key="profile-secret-key",  # noqa: S106 - a throwaway database
        data_dir=work,
        allowed_origins=frozenset({"http://testserver"}),
        password_hasher=args.hasher,
        posts_per_minute=1_000_000_000,
        ws_connections_per_ip=1_000_000,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
            seed = await _seed(c)
            thread = seed["thread"]
            page = await c.get(f"/t/{thread}")
            etag = page.headers.get("etag", "")
            # A returning visitor: the CSRF cookie of the first visit, and its ETag.
            revisit = {
                "If-None-Match": etag,
                "Cookie": f"koryu_csrf={page.cookies.get('koryu_csrf', '')}",
            }
            cookie = {"Cookie": f"koryu_session={seed['cookie']}"}

            async def post() -> None:
                r = await c.post(
                    f"/api/v1/threads/{thread}/posts",
                    json={"body": POST_BODY},
                    headers=seed["auth"],
                )
                assert r.status_code == 201, r.text

            async def anonymous() -> None:
                r = await c.get(f"/t/{thread}")
                assert r.status_code == 200

            async def logged_in() -> None:
                r = await c.get(f"/t/{thread}", headers=cookie)
                assert r.status_code == 200

            async def not_modified() -> None:
                r = await c.get(f"/t/{thread}", headers=revisit)
                assert r.status_code == 304, r.status_code

            cases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                ("post write (API, bearer)", post),
                ("thread page, anonymous", anonymous),
                ("thread page, logged in (cookie)", logged_in),
            ]
            if etag:
                cases.append(("thread page 304 (If-None-Match)", not_modified))
            for name, request in cases[: args.cases]:
                await _profile(name, request, args)
        if args.viewers:
            await _idle_viewers(app, seed["thread"], args.viewers)


async def _profile(name: str, request: Callable[[], Awaitable[None]], args: Any) -> None:
    from forum import outbox

    await request()  # warm caches
    await outbox.settled()
    with counting_statements() as counts:
        await request()
        await outbox.settled()
    print(f"\n## {name}: {sum(counts.values())} SQL statements in one request")
    for statement, n in counts.most_common():
        print(f"  {n:3d}  {statement}")
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(args.requests):
        await request()
    await outbox.settled()
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(
        f"  {args.requests} requests in {elapsed:.2f} s: {elapsed / args.requests * 1e3:.2f} ms each"
    )
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        print(f"  by {order}:")
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\n".join("    " + line for line in lines[start : start + args.top + 1]))


async def _idle_viewers(app: Any, thread: int, n: int) -> None:
    """Open ``n`` sockets through the ASGI app (no network), subscribe each to the thread,
    and report what tracemalloc sees allocated per viewer once they are idle."""
    import orjson

    queues: list[asyncio.Queue[dict[str, Any]]] = []
    tasks: list[asyncio.Task[None]] = []
    sent: list[asyncio.Queue[dict[str, Any]]] = []

    def scope() -> dict[str, Any]:
        return {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver")],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "subprotocols": [],
            "state": {},
            "extensions": {},
        }

    async def open_one() -> None:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        outbox_q: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        await inbox.put({"type": "websocket.connect"})
        frame = {"type": "subscribe", "channel": f"thread:{thread}"}
        await inbox.put({"type": "websocket.receive", "text": orjson.dumps(frame).decode()})

        async def send(message: dict[str, Any]) -> None:
            await outbox_q.put(message)

        tasks.append(asyncio.create_task(app(scope(), inbox.get, send)))
        queues.append(inbox)
        sent.append(outbox_q)
        while True:
            message = await asyncio.wait_for(outbox_q.get(), 10)
            if message["type"] == "websocket.close":
                raise RuntimeError(f"socket closed: {message}")
            if message["type"] == "websocket.send" and b'"subscribed"' in (
                message.get("bytes") or (message.get("text") or "").encode()
            ):
                return

    await open_one()  # warm
    import gc

    gc.collect()
    tracemalloc.start(8)
    before = tracemalloc.take_snapshot()
    for _ in range(n):
        await open_one()
    for q in sent:  # what was sent is the client's, not the server's
        while not q.empty():
            q.get_nowait()
    await asyncio.sleep(0.5)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    # Grouped by whole traceback, so what the harness itself holds (its queues of
    # messages, its tasks) is told apart and left out.
    by_line: Counter[str] = Counter()
    blocks: Counter[str] = Counter()
    for d in after.compare_to(before, "traceback"):
        if any(_where(f.filename).startswith("bench/") for f in d.traceback):
            continue
        frame = d.traceback[-1]  # the allocation itself (frames run oldest first)
        where = f"{_where(frame.filename)}:{frame.lineno}"
        by_line[where] += d.size_diff
        blocks[where] += d.count_diff
    total = sum(by_line.values())
    print(f"\n## idle viewer: {total / n / 1024:.2f} KB per viewer traced by Python ({n} viewers)")
    for where, size in by_line.most_common(25):
        print(f"  {size / n:8.0f} B  {blocks[where] / n:5.1f} blocks  {where}")
    for inbox in queues:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait(tasks, timeout=10)


def _where(filename: str) -> str:
    return os.path.relpath(filename)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--database", default="")
    parser.add_argument("--cases", type=int, default=4, help="profile the first CASES kinds")
    parser.add_argument("--hasher", default="argon2", choices=["argon2", "fast"])
    asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
