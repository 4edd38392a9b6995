"""The ``koryu`` command: serve, migrate, createuser, demo, reindex, cleanup-uploads."""

from __future__ import annotations

import argparse
import asyncio
import copy
import getpass
import logging
import sys
from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise

from forum.config import ConfigError, Settings, redacted

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    if args.workers > 1 and settings.broker_url.startswith("memory://"):
        print(
            "koryu serve: --workers > 1 needs a shared broker; the in-process memory:// broker "
            "cannot reach other processes. Set KORYU_BROKER_URL=redis://127.0.0.1:6379/0 "
            "(and a PostgreSQL KORYU_DATABASE_URL), or run one worker.",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        print(
            "koryu serve: --workers > 1 needs PostgreSQL; SQLite is for a single process.",
            file=sys.stderr,
        )
        return 2
    problem = asyncio.run(_unusable_setting(settings, broker=True))
    if problem:
        return _refuse(problem)
    if args.migrate:
        asyncio.run(_migrate(settings))
    uvicorn.run(
        "forum.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        # permessage-deflate doubles CPU per message and triples memory per socket.
        ws_per_message_deflate=False,
        # Client frames are a few hundred bytes and /ws closes at 4 KiB; without this
        # uvicorn would buffer a frame of up to 16 MiB before the endpoint sees it.
        ws_max_size=16 * 1024,
        # uvicorn times out neither a request's headers nor a silent new connection
        # (only keep-alive, after a response): the reverse proxy must (docs/deploy.md).
        log_level=args.log_level,
        log_config=log_config(),
    )
    return 0


def log_config() -> dict[str, Any]:
    """uvicorn's logging, and koryu's own loggers at INFO on stderr, in every worker.

    uvicorn applies this dict again in each worker process it starts; without it the
    workers of ``--workers N`` had no handler for koryu's loggers, and their start-up lines
    (such as the Redis channel each one listens on) went nowhere.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["koryu"] = {"format": "%(levelname)s %(name)s [%(process)d]: %(message)s"}
    config["handlers"]["koryu"] = {
        "class": "logging.StreamHandler",
        "formatter": "koryu",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"handlers": ["koryu"], "level": "INFO"}
    config["loggers"]["tortoise"] = {"level": "WARNING"}
    return config


def _refuse(problem: str) -> int:
    print(f"koryu: {problem}", file=sys.stderr)
    return 2


async def _unusable_setting(settings: Settings, *, broker: bool = False) -> str | None:
    """The first setting that cannot work, said in one line; None when everything answers."""
    from forum.db import DatabaseUnavailable, check_database

    try:
        await check_database(settings.database_url)
    except DatabaseUnavailable as exc:
        return f"KORYU_DATABASE_URL: cannot use {redacted(settings.database_url)}: {exc}"
    if broker:
        problem = await _broker_problem(settings.realtime_broker_url)
        if problem:
            return f"KORYU_BROKER_URL: cannot use {redacted(settings.broker_url)}: {problem}"
    return None


async def _broker_problem(url: str) -> str | None:
    from realtime.backends import create_broker
    from realtime.protocol import Event

    def ignore(event: Event) -> None:
        return None

    # This trial connection is not a worker's: keep its "pub/sub channel" line out of the log,
    # where each worker says which channel it listens on.
    quiet = logging.getLogger("realtime")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        broker = create_broker(url)
        broker.set_listener(ignore)
        await broker.connect()
        await broker.disconnect()
    except Exception as exc:  # refused, unknown host, TLS, auth: all mean the URL cannot work
        from forum.db import one_line

        return one_line(exc)
    finally:
        quiet.setLevel(level)
    return None


async def _migrate(settings: Settings) -> None:
    from forum.db import migrate

    await migrate(settings.database_url)


async def _with_db(settings: Settings, work: str, args: argparse.Namespace) -> int:
    problem = await _unusable_setting(settings)
    if problem:
        return _refuse(problem)

    from forum import accounts

    accounts.use_password_hasher(settings.password_hasher)
    await Tortoise.init(config=settings.tortoise_config())
    try:
        if work == "createuser":
            return await _createuser(args)
        if work == "reindex":
            return await _reindex(args)
        if work == "cleanup-uploads":
            from forum.app import clean_uploads_once

            withdrawn, orphans = await clean_uploads_once(settings)
            print(f"removed {withdrawn} files of rejected or deleted posts and {orphans} orphans")
            return 0
        from forum.app import load_demo_content

        created = await load_demo_content()
        print("demo content loaded" if created else "demo content already present")
        return 0
    finally:
        await Tortoise.close_connections()


async def _createuser(args: argparse.Namespace) -> int:
    from forum import accounts
    from forum.errors import ForumError
    from forum.models import Role

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
    try:
        role = Role(args.role)
    except ValueError:
        print(f"koryu createuser: unknown role {args.role!r}", file=sys.stderr)
        return 2
    try:
        user = await accounts.register(
            accounts.Registration(
                username=args.name,
                password=password,
                display_name=args.display_name or args.name,
                affiliation=args.affiliation,
                organisation=args.organisation,
            ),
            role=role,
        )
    except ForumError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        print(f"koryu createuser: {exc.message} {details}".strip(), file=sys.stderr)
        return 1
    print(f"created {user.username} ({user.role.value})")
    return 0


class ProgressBar:
    """One line on stderr, redrawn: a bar, rows done of all, rows per second and the ETA."""

    WIDTH = 30

    def __init__(self, stream: Any = None, clock: Any = None) -> None:
        import time

        self.stream = stream or sys.stderr
        self.clock = clock or time.monotonic
        self.started = self.clock()
        self.first: int | None = None

    def line(self, done: int, total: int, phase: str) -> str:
        if self.first is None:
            self.first = done  # a resumed run's rate counts only this run's rows
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = (done - self.first) / elapsed
        filled = self.WIDTH * done // total if total else self.WIDTH
        eta = "--:--" if rate <= 0 else _clock_text((total - done) / rate)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"[{bar}] {done}/{total} {phase} {rate:.0f}/s ETA {eta}"

    def __call__(self, progress: Any) -> None:
        text = self.line(progress.done, progress.total, progress.phase)
        self.stream.write("\r" + text)
        self.stream.flush()


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


async def _reindex(args: argparse.Namespace) -> int:
    import time

    from forum.search_reindex import reindex

    started = time.monotonic()
    bar = ProgressBar()
    written = await reindex(fresh=args.fresh, batch=args.batch, report=bar)
    seconds = time.monotonic() - started
    print(file=sys.stderr)
    print(f"reindexed {written} rows in {seconds:.1f} s ({written / max(seconds, 1e-9):.0f}/s)")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="koryu", description="koryu exchange board")
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument("--log-level", default="info")
    commands.add_parser("migrate", help="apply database migrations")
    create = commands.add_parser("createuser", help="create a user")
    create.add_argument("name")
    create.add_argument("--role", default="participant")
    create.add_argument("--password-stdin", action="store_true")
    create.add_argument("--display-name", default="")
    create.add_argument("--affiliation", default="other")
    create.add_argument("--organisation", default="")
    commands.add_parser("demo", help="load Japanese demo content (once)")
    rebuild = commands.add_parser(
        "reindex",
        help="rebuild the search index (resumes an interrupted run; safe while serving)",
    )
    rebuild.add_argument("--fresh", action="store_true", help="start over, not from the bookmark")
    rebuild.add_argument("--batch", type=int, default=500, help="rows per transaction")
    commands.add_parser(
        "cleanup-uploads",
        help="remove files of rejected or deleted posts past retention, and orphans",
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Its start and shutdown lines say nothing to an operator, and would bury a refusal.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"koryu: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "migrate":
        problem = asyncio.run(_unusable_setting(settings))
        if problem:
            return _refuse(problem)
        asyncio.run(_migrate(settings))
        print("migrations applied")
        return 0
    return asyncio.run(_with_db(settings, args.command, args))


if __name__ == "__main__":
    sys.exit(main())
