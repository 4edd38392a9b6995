"""Answer states of live questions: who may move them, the one-at-a-time rule for experts,
races decided by one conditional update, written answers, and what reaches the asker."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from forum import events, outbox
from forum.models import Notification, NotificationKind, Post
from tests.conftest import Member, make_member
from tests.live.qa_support import Hall, approve_all, ask, move, open_hall
from tests.moderation.support import error_code
from tests.moderation.support import events as channel_events

pytestmark = pytest.mark.asyncio


async def approved_question(client: httpx2.AsyncClient, hall: Hall, **extra: object) -> int:
    asked = await ask(client, hall, **extra)  # type: ignore[arg-type]
    await approve_all(client, hall)
    return int(asked["id"])


async def test_a_new_question_starts_open_with_nobody_assigned(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    asked = await ask(client, hall)
    assert asked["answer_state"] == "open"
    assert asked["assigned_to"] is None and asked["similar_count"] == 0
    assert (await Post.get(id=asked["id"])).answer_state == "open"


async def test_an_expert_takes_a_question_answers_it_live_and_every_step_is_an_event(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    taken = await move(client, hall.ito, question, "assigned")
    assert taken.status_code == 200, taken.text
    assert taken.json()["answer_state"] == "assigned"
    assert taken.json()["assigned_to"] == {"username": "expert-ito", "display_name": "伊藤 教授"}
    on_stage = await move(client, hall.ito, question, "answering")
    assert on_stage.json()["answer_state"] == "answering"
    done = await move(client, hall.ito, question, "answered_live")
    assert done.status_code == 200
    assert done.json()["answer_state"] == "answered_live"
    assert done.json()["assigned_to"]["username"] == "expert-ito"
    updates = [
        data
        for name, data in await channel_events(events.thread_channel(hall.thread_id))
        if name == "question.updated"
    ]
    assert [u["answer_state"] for u in updates] == ["assigned", "answering", "answered_live"]
    assert all(u["id"] == question for u in updates)
    fetched = await client.get(f"/api/v1/posts/{question}")
    assert fetched.json()["answer_state"] == "answered_live"
    assert fetched.json()["assigned_to"]["username"] == "expert-ito"


async def test_the_same_move_again_changes_nothing_and_emits_nothing(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    assert (await move(client, hall.ito, question, "assigned")).status_code == 200
    head = await outbox.head(events.thread_channel(hall.thread_id))
    again = await move(client, hall.ito, question, "assigned")
    assert again.status_code == 200 and again.json()["answer_state"] == "assigned"
    assert await outbox.head(events.thread_channel(hall.thread_id)) == head


async def test_two_experts_taking_one_question_at_once_get_one_200_and_one_409(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    first, second = await asyncio.gather(
        move(client, hall.ito, question, "assigned"),
        move(client, hall.mori, question, "assigned"),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert error_code(loser) in {"answer_state_changed", "assigned_to_other"}
    updates = [
        name
        for name, _data in await channel_events(events.thread_channel(hall.thread_id))
        if name == "question.updated"
    ]
    assert updates == ["question.updated"]


async def test_an_expert_answers_one_question_at_a_time(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    first = await approved_question(client, hall, body="一つ目の質問です。")
    second = await approved_question(client, hall, body="二つ目の質問です。")
    assert (await move(client, hall.ito, first, "answering")).status_code == 200
    now = await move(client, hall.ito, second, "answering")
    assert now.status_code == 200
    paused = await client.get(f"/api/v1/posts/{first}")
    assert paused.json()["answer_state"] == "assigned"
    assert paused.json()["assigned_to"]["username"] == "expert-ito"
    answering = await Post.filter(assigned_to_id=hall.ito.user.id, answer_state="answering")
    assert [p.id for p in answering] == [second]


async def test_an_expert_cannot_take_another_experts_question_but_a_moderator_reroutes_it(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    assert (await move(client, hall.ito, question, "assigned")).status_code == 200
    taken = await move(client, hall.mori, question, "answering")
    assert taken.status_code == 409 and error_code(taken) == "assigned_to_other"
    routed = await move(client, hall.organiser, question, "assigned", expert="expert-mori")
    assert routed.status_code == 200, routed.text
    assert routed.json()["assigned_to"]["username"] == "expert-mori"


async def test_only_moderators_route_to_a_named_expert_and_only_to_the_sessions_experts(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    routed = await move(client, hall.ito, question, "assigned", expert="expert-mori")
    assert routed.status_code == 403 and error_code(routed) == "route_forbidden"
    outsider = await make_member(username="someone")
    wrong = await move(client, hall.organiser, question, "assigned", expert="someone")
    assert wrong.status_code == 422 and error_code(wrong) == "not_an_expert"
    assert outsider.user.id
    needs_name = await move(client, hall.organiser, question, "assigned")
    assert needs_name.status_code == 422 and error_code(needs_name) == "expert_required"


async def test_participants_and_strangers_may_not_move_questions(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    refused = await move(client, hall.audience[0], question, "answered_live")
    assert refused.status_code == 403 and error_code(refused) == "not_session_staff"
    asker = await move(client, hall.asker, question, "deferred")
    assert asker.status_code == 403
    anonymous = await client.post(
        f"/api/v1/posts/{question}/answer-state", json={"state": "deferred"}
    )
    assert anonymous.status_code == 401
    missing = await move(client, hall.ito, 999_999, "assigned")
    assert missing.status_code == 404
    bad = await move(client, hall.ito, question, "finished")
    assert bad.status_code == 422


async def test_a_held_question_and_a_plain_post_have_no_answer_state_to_move(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    held = await ask(client, hall)
    early = await move(client, hall.organiser, held["id"], "deferred")
    assert early.status_code == 409 and error_code(early) == "not_published"
    opening = (await client.get(f"/api/v1/threads/{hall.thread_id}/posts")).json()["items"][0]
    plain = await move(client, hall.organiser, opening["id"], "deferred")
    assert plain.status_code == 422 and error_code(plain) == "not_a_question"


async def test_a_written_answer_is_published_under_its_question_and_answers_it(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    answered = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={
            "body": "地域おこし協力隊の経験者に任せる例があります。",
            "kind": "answer",
            "reply_to": question,
        },
        headers=hall.mori.headers,
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["status"] == "published"
    assert answered.json()["kind"] == "answer" and answered.json()["reply_to"] == question
    state = (await client.get(f"/api/v1/posts/{question}")).json()
    assert state["answer_state"] == "answered_written"
    assert state["assigned_to"]["username"] == "expert-mori"
    await outbox.settled()
    notices = await Notification.filter(user_id=hall.asker.user.id, kind=NotificationKind.ANSWERED)
    assert len(notices) == 1
    replied = NotificationKind.REPLIED
    assert not await Notification.filter(user_id=hall.asker.user.id, kind=replied).exists()
    page = await client.get(f"/t/{hall.thread_id}")
    assert "有識者の回答" in page.text
    html = page.text
    assert html.index(f'id="post-{question}"') < html.index(f'id="post-{answered.json()["id"]}"')


async def test_only_the_sessions_experts_write_answers(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    body = {"body": "回答します。", "kind": "answer", "reply_to": question}
    for member in (hall.audience[0], hall.asker, hall.organiser):
        refused = await client.post(
            f"/api/v1/threads/{hall.thread_id}/posts", json=body, headers=member.headers
        )
        assert refused.status_code == 403, member.user.username
        assert error_code(refused) == "not_session_expert"
    no_question = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": "回答します。", "kind": "answer"},
        headers=hall.ito.headers,
    )
    assert no_question.status_code == 422
    assert (await client.get(f"/api/v1/posts/{question}")).json()["answer_state"] == "open"


async def test_the_asker_is_told_of_each_move_and_the_notice_names_nobody(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall, anonymous=True)
    assert (await move(client, hall.ito, question, "answering")).status_code == 200
    assert (await move(client, hall.ito, question, "deferred")).status_code == 200
    listed = await client.get("/api/v1/notifications", headers=hall.asker.headers)
    states = [n for n in listed.json()["items"] if n["kind"] == "answer_state"]
    assert len(states) == 2
    assert all(n["by"] is None for n in states)
    assert "山田" not in listed.text and "bob-asker" not in listed.text
    updates = [
        data
        for name, data in await channel_events(events.thread_channel(hall.thread_id))
        if name == "question.updated"
    ]
    assert updates and all("author" not in u for u in updates)
    assert "bob-asker" not in str(updates) and "山田" not in str(updates)


async def test_a_question_written_before_answer_states_reads_open_and_moves_on(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    question = await approved_question(client, hall)
    await Post.filter(id=question).update(answer_state=None)
    assert (await client.get(f"/api/v1/posts/{question}")).json()["answer_state"] == "open"
    taken = await move(client, hall.mori, question, "assigned")
    assert taken.status_code == 200, taken.text
    assert (await Post.get(id=question)).answer_state == "assigned"
