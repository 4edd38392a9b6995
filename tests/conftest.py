"""Fixtures: settings, a migrated database (SQLite always, PostgreSQL when configured), clients."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from forum import accounts
from forum.app import create_app
from forum.cases import SEEDED_THEMES
from forum.config import Settings
from forum.db import migrate
from forum.models import Role, User

POSTGRES_URL = os.environ.get("KORYU_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("KORYU_TEST_REDIS_URL", "")
DATABASES = ["sqlite", *(["postgres"] if POSTGRES_URL else [])]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "koryu.sqlite3"
    asyncio.run(migrate(f"sqlite://{path}"))
    return path


async def _emptying_script(conn: asyncpg.Connection) -> str:
    tables = [
        row["tablename"]
        for row in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT LIKE 'tortoise%'"
        )
    ]
    edges = await conn.fetch(
        "SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint k "
        "JOIN pg_class child ON child.oid = k.conrelid "
        "JOIN pg_class parent ON parent.oid = k.confrelid WHERE k.contype = 'f'"
    )
    # A table is emptied after every table that refers to it, so no foreign key objects.
    referrers: dict[str, set[str]] = {table: set() for table in tables}
    for edge in edges:
        if edge["parent"] in referrers and edge["child"] != edge["parent"]:
            referrers[edge["parent"]].add(edge["child"])
    deletes = [f'DELETE FROM "{t}"' for t in TopologicalSorter(referrers).static_order()]  # noqa: S608
    # setval, not ALTER SEQUENCE … RESTART (four times slower); only sequences in use.
    restart = (
        "SELECT setval(format('%I', sequencename)::regclass, start_value, false) "
        "FROM pg_sequences WHERE schemaname = 'public' AND sequencename NOT LIKE 'tortoise%' "
        "AND last_value IS NOT NULL"
    )
    # Migration 0006 seeds the case themes; every test starts from them, as on SQLite.
    themes = ", ".join(f"('{name}', {i})" for i, name in enumerate(SEEDED_THEMES))
    seed = f"INSERT INTO case_themes (name, position) VALUES {themes}"  # noqa: S608
    return "; ".join([*deletes, restart, seed])


_EMPTYING_SCRIPTS: dict[str, str] = {}


async def _empty_postgres(url: str) -> None:
    """Delete every row and restart every sequence, as TRUNCATE … RESTART IDENTITY would.

    TRUNCATE gives each table new files: about 300 ms a test for our nineteen tables,
    where deleting the few rows a test wrote takes milliseconds.
    """
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        if url not in _EMPTYING_SCRIPTS:
            _EMPTYING_SCRIPTS[url] = await _emptying_script(conn)
        # One simple-protocol call: the statements run as one transaction.
        await conn.execute(_EMPTYING_SCRIPTS[url])
    finally:
        await conn.close()


async def _create_database(url: str, name: str, *, drop: bool = False) -> None:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    # A database of this test run's own, so runs side by side never touch each other's data.
    name = f"koryu_test_{os.getpid()}"
    base, _, _ = POSTGRES_URL.rpartition("/")
    url = f"{base}/{name}"
    asyncio.run(_create_database(POSTGRES_URL, name))
    asyncio.run(migrate(url))
    yield url
    asyncio.run(_create_database(POSTGRES_URL, name, drop=True))


def sqlite_copy(template: Path, tmp_path: Path) -> str:
    """A test's own SQLite database: a copy of the migrated template."""
    path = tmp_path / "koryu.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite://{path}"


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Tortoise caches insert statements per connection name, not per dialect: a run that
    # goes from SQLite to PostgreSQL must not reuse SQLite's placeholders.
    EXECUTOR_CACHE.clear()
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("postgres_migrated")
    asyncio.run(_empty_postgres(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key",
        data_dir=tmp_path,
        allowed_origins=frozenset({"http://127.0.0.1:8000", "http://testserver"}),
        password_hasher="fast",
        uploads_url=f"file://{tmp_path / 'uploads'}",
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The migrated database alone, for domain tests that need no app, broker or HTTP."""
    accounts.use_password_hasher(settings.password_hasher)
    await Tortoise.init(config=settings.tortoise_config())
    try:
        yield
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def make_user(
    *,
    username: str,
    role: Role = Role.PARTICIPANT,
    display_name: str | None = None,
    affiliation: str = "municipality",
    organisation: str = "",
) -> User:
    return await accounts.register(
        accounts.Registration(
            username=username,
            password=PASSWORD,
            display_name=display_name or f"{username} さん",
            affiliation=affiliation,
            organisation=organisation,
        ),
        role=role,
    )


@dataclass
class Member:
    """A user with a bearer token, for API calls."""

    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_member(*, username: str, role: Role = Role.PARTICIPANT, **extra: Any) -> Member:
    user = await make_user(username=username, role=role, **extra)
    return Member(user=user, token=await accounts.create_token(user))


@pytest.fixture
async def admin(app: Starlette) -> Member:
    return await make_member(username="admin-sato", role=Role.ADMIN)


@pytest.fixture
async def alice(app: Starlette) -> Member:
    return await make_member(username="alice")


@pytest.fixture
async def bob(app: Starlette) -> Member:
    return await make_member(username="bob")


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


@pytest.fixture
async def shared_db(postgres_migrated: str, tmp_path: Path) -> str:
    """The run's PostgreSQL database, emptied, with an admin that several real `koryu serve`
    processes share (tests/forum/scaleout_support.py starts them)."""
    from tests.forum.scaleout_support import createuser  # it imports this module

    await _empty_postgres(postgres_migrated)
    await asyncio.to_thread(createuser, postgres_migrated, tmp_path)
    return postgres_migrated
