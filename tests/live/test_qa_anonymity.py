"""An anonymous question taken, answered and merged still names its asker nowhere but in
moderation: not in the answer-state and merge answers, their events, the notices, the
search, nor the exports — whoever reads them, the expert who moderates the board included."""

from __future__ import annotations

import httpx2
import orjson
import pytest

from forum import events, outbox
from tests.conftest import Member
from tests.live.qa_support import Hall, approve_all, ask, move, open_hall
from tests.moderation.support import events as channel_events

pytestmark = pytest.mark.asyncio

SECRET_QUESTION = "匿名で伺います。空き家バンクの登録を増やすには。"


def names_asker(text: str) -> bool:
    return "bob-asker" in text or "山田" in text


async def moderating_expert(client: httpx2.AsyncClient, admin: Member, hall: Hall) -> None:
    made = await client.put(
        "/api/v1/boards/kankei/moderators/expert-ito",
        json={"role": "moderator"},
        headers=admin.headers,
    )
    assert made.status_code == 200, made.text


async def test_an_anonymous_question_through_the_whole_flow_names_nobody_outside_moderation(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    await moderating_expert(client, admin, hall)
    secret = int((await ask(client, hall, SECRET_QUESTION, anonymous=True))["id"])
    other = int(
        (await ask(client, hall, "空き家の登録を増やす方法は。", by=hall.audience[0]))["id"]
    )
    await approve_all(client, hall)
    answers = []
    for state in ("assigned", "answering", "answered_live"):
        moved = await move(client, hall.ito, secret, state)
        assert moved.status_code == 200
        answers.append(moved.text)
    written = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": "登録の手続きを簡単にしました。", "kind": "answer", "reply_to": other},
        headers=hall.ito.headers,
    )
    assert written.status_code == 201
    before = (await client.get("/api/v1/notifications", headers=hall.asker.headers)).json()
    assert [n["kind"] for n in before["items"]].count("answer_state") == 3
    merged = await client.post(
        f"/api/v1/posts/{secret}/merge", json={"into": other}, headers=hall.organiser.headers
    )
    assert merged.status_code == 200, merged.text
    answers.append(merged.text)
    assert not any(names_asker(text) for text in answers)

    thread_events = await channel_events(events.thread_channel(hall.thread_id))
    assert not names_asker(orjson.dumps(thread_events).decode())
    await outbox.settled()
    for member in (hall.asker, hall.audience[0], hall.ito, hall.organiser):
        notices = await client.get("/api/v1/notifications", headers=member.headers)
        assert not names_asker(notices.text), member.user.username
    asker_notices = (await client.get("/api/v1/notifications", headers=hall.asker.headers)).json()
    # The notices about the merged question left with it; the merge's points at the target.
    [merge_notice] = [n for n in asker_notices["items"] if n["kind"] == "answer_state"]
    assert merge_notice["post_id"] == other and merge_notice["by"] is None

    for viewer in (hall.ito, hall.organiser, hall.audience[1]):
        page = await client.get(f"/t/{hall.thread_id}", headers=viewer.headers)
        assert not names_asker(page.text), viewer.user.username
        found = await client.get("/api/v1/search", params={"q": "空き家"}, headers=viewer.headers)
        assert found.status_code == 200
        assert not names_asker(found.text), viewer.user.username


async def test_the_exports_say_匿名_and_the_answer_state_of_an_anonymous_question(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await open_hall(client, admin)
    await moderating_expert(client, admin, hall)
    secret = int((await ask(client, hall, SECRET_QUESTION, anonymous=True))["id"])
    await approve_all(client, hall)
    written = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": "窓口を一つにしました。", "kind": "answer", "reply_to": secret},
        headers=hall.ito.headers,
    )
    assert written.status_code == 201
    session_path = f"/sessions/{hall.session['id']}"
    ended = await client.post(f"/api/v1{session_path}/end", headers=hall.organiser.headers)
    assert ended.status_code == 200, ended.text
    for viewer in (hall.ito, hall.organiser, None):
        headers = viewer.headers if viewer else {}
        exported = await client.get(f"{session_path}/export.csv", headers=headers)
        text = exported.content.decode("utf-8-sig")
        assert SECRET_QUESTION in text and "匿名" in text and not names_asker(text)
        assert "文書で回答" in text and "窓口を一つにしました。" in text
        markdown = await client.get(f"{session_path}/export.md", headers=headers)
        assert "匿名" in markdown.text and not names_asker(markdown.text)
