"""The ModerationGate behind the posting API: policies and the thread's own policy, end to end."""

from __future__ import annotations

import httpx2
import pytest

from forum.boards import load_actor
from forum.gate import Gatekeeper
from forum.models import Board, ModerationPolicy, PostStatus, Thread
from moderation.gate import ModerationGate
from tests.conftest import Member
from tests.moderation.support import decide, new_board, new_thread, queue, reply

pytestmark = pytest.mark.asyncio


async def test_first_posts_hold_a_new_account_until_enough_are_approved(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await client.patch("/api/v1/moderation/rules", json={"first_posts": 1}, headers=admin.headers)
    await new_board(client, admin, moderation="first_posts")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    first = await reply(client, alice, thread_id, "はじめまして")
    assert first["status"] == "pending"
    [item] = await queue(client, admin, reason="first_posts")
    await decide(client, admin, item, "approve")
    second = await reply(client, alice, thread_id, "二回目の投稿です")
    assert second["status"] == "published"


async def test_a_thread_can_premoderate_on_an_open_board(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    await Thread.filter(id=thread_id).update(moderation=ModerationPolicy.PREMODERATED)
    held = await reply(client, alice, thread_id, "このスレッドは承認制")
    assert held["status"] == "pending"


async def test_a_question_in_a_live_thread_waits_for_a_moderator(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    live = await client.patch(
        f"/api/v1/threads/{thread_id}", json={"live": True}, headers=admin.headers
    )
    assert live.status_code == 200
    question = await reply(client, alice, thread_id, "質問です", kind="question")
    assert question["status"] == "pending"
    [item] = await queue(client, admin, reason="live_question")
    assert item["post"]["kind"] == "question"


async def test_the_gate_tells_a_live_threads_questions_from_its_posts_when_given_the_kind(
    admin: Member, alice: Member
) -> None:
    gate: Gatekeeper = ModerationGate()
    board = await Board.create(slug="live", title="ライブ")
    thread = await Thread.create(board=board, author=admin.user, title="全国フォーラム", live=True)
    actor = await load_actor(alice.user)
    moderation = ModerationGate()
    question = await moderation.review(actor, board, thread, "質問", kind="question")
    post = await moderation.review(actor, board, thread, "感想", kind="post")
    unknown = await gate.review(actor, board, thread, "どちらか")
    assert (question.status, question.reasons) == (PostStatus.PENDING, ("live_question",))
    assert post.status is PostStatus.PUBLISHED
    assert unknown.status is PostStatus.PENDING
