"""A koryu installation for the benchmarks: database, admin, token, board, threads.

Everything goes through koryu's own commands (`python -m forum.cli migrate|createuser|
serve`) and its HTTP API, as an operator and a client would.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import PYTHON, Child, free_port, http_json, spawn, wait_ready

__all__ = [
    "ORIGIN",
    "Seed",
    "Server",
    "ask",
    "koryu_env",
    "live_session",
    "prepare",
    "seed",
    "seed_voters",
    "start_koryu",
]

ORIGIN = "http://127.0.0.1:8000"
# `--koryu-root DIR`: serve koryu from another checkout (an older commit, for a before/after
# in the same conditions); the load generators and baselines stay this checkout's.
KORYU_ROOT: Path | None = None
ADMIN = "bench-admin"
PASSWORD = "bench password for koryu"  # noqa: S105 - a throwaway local database
# Long enough to look like a real live question, with the send-time marker at the end.
POST_TEXT = (
    "地域おこし協力隊の任期後の定住について、他の自治体ではどのような支援をしていますか。"
    "空き家バンクと就業支援を組み合わせた事例があれば教えてください。"
)


def koryu_env(database_url: str, data_dir: Path, broker_url: str = "memory://") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KORYU_")}
    env.update(
        KORYU_DATABASE_URL=database_url,
        KORYU_BROKER_URL=broker_url,
        KORYU_SECRET_KEY="bench-secret-key-not-for-production",  # noqa: S106
        KORYU_SITE_URL=ORIGIN,
        KORYU_DATA_DIR=str(data_dir),
        # The poster is staff (no moderation hold); lift the per-user post rate limit too.
        KORYU_POSTS_PER_MINUTE="1000000000",
        # Every simulated viewer comes from loopback: lift the per-address socket cap.
        KORYU_WS_CONNECTIONS_PER_IP="1000000",
        # The voters of the Q&A benchmarks register from loopback too, and their passwords
        # are throwaway: hashing at production cost would only slow the seeding down (no
        # measured request checks a password; they carry bearer tokens), and they all
        # sign in from loopback.
        KORYU_REGISTRATIONS_PER_HOUR_PER_IP="1000000",
        KORYU_LOGIN_ATTEMPTS_PER_MINUTE="1000000",
        KORYU_PASSWORD_HASHER="fast",  # noqa: S106 - a hasher's name, not a password
        PYTHONUNBUFFERED="1",
    )
    return env


async def _pg(url: str, *statements: str) -> None:
    import asyncpg  # type: ignore[import-untyped]

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def create_pg_database(admin_url: str, name: str) -> str:
    asyncio.run(_pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg(admin_url, f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def drop_pg_database(admin_url: str, name: str) -> None:
    asyncio.run(_pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run(name: str, args: list[str], env: dict[str, str], log_dir: Path, stdin: str = "") -> None:
    import subprocess

    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        result = subprocess.run(
            [PYTHON, "-m", "forum.cli", *args],
            env=env,
            input=stdin.encode(),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"koryu {' '.join(args)} failed:\n{log.read_text()[-2000:]}")


def prepare(database_url: str, data_dir: Path, log_dir: Path) -> None:
    """`koryu migrate`, then `koryu createuser bench-admin --role admin`."""
    env = koryu_env(database_url, data_dir)
    _run("migrate", ["migrate"], env, log_dir)
    _run(
        "createuser",
        ["createuser", ADMIN, "--role", "admin", "--password-stdin"],
        env,
        log_dir,
        stdin=PASSWORD + "\n",
    )


@dataclass
class Server:
    child: Child
    port: int

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.child.stop()


def start_koryu(
    name: str, env: dict[str, str], log_dir: Path, cpus: set[int] | None = None
) -> Server:
    """A real `koryu serve` process (uvicorn, uvloop, httptools, websockets-sansio)."""
    return _start(
        name,
        lambda port: [
            PYTHON,
            "-m",
            "forum.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        log_dir,
        cpus,
        cwd=KORYU_ROOT,
    )


def start_baseline(
    name: str, env: dict[str, str], log_dir: Path, cpus: set[int] | None = None
) -> Server:
    """The bare Starlette + uvicorn app of `bench.baseline_app`."""
    return _start(
        name,
        lambda port: [PYTHON, "-m", "bench.baseline_app", "--port", str(port)],
        env,
        log_dir,
        cpus,
    )


def _start(
    name: str,
    command: Callable[[int], list[str]],
    env: dict[str, str],
    log_dir: Path,
    cpus: set[int] | None,
    cwd: Path | None = None,
) -> Server:
    """Start a server on a free port and wait until its /healthz answers."""
    port = free_port()
    child = spawn(name, command(port), env=env, log_dir=log_dir, cpus=cpus, cwd=cwd)
    server = Server(child, port)
    try:
        wait_ready(child, f"{server.base}/healthz")
    except BaseException:
        child.stop()
        raise
    return server


@dataclass
class Seed:
    token: str
    fanout_thread: int
    write_thread: int
    page_thread: int | None
    post_template: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _ok(status: int, body: Any, what: str) -> Any:
    if status not in (200, 201):
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def post_body(marker: str) -> str:
    return f"{POST_TEXT}\n\n[bench {marker}]"


def seed(base: str, *, page_posts: int = 0) -> Seed:
    """Token, board and threads through the API; `page_posts` posts in a page thread."""
    token = _ok(
        *http_json("POST", f"{base}/api/v1/tokens", {"username": ADMIN, "password": PASSWORD}),
        "token",
    )["token"]
    auth = {"Authorization": f"Bearer {token}"}
    board = {"slug": "bench", "title": "ベンチマーク", "description": "計測用"}
    status, body = http_json("POST", f"{base}/api/v1/boards", board, headers=auth)
    if status != 409 and not (status == 422 and "slug" in str(body)):
        _ok(status, body, "board")

    def thread(title: str) -> int:
        made = http_json(
            "POST",
            f"{base}/api/v1/boards/bench/threads",
            {"title": title, "body": POST_TEXT},
            headers=auth,
        )
        return int(_ok(*made, "thread")["thread"]["id"])

    fanout = thread("ライブQ&A：関係人口の広げ方（計測）")
    write = thread("書き込み計測")
    template = _ok(
        *http_json(
            "POST",
            f"{base}/api/v1/threads/{fanout}/posts",
            {"body": post_body("t0=0000000000.000000")},
            headers=auth,
        ),
        "template post",
    )
    page = None
    if page_posts:
        page = thread("ページ表示計測：200件の投稿")
        for i in range(page_posts - 1):
            body_text = (
                f"{i + 1}件目の返信です。**移住相談**の窓口を [役場のページ](https://example.jp/iju) "
                f"にまとめました。\n\n- 住まい：空き家バンク\n- 仕事：地域おこし協力隊\n\n{POST_TEXT}"
            )
            _ok(
                *http_json(
                    "POST",
                    f"{base}/api/v1/threads/{page}/posts",
                    {"body": body_text},
                    headers=auth,
                ),
                "page post",
            )
    return Seed(token, fanout, write, page, dict(template))


def seed_voters(base: str, count: int, prefix: str, *, start: int = 0) -> list[str]:
    """Participants ``start`` … ``count - 1`` registered through the API, and a bearer token
    for each."""
    tokens = []
    for i in range(start, count):
        username = f"{prefix}{i:04d}"
        registration = {
            "username": username,
            "password": PASSWORD,
            "display_name": f"参加者{i}",
            "affiliation": "citizen",
        }
        status, body = http_json("POST", f"{base}/api/v1/users", registration)
        if status != 409 and not (status == 422 and "username" in str(body)):
            _ok(status, body, "voter")
        made = http_json(
            "POST", f"{base}/api/v1/tokens", {"username": username, "password": PASSWORD}
        )
        tokens.append(str(_ok(*made, "voter token")["token"]))
    return tokens


def live_session(base: str, auth: dict[str, str], title: str) -> int:
    """A session on the bench board, started now; returns its live thread's id."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    session = {
        "title": title,
        "kind": "forum",
        "board": "bench",
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
    }
    made = _ok(*http_json("POST", f"{base}/api/v1/sessions", session, headers=auth), "session")
    started = http_json("POST", f"{base}/api/v1/sessions/{made['id']}/start", None, headers=auth)
    return int(_ok(*started, "session start")["thread"]["id"])


def ask(base: str, auth: dict[str, str], thread_id: int, body: str) -> int:
    """A question in the thread, by a staff member (never held); returns its id."""
    made = http_json(
        "POST",
        f"{base}/api/v1/threads/{thread_id}/posts",
        {"body": body, "kind": "question"},
        headers=auth,
    )
    return int(_ok(*made, "question")["id"])
