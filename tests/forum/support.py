"""Helpers of the page tests: CSRF tokens and headings read from pages, a login through the
form, boards, threads, replies and questions made as a member would make them."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2

from forum import boards, outbox, posts, tallies
from forum.gate import OpenGate
from forum.models import Board, Post, PostKind, Thread
from tests.conftest import PASSWORD, Member

META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def token_in(page: httpx2.Response) -> str:
    match = META_TOKEN.search(page.text)
    assert match and match.group(1), "the page has no csrf-token meta tag"
    return match.group(1)


def h1_of(page: httpx2.Response) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
    assert match, "the page has no h1"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


async def token_for(client: httpx2.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    return token_in(page)


async def log_in(client: httpx2.AsyncClient, username: str, password: str = PASSWORD) -> None:
    token = await token_for(client, "/login")
    response = await client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    assert "koryu_session" in client.cookies


async def new_board(
    client: httpx2.AsyncClient, admin: Member, slug: str = "kankei", **extra: Any
) -> dict[str, Any]:
    body = {
        "slug": slug,
        "title": "関係人口の創出・拡大",
        "description": "移住の手前の関わり方",
        **extra,
    }
    response = await client.post("/api/v1/boards", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def new_thread(
    client: httpx2.AsyncClient,
    member: Member,
    slug: str = "kankei",
    title: str = "ふるさと納税の活用",
    body: str = "寄附者と**継続的な関係**をつくるには？",
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/boards/{slug}/threads",
        json={"title": title, "body": body},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["thread"]  # type: ignore[no-any-return]


async def reply(client: httpx2.AsyncClient, member: Member, thread_id: int, body: str) -> str:
    response = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["status"])


async def question(thread_id: int, asker: Member, body: str = "財源はどう確保しましたか？") -> Post:
    """A published question, as the live thread's form would post it past the moderators."""
    thread = await Thread.get(id=thread_id)
    board = await Board.get(id=thread.board_id)  # type: ignore[attr-defined]
    actor = await boards.load_actor(asker.user)
    draft = posts.Draft(body=body, kind=PostKind.QUESTION.value)
    posted = await posts.create_post(actor, thread, board, draft, gate=OpenGate())
    return await Post.get(id=posted.post_id)


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # The request's statements: the notices' fan-out runs after commit in a task of its own.
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is not None and task.get_name() == outbox.AFTER_COMMIT_TASK:
            return
        if not message.startswith(("Created connection", "Closed connection")):
            self.sql.append(message)


@contextmanager
def counting_statements() -> Iterator[list[str]]:
    """Every statement Tortoise sends (its ``db_client`` logger sees each one)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Statements()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.sql
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def settle_tallies(thread_id: int) -> None:
    """The thread's vote counts sent: a tick's work now, and waiting for a tick of the app's
    own tally task that may have taken the thread first and not committed yet."""
    for _ in range(500):
        await tallies.tally([thread_id])
        if thread_id not in await tallies.untallied_threads():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"thread {thread_id}: vote counts still untallied")
