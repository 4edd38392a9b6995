"""Edits meet every rule a new post meets; idempotency keys; staff badges on live posts."""

from __future__ import annotations

import httpx2
import pytest

from forum.models import Post, Thread
from tests.conftest import Member
from tests.forum.test_api import error_code, new_board, new_thread

pytestmark = pytest.mark.asyncio


# --- idempotency -------------------------------------------------------------------------


async def test_a_reused_idempotency_key_with_another_post_body_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    headers = {**alice.headers, "Idempotency-Key": "retry-2"}
    url = f"/api/v1/threads/{thread_id}/posts"
    first = await client.post(url, json={"body": "一度だけ"}, headers=headers)
    assert first.status_code == 201
    other = await client.post(url, json={"body": "別の本文"}, headers=headers)
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_mismatch"
    spaced = {**headers, "Content-Type": "application/json"}
    same = await client.post(url, content='{ "body" : "一度だけ" }', headers=spaced)
    assert same.status_code == 201
    assert same.json() == first.json()
    assert await Post.filter(thread_id=thread_id).count() == 2


async def test_a_reused_idempotency_key_with_another_thread_title_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    headers = {**alice.headers, "Idempotency-Key": "thread-1"}
    url = "/api/v1/boards/kankei/threads"
    first = await client.post(url, json={"title": "移住相談", "body": "本文"}, headers=headers)
    assert first.status_code == 201
    other = await client.post(url, json={"title": "別の題", "body": "本文"}, headers=headers)
    assert other.status_code == 422
    assert error_code(other) == "idempotency_key_mismatch"
    again = await client.post(url, json={"body": "本文", "title": "移住相談"}, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert await Thread.all().count() == 1
