"""A live session's question board, expert console and presenter view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from tortoise import connections

from forum.models import AnswerState, Post, Role
from forum.permissions import Actor
from live import questionboard
from live.models import LiveSession
from tests.conftest import Member, make_member
from tests.forum.support import h1_of
from tests.forum.test_pages_accessibility import audit
from tests.live.support import T0, new_session, setup_board
from tests.moderation.support import decide, queue

pytestmark = pytest.mark.asyncio

ASKER_NAME = "山田 花子"


@dataclass
class Hall:
    session: dict[str, Any]
    organiser: Member
    expert: Member  # the session's expert, who also moderates the board
    speaker: Member  # the session's expert, no role on the board
    asker: Member
    voters: list[Member]

    @property
    def id(self) -> int:
        return int(self.session["id"])

    @property
    def thread_id(self) -> int:
        return int(self.session["thread"]["id"])


async def live_hall(client: httpx2.AsyncClient, admin: Member) -> Hall:
    organiser = await setup_board(client, admin)
    expert = await make_member(username="expert-ito", role=Role.EXPERT, display_name="伊藤 有識")
    speaker = await make_member(username="expert-sato", role=Role.EXPERT, display_name="佐藤 講師")
    made = await client.put(
        "/api/v1/boards/kankei/moderators/expert-ito",
        json={"role": "moderator"},
        headers=admin.headers,
    )
    assert made.status_code == 200, made.text
    session = await new_session(
        client,
        organiser,
        starts_at=T0 + timedelta(days=3650),
        experts=["expert-ito", "expert-sato"],
        slow_mode_seconds=0,
    )
    started = await client.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    asker = await make_member(username="bob-asker", display_name=ASKER_NAME)
    voters = [await make_member(username=f"voter-{n}") for n in range(3)]
    return Hall(session, organiser, expert, speaker, asker, voters)


async def ask(
    client: httpx2.AsyncClient,
    hall: Hall,
    body: str,
    *,
    anonymous: bool = False,
    kind: str = "question",
    by: Member | None = None,
) -> int:
    response = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": body, "kind": kind, "anonymous": anonymous},
        headers=(by or hall.asker).headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def approve_all(client: httpx2.AsyncClient, hall: Hall) -> None:
    for item in await queue(client, hall.organiser):
        assert (await decide(client, hall.organiser, item, "approve")).status_code == 200


async def vote(client: httpx2.AsyncClient, members: list[Member], post_id: int) -> None:
    for member in members:
        voted = await client.put(f"/api/v1/posts/{post_id}/vote", headers=member.headers)
        assert voted.status_code == 200, voted.text


def row(page: str, post_id: int) -> str:
    found = re.search(rf'<li class="question[^"]*" id="q-{post_id}".*?</li>', page, re.S)
    assert found, f"question {post_id} is not on the page"
    return found.group(0)


def order(page: str, part: str = 'id="questions"') -> list[int]:
    section = page.split(part, 1)[1].split("</ol>", 1)[0]
    return [int(n) for n in re.findall(r'<li class="question[^"]*" id="q-(\d+)"', section)]


def shown(page: str, post_id: int) -> bool:
    opening = row(page, post_id).split(">", 1)[0]
    return not opening.endswith(" hidden")


def screen(page: str) -> str:
    """The page from its heading to the end of its main content."""
    return page[page.index("<h1") : page.index("</main>")]


def names_asker(text: str) -> bool:
    return "山田" in text or "bob-asker" in text


async def set_state(post_id: int, state: AnswerState, expert: Member | None = None) -> None:
    await Post.filter(id=post_id).update(
        answer_state=state, assigned_to_id=expert.user.id if expert else None
    )


async def test_the_board_shows_published_questions_only_by_votes_or_by_newest(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    first = await ask(client, hall, "移住者の定着率はどう測りますか？")
    second = await ask(client, hall, "関係人口の指標は何が良いですか？")
    third = await ask(client, hall, "予算の確保について伺います。")
    await ask(client, hall, "ただの感想です。", kind="post")
    await approve_all(client, hall)
    held = await ask(client, hall, "まだ承認されていない質問")
    await vote(client, hall.voters[:1], first)
    await vote(client, hall.voters, third)

    page = await client.get(f"/sessions/{hall.id}/questions")
    assert page.status_code == 200
    assert h1_of(page) == "質問ボード"
    assert order(page.text) == [third, first, second]
    assert "ただの感想です。" not in page.text and f'id="q-{held}"' not in page.text
    assert 'class="vote-count">3<' in row(page.text, third)
    newest = await client.get(f"/sessions/{hall.id}/questions?sort=new")
    assert order(newest.text) == [third, second, first]
    assert 'data-sort-chosen="true"' in newest.text
    for bad in ("sort=top", "state=closed", "sort=votes&sort=new"):
        assert (await client.get(f"/sessions/{hall.id}/questions?{bad}")).status_code == 400


async def test_the_board_marks_the_readers_own_votes_and_offers_no_vote_on_their_own_question(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    asked = await ask(client, hall, "移住者の定着率はどう測りますか？")
    await approve_all(client, hall)
    await vote(client, hall.voters[:1], asked)
    voter = await client.get(f"/sessions/{hall.id}/questions", headers=hall.voters[0].headers)
    assert 'aria-pressed="true"' in row(voter.text, asked)
    other = await client.get(f"/sessions/{hall.id}/questions", headers=hall.voters[1].headers)
    assert 'aria-pressed="false"' in row(other.text, asked)
    own = await client.get(f"/sessions/{hall.id}/questions", headers=hall.asker.headers)
    assert "vote-button" not in row(own.text, asked)
    visitor = await client.get(f"/sessions/{hall.id}/questions")
    assert "vote-button" not in row(visitor.text, asked) and "ask-form" not in visitor.text
    assert 'id="ask-form"' in own.text


async def test_the_filters_show_one_state_and_the_answered_questions_are_folded_away(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    ids = [await ask(client, hall, f"質問その{n}") for n in range(5)]
    await approve_all(client, hall)
    opened, assigned, answering, answered, deferred = ids
    await set_state(assigned, AnswerState.ASSIGNED, hall.expert)
    await set_state(answering, AnswerState.ANSWERING, hall.speaker)
    await set_state(answered, AnswerState.ANSWERED_LIVE, hall.speaker)
    await set_state(deferred, AnswerState.DEFERRED)

    page = (await client.get(f"/sessions/{hall.id}/questions")).text
    assert sorted(order(page)) == [opened, assigned, answering, deferred]
    assert order(page, 'id="answered"') == [answered]
    assert '<details id="answered-fold" class="q-fold">' in page  # closed
    assert "佐藤 講師" in row(page, answering) and "回答中" in row(page, answering)
    expected = {
        "open": {opened, assigned},
        "answering": {answering},
        "answered": {answered},
        "deferred": {deferred},
    }
    for value, visible in expected.items():
        filtered = (await client.get(f"/sessions/{hall.id}/questions?state={value}")).text
        assert {i for i in ids if shown(filtered, i)} == visible, value
        assert 'aria-current="true">' in filtered
    answered_only = (await client.get(f"/sessions/{hall.id}/questions?state=answered")).text
    assert '<details id="answered-fold" class="q-fold" open>' in answered_only


async def test_merged_duplicates_leave_the_board_and_the_kept_one_counts_them(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    kept = await ask(client, hall, "移住支援金の条件は？")
    duplicate = await ask(client, hall, "移住支援金の条件を教えてください")
    await approve_all(client, hall)
    await Post.filter(id=duplicate).update(merged_into_id=kept)
    await Post.filter(id=kept).update(similar_count=1)
    page = (await client.get(f"/sessions/{hall.id}/questions")).text
    assert order(page) == [kept]
    assert "同様の質問 1件" in row(page, kept)


async def test_no_screen_of_the_session_names_an_anonymous_asker_not_even_to_its_moderators(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    asked = await ask(client, hall, "匿名で、予算の確保について伺います。", anonymous=True)
    await approve_all(client, hall)
    await set_state(asked, AnswerState.ANSWERING, hall.expert)
    site_moderator = await make_member(username="mod-kato", role=Role.MODERATOR)
    staff = [hall.expert, hall.speaker, hall.organiser, site_moderator, admin]
    for viewer in [*staff, hall.asker, hall.voters[0], None]:
        headers = viewer.headers if viewer else {}
        paths = ["questions", "presenter"] + (["console"] if viewer in staff else [])
        for path in paths:
            page = await client.get(f"/sessions/{hall.id}/{path}", headers=headers)
            assert page.status_code == 200, (path, viewer)
            assert "予算の確保" in page.text
            assert "匿名" in row(page.text, asked), (path, viewer)
            # The asker's own name is in their site menu; nowhere on the screen itself.
            text = page.text if viewer is not hall.asker else screen(page.text)
            assert not names_asker(text), (path, viewer)


async def test_a_named_asker_is_shown_on_the_board(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    asked = await ask(client, hall, "地域おこし協力隊の任期後は？")
    await approve_all(client, hall)
    page = (await client.get(f"/sessions/{hall.id}/questions")).text
    assert ASKER_NAME in row(page, asked)


async def test_the_console_is_for_the_sessions_experts_and_the_boards_staff(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    asked = await ask(client, hall, "移住者の定着率はどう測りますか？")
    await approve_all(client, hall)
    path = f"/sessions/{hall.id}/console"
    visitor = await client.get(path)
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login?next=")
    outsider = await client.get(path, headers=hall.voters[0].headers)
    assert outsider.status_code == 403
    elsewhere = await make_member(username="expert-else", role=Role.EXPERT)
    assert (await client.get(path, headers=elsewhere.headers)).status_code == 403
    for member in (hall.speaker, hall.expert, hall.organiser, admin):
        page = await client.get(path, headers=member.headers)
        assert page.status_code == 200, member.user.username
        assert h1_of(page) == "有識者の回答画面"
    speaker = (await client.get(path, headers=hall.speaker.headers)).text
    assert 'data-action="assigned"' in row(speaker, asked)
    assert 'data-action="answering"' in row(speaker, asked)
    # The organiser runs the session but is not one of its experts: nothing to take on.
    organiser = (await client.get(path, headers=hall.organiser.headers)).text
    assert 'data-action="assigned"' not in row(organiser, asked)
    assert 'data-action="write"' not in row(organiser, asked)
    assert 'data-action="answered_live"' in row(organiser, asked)
    assert "j / k" in speaker


async def test_the_presenter_view_shows_the_question_on_stage_the_next_ones_and_the_join_link(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    ids = [await ask(client, hall, f"会場からの質問その{n}") for n in range(8)]
    await approve_all(client, hall)
    for n, post_id in enumerate(ids):
        await Post.filter(id=post_id).update(votes=n)
    on_stage = ids[0]
    await set_state(on_stage, AnswerState.ANSWERING, hall.speaker)
    await set_state(ids[7], AnswerState.ANSWERED_LIVE, hall.speaker)
    page = await client.get(f"/sessions/{hall.id}/presenter")
    assert page.status_code == 200
    assert h1_of(page) == hall.session["title"]
    assert order(page.text, 'id="now"') == [on_stage]
    upcoming = order(page.text, 'id="next"')
    assert upcoming == [ids[6], ids[5], ids[4], ids[3], ids[2], ids[1]]
    assert [shown(page.text, i) for i in upcoming] == [True] * 5 + [False]
    assert f'id="q-{ids[7]}"' not in page.text
    code = (await LiveSession.get(id=hall.id)).join_code
    assert f"/j/{code}</p>" in page.text and "<svg" in page.text
    assert 'id="fullscreen"' in page.text


async def test_the_session_page_links_its_question_screens_and_the_console_for_its_staff(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    visitor = (await client.get(f"/sessions/{hall.id}")).text
    assert f'href="/sessions/{hall.id}/questions"' in visitor
    assert f'href="/sessions/{hall.id}/presenter"' in visitor
    assert f'href="/sessions/{hall.id}/console"' not in visitor
    speaker = (await client.get(f"/sessions/{hall.id}", headers=hall.speaker.headers)).text
    assert f'href="/sessions/{hall.id}/console"' in speaker


async def test_the_question_screens_of_a_private_boards_session_are_hidden_from_outsiders(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    closed = await client.patch(
        "/api/v1/boards/kankei", json={"private": True}, headers=admin.headers
    )
    assert closed.status_code == 200, closed.text
    for path in ("questions", "presenter", "console"):
        page = await client.get(f"/sessions/{hall.id}/{path}", headers=hall.voters[0].headers)
        assert page.status_code == 404, path


async def test_the_question_screens_have_one_heading_and_labelled_controls(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    await ask(client, hall, "移住者の定着率はどう測りますか？")
    await approve_all(client, hall)
    for path in ("questions", "console", "presenter"):
        page = await client.get(f"/sessions/{hall.id}/{path}", headers=hall.speaker.headers)
        found = audit(page)
        assert found.h1 == 1 and found.unlabelled() == [] and found.empty_buttons == 0, path


async def test_the_rows_are_read_in_one_query_plus_one_for_the_readers_votes(
    client: httpx2.AsyncClient, admin: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall = await live_hall(client, admin)
    for n in range(12):
        by = [hall.asker, *hall.voters][n % 4]
        await ask(client, hall, f"質問その{n}", anonymous=n % 2 == 0, by=by)
    await approve_all(client, hall)
    session = await LiveSession.get(id=hall.id)
    connection = connections.get("default")
    seen: list[str] = []
    for method in ("execute_query", "execute_query_dict"):
        original = getattr(connection, method)

        async def counting(sql: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            seen.append(sql)
            return await _original(sql, *args, **kwargs)

        monkeypatch.setattr(connection, method, counting)
    actor = Actor(user=hall.voters[0].user)
    rows = await questionboard.load_questions(actor, session)
    # Notifications of the approvals may still be sent meanwhile: only these tables count.
    ours = [sql for sql in seen if re.search(r'FROM "(posts|votes|users)"', sql)]
    assert len(rows) == 12 and len(ours) == 2, ours
    assert sum(1 for q in rows if q.asker is None) == 6


async def test_a_written_answer_shows_under_its_question_on_the_board_and_the_console(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    hall = await live_hall(client, admin)
    asked = await ask(client, hall, "空き家バンクの運用は？", anonymous=True)
    await approve_all(client, hall)
    answer = "町の宅建協会と協定を結び、見学会を月1回開いています。"
    written = await client.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": answer, "kind": "answer", "reply_to": asked},
        headers=hall.speaker.headers,
    )
    assert written.status_code == 201, written.text
    for path in ("questions", "console"):
        page = (await client.get(f"/sessions/{hall.id}/{path}", headers=hall.expert.headers)).text
        assert order(page, 'id="answered"') == [asked]
        shown_row = row(page, asked)
        assert answer in shown_row and "有識者の回答" in shown_row and "佐藤 講師" in shown_row
        assert "匿名" in shown_row and not names_asker(page)
    presenter = (await client.get(f"/sessions/{hall.id}/presenter")).text
    assert answer not in presenter and f'id="q-{asked}"' not in presenter
