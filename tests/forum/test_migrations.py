"""The committed migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from tortoise import Tortoise
from tortoise.cli.cli import tortoise_cli_context
from tortoise.connection import get_connection
from tortoise.migrations.autodetector import MigrationAutodetector

from forum.config import tortoise_config

pytestmark = pytest.mark.asyncio


async def _columns(dialect: str) -> dict[str, set[str]]:
    conn = get_connection("default")
    tables: dict[str, set[str]] = {}
    if dialect == "sqlite":
        names = await conn.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        for row in names:
            info = await conn.execute_query_dict(f'PRAGMA table_info("{row["name"]}")')
            tables[row["name"]] = {c["name"] for c in info}
    else:
        rows = await conn.execute_query_dict(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
        for row in rows:
            tables.setdefault(row["table_name"], set()).add(row["column_name"])
    return tables


async def test_migrated_tables_and_columns_match_the_models(database_url: str) -> None:
    # database_url is a database that the committed migrations were applied to, empty before.
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        dialect = get_connection("default").capabilities.dialect
        actual = await _columns(dialect)
        for model in Tortoise.apps.get_models_iterable():
            table = model._meta.db_table
            expected = set(model._meta.fields_db_projection.values())
            assert actual.get(table) == expected, table
            for m2m in model._meta.m2m_fields:
                assert model._meta.fields_map[m2m].through in actual  # type: ignore[attr-defined]
    finally:
        await Tortoise.close_connections()


async def test_no_model_change_is_missing_a_migration(database_url: str) -> None:
    config = tortoise_config(database_url)
    apps = {label: dict(app) for label, app in config["apps"].items()}  # type: ignore[attr-defined]
    async with tortoise_cli_context(config) as ctx:
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, apps).changes()
    assert [w.name for w in writers] == []
