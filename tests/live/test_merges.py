"""Merging duplicate questions: votes carried once per person, the similar count, the
duplicate out of view, its asker told, and a repeated or racing merge answered alike."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from forum import events, outbox
from forum.models import Notification, NotificationKind, Post, PostStatus, Vote
from tests.conftest import Member
from tests.live.qa_support import Hall, approve_all, ask, move, open_hall, vote
from tests.moderation.support import error_code
from tests.moderation.support import events as channel_events

pytestmark = pytest.mark.asyncio


async def merge(
    client: httpx2.AsyncClient, member: Member, post_id: int, into: int
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/posts/{post_id}/merge", json={"into": into}, headers=member.headers
    )


async def two_questions(client: httpx2.AsyncClient, hall: Hall) -> tuple[int, int]:
    target = await ask(client, hall, "空き家の活用について伺います。", by=hall.audience[0])
    duplicate = await ask(client, hall, "空き家をどう活かせばよいですか。", anonymous=True)
    await approve_all(client, hall)
    return int(target["id"]), int(duplicate["id"])


async def test_a_merge_carries_votes_once_per_person_and_counts_the_duplicate(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin, audience=4)
    target, duplicate = await two_questions(client, hall)
    both, only_target, only_duplicate = hall.audience[1], hall.audience[2], hall.audience[3]
    for member in (both, only_target):
        await vote(client, member, target)
    for member in (both, only_duplicate, hall.audience[0]):  # [0] asked the target
        await vote(client, member, duplicate)
    merged = await merge(client, hall.organiser, duplicate, target)
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == target
    assert body["votes"] == 3  # both, only_target, only_duplicate; the target's asker not
    assert body["similar_count"] == 1
    voters = {int(v.user_id) for v in await Vote.filter(post_id=target)}  # type: ignore[attr-defined]
    assert voters == {both.user.id, only_target.user.id, only_duplicate.user.id}
    assert await Vote.filter(post_id=duplicate).count() == 0
    gone = await Post.get(id=duplicate)
    assert gone.status is PostStatus.DELETED and gone.merged_into_id == target  # type: ignore[attr-defined]
    assert (await client.get(f"/api/v1/posts/{duplicate}")).status_code == 404
    thread_events = await channel_events(events.thread_channel(hall.thread_id))
    assert ("post.deleted", {"id": duplicate, "reason": "merged"}) in thread_events
    updated = [d for n, d in thread_events if n == "question.updated"]
    assert updated[-1]["id"] == target and updated[-1]["similar_count"] == 1
    assert updated[-1]["votes"] == 3
    page = await client.get(f"/t/{hall.thread_id}")
    assert "同様の質問 1件" in page.text
    assert f'id="post-{duplicate}"' not in page.text


async def test_the_merged_asker_is_told_and_follows_the_target_from_then_on(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    target, duplicate = await two_questions(client, hall)
    assert (await merge(client, hall.organiser, duplicate, target)).status_code == 200
    told = await Notification.filter(user_id=hall.asker.user.id, kind=NotificationKind.ANSWER_STATE)
    assert len(told) == 1 and told[0].post_id == target  # type: ignore[attr-defined]
    assert (await move(client, hall.ito, target, "answered_live")).status_code == 200
    told = await Notification.filter(user_id=hall.asker.user.id, kind=NotificationKind.ANSWER_STATE)
    assert len(told) == 2
    target_asker = hall.audience[0].user.id
    assert (
        await Notification.filter(user_id=target_asker, kind=NotificationKind.ANSWER_STATE).count()
        == 1
    )
    listed = await client.get("/api/v1/notifications", headers=hall.asker.headers)
    assert all(n["by"] is None for n in listed.json()["items"])


async def test_merging_again_into_the_same_target_answers_alike_and_elsewhere_is_409(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    target, duplicate = await two_questions(client, hall)
    third = int((await ask(client, hall, "三つ目の質問です。", by=hall.audience[1]))["id"])
    await approve_all(client, hall)
    await vote(client, hall.audience[2], duplicate)
    assert (await merge(client, hall.organiser, duplicate, target)).status_code == 200
    head = await outbox.head(events.thread_channel(hall.thread_id))
    again = await merge(client, hall.organiser, duplicate, target)
    assert again.status_code == 200 and again.json()["similar_count"] == 1
    assert again.json()["votes"] == 1
    assert await outbox.head(events.thread_channel(hall.thread_id)) == head
    elsewhere = await merge(client, hall.organiser, duplicate, third)
    assert elsewhere.status_code == 409 and error_code(elsewhere) == "already_merged"


async def test_a_merged_target_merged_further_carries_its_similar_count(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    target, duplicate = await two_questions(client, hall)
    third = int((await ask(client, hall, "三つ目の質問です。", by=hall.audience[1]))["id"])
    await approve_all(client, hall)
    assert (await merge(client, hall.organiser, duplicate, target)).status_code == 200
    further = await merge(client, hall.organiser, target, third)
    assert further.status_code == 200, further.text
    assert further.json()["similar_count"] == 2
    assert await Post.filter(merged_into_id=third).count() == 2


async def test_two_merges_of_one_question_at_once_make_one_merge(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    target, duplicate = await two_questions(client, hall)
    third = int((await ask(client, hall, "三つ目の質問です。", by=hall.audience[1]))["id"])
    await approve_all(client, hall)
    await vote(client, hall.audience[2], duplicate)
    first, second = await asyncio.gather(
        merge(client, hall.organiser, duplicate, target),
        merge(client, hall.organiser, duplicate, third),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    counts = {p.id: (p.similar_count, p.votes) for p in await Post.filter(id__in=[target, third])}
    assert sorted(counts.values()) == [(0, 0), (1, 1)]


async def test_only_the_sessions_moderators_merge_and_only_within_the_session(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    target, duplicate = await two_questions(client, hall)
    for member in (hall.ito, hall.audience[1]):
        refused = await merge(client, member, duplicate, target)
        assert refused.status_code == 403 and error_code(refused) == "not_session_moderator"
    itself = await merge(client, hall.organiser, duplicate, duplicate)
    assert itself.status_code == 422 and error_code(itself) == "merge_into_itself"
    opening = (await client.get(f"/api/v1/threads/{hall.thread_id}/posts")).json()["items"][0]
    not_question = await merge(client, hall.organiser, duplicate, opening["id"])
    assert not_question.status_code == 422 and error_code(not_question) == "invalid_merge_target"
    missing = await merge(client, hall.organiser, duplicate, 999_999)
    assert missing.status_code == 422
    assert (await Post.get(id=duplicate)).status is PostStatus.PUBLISHED
