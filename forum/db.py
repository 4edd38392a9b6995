"""The database as a whole: applying the committed migrations, and whether it answers."""

from __future__ import annotations

import logging

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from forum.config import tortoise_config

__all__ = ["migrate", "reachable"]

log = logging.getLogger("koryu.db")


async def migrate(database_url: str) -> None:
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def reachable() -> bool:
    """Whether the default connection answers a trivial query (the health check asks)."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception:
        log.warning("health check: database unreachable", exc_info=True)
        return False
    return True
