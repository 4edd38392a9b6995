"""The database as a whole: applying the committed migrations, and whether it answers."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from forum.config import tortoise_config

__all__ = ["DatabaseUnavailable", "check_database", "migrate", "reachable"]

CHECK_SECONDS = 10.0

log = logging.getLogger("koryu.db")


class DatabaseUnavailable(Exception):
    """The database of a URL cannot be reached or used; the message says why, in one line."""


async def migrate(database_url: str) -> None:
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def check_database(database_url: str, *, seconds: float = CHECK_SECONDS) -> None:
    """Connect and run ``SELECT 1``, so that a wrong URL stops a command before it starts.

    Drivers fail in many ways (refused, unknown host, no such database, bad password, a
    directory that cannot be created); all of them mean the setting cannot be used, so all
    become one ``DatabaseUnavailable`` whose message is the driver's first line.
    """
    try:
        async with asyncio.timeout(seconds):
            await Tortoise.init(config=tortoise_config(database_url))
            await get_connection("default").execute_query("SELECT 1")
    except TimeoutError:
        raise DatabaseUnavailable(f"no answer within {seconds:g} s") from None
    except Exception as exc:
        raise DatabaseUnavailable(one_line(exc)) from exc
    finally:
        with suppress(Exception):  # a connection that never opened has nothing to close
            await Tortoise.close_connections()


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


async def reachable() -> bool:
    """Whether the default connection answers a trivial query (the health check asks)."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        return False
    return True
