"""The ``koryu`` command: serve, migrate, createuser, demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

from tortoise import Tortoise

from forum.config import ConfigError, Settings

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
        log_level=args.log_level,
    )
    return 0


async def _migrate(settings: Settings) -> None:
    from forum.db import migrate

    await migrate(settings.database_url)


async def _with_db(settings: Settings, work: str, args: argparse.Namespace) -> int:
    from forum import accounts

    accounts.use_password_hasher(settings.password_hasher)
    await Tortoise.init(config=settings.tortoise_config())
    try:
        if work == "createuser":
            return await _createuser(args)
        from forum.demo import load_demo

        created = await load_demo()
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
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"koryu: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("migrations applied")
        return 0
    return asyncio.run(_with_db(settings, args.command, args))


if __name__ == "__main__":
    sys.exit(main())
