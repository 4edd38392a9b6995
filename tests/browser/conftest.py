"""A real koryu server on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx2
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from tortoise.backends.base.executor import EXECUTOR_CACHE

from forum.app import create_app
from forum.config import Settings
from tests.conftest import sqlite_copy

CHROMIUM = os.environ.get("KORYU_TEST_BROWSER") or shutil.which("chromium") or ""
CHROMIUM_PRESENT = bool(CHROMIUM) and os.path.exists(CHROMIUM)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# The browser tests drive the pages. What differs between the databases is tested below the
# pages, on both; here SQLite is enough, and CI's browser time stays bounded (the whole
# browser suite on PostgreSQL as well took CI's browser part from 8 to 17 minutes).
@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    EXECUTOR_CACHE.clear()
    return sqlite_copy(sqlite_template, tmp_path)


@dataclass
class Site:
    base: str
    api: httpx2.AsyncClient


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(
        replace(settings, site_url=base, allowed_origins=frozenset({base}), posts_per_minute=1000)
    )
    server = uvicorn.Server(
        uvicorn.Config(app, ws_per_message_deflate=False, log_level="warning", loop="asyncio")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        async with httpx2.AsyncClient(base_url=base) as api:
            yield Site(base, api)
    finally:
        server.should_exit = True
        async with asyncio.timeout(15):
            await task
        sock.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM_PRESENT:
        if os.environ.get("KORYU_TEST_BROWSER"):
            pytest.fail(f"KORYU_TEST_BROWSER={CHROMIUM!r} is not installed")
        pytest.skip("Debian chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield launched
        finally:
            await launched.close()
