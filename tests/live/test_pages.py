"""The sessions' pages: calendar, session, join link, organiser forms, feeds, exports, report."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from icalendar import Calendar

from forum.app import create_app
from forum.config import Settings
from forum.models import ModerationPolicy, Role, Thread
from live import transitions
from live.calendar import JST
from live.models import LiveSession, SessionState
from tests.conftest import Member, make_member
from tests.forum.support import h1_of, log_in, token_for
from tests.forum.test_pages_accessibility import audit
from tests.live.support import T0, new_session, setup_board

pytestmark = pytest.mark.asyncio

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


async def test_the_calendar_lists_live_upcoming_and_past_sessions_with_a_month_view(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    live = await new_session(client, organiser, title="分科会B 開催中", starts_at=SOON)
    await client.post(f"/api/v1/sessions/{live['id']}/start", headers=organiser.headers)
    await new_session(client, organiser, title="研修会 来週", kind="training", starts_at=SOON)
    ended = await new_session(client, organiser, title="分科会C 終了", starts_at=SOON)
    await client.post(f"/api/v1/sessions/{ended['id']}/start", headers=organiser.headers)
    await client.post(f"/api/v1/sessions/{ended['id']}/end", headers=organiser.headers)
    month = SOON.astimezone(JST).strftime("%Y-%m")
    page = await client.get(f"/sessions?month={month}")
    assert page.status_code == 200
    assert h1_of(page) == "プログラム"
    live_part = page.text.split('id="sessions-live"')[1].split("</ul>")[0]
    assert "分科会B 開催中" in live_part and "研修会 来週" not in live_part
    upcoming = page.text.split('id="sessions-upcoming"')[1].split("</ul>")[0]
    assert "研修会 来週" in upcoming
    past = page.text.split('id="sessions-past"')[1].split("</ul>")[0]
    assert "分科会C 終了" in past
    assert page.text.count('class="month-session') == 3
    training = await client.get(f"/sessions?kind=training&month={month}")
    assert "研修会 来週" in training.text and "分科会B 開催中" not in training.text
    assert (await client.get("/sessions?kind=party")).status_code == 400
    assert (await client.get("/sessions?month=2026-13")).status_code == 400


async def test_the_home_page_shows_what_is_live_now_and_next(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    live = await new_session(client, organiser, title="全体会 開催中", starts_at=SOON)
    await client.post(f"/api/v1/sessions/{live['id']}/start", headers=organiser.headers)
    await new_session(client, organiser, title="分科会A 次", starts_at=SOON)
    home = await client.get("/")
    assert "全体会 開催中" in home.text.split('id="home-live"')[1].split("</ul>")[0]
    assert "分科会A 次" in home.text.split('id="home-next"')[1].split("</ul>")[0]


async def test_the_session_page_shows_times_in_jst_experts_the_join_link_and_its_qr_code(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    await make_member(username="expert-ito", role=Role.EXPERT, organisation="架空大学")
    session = await new_session(client, organiser, experts=["expert-ito"], venue="第1会議室")
    page = await client.get(f"/sessions/{session['id']}")
    assert page.status_code == 200
    assert h1_of(page) == "分科会A 関係人口と地域の担い手"
    assert "2026年12月1日 13:00" in page.text
    assert "架空大学" in page.text and "第1会議室" in page.text
    assert "<strong>参加者</strong>" in page.text
    code = session["join_url"].rsplit("/", 1)[1]
    assert f"http://testserver/j/{code}" in page.text
    assert "<svg" in page.text and 'class="qr"' in page.text
    qr = await client.get(f"/sessions/{session['id']}/qr.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg")
    assert (await client.get("/sessions/abc")).status_code == 404


async def test_session_pages_render_in_english(client: httpx2.AsyncClient, admin: Member) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    english = {"Accept-Language": "en"}
    calendar = await client.get("/sessions", headers=english)
    assert '<html lang="en">' in calendar.text
    assert h1_of(calendar) == "Programme"
    assert "Upcoming" in calendar.text
    december = await client.get("/sessions?month=2026-12", headers=english)
    assert '<h2 id="month-heading">December 2026</h2>' in december.text
    assert "Sessions in December 2026" in december.text
    page = await client.get(f"/sessions/{session['id']}", headers=english)
    assert "Dec 1, 2026, 13:00 JST" in page.text
    assert "Breakout session" in page.text and "Scheduled" in page.text
    assert "Join link" in page.text


async def test_session_pages_have_one_h1_a_skip_link_and_labelled_controls(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    code = session["join_url"].rsplit("/", 1)[1]
    paths = [
        "/sessions",
        f"/sessions/{session['id']}",
        f"/j/{code}",
        f"/sessions/{session['id']}/report",
    ]
    for path in paths:
        found = audit(await client.get(path))
        assert found.h1 == 1, path
        assert found.unlabelled() == [], path
    await log_in(client, "org-kankei")
    for path in [*paths[:2], "/sessions/new", f"/sessions/{session['id']}/edit"]:
        page = await client.get(path)
        assert page.status_code == 200, path
        found = audit(page)
        assert found.h1 == 1 and found.unlabelled() == [] and found.empty_buttons == 0, path


async def test_a_logged_out_participant_joins_through_registration_and_lands_on_the_thread(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    code = session["join_url"].rsplit("/", 1)[1]
    thread_path = f"/t/{session['thread']['id']}"
    join = await client.get(f"/j/{code}")
    assert join.status_code == 200
    assert f'href="/register?next={thread_path}&amp;join={code}"' in join.text
    assert f'href="/login?next={thread_path}"' in join.text
    form = await client.get(f"/register?next={thread_path}&join={code}")
    assert f'name="next" value="{thread_path}"' in form.text
    assert f'name="join" value="{code}"' in form.text
    registered = await client.post(
        "/register",
        data={
            "username": "newcomer",
            "password": "correct horse battery",
            "display_name": "架空町の職員",
            "affiliation": "municipality",
            "next": thread_path,
            "join": code,
            "csrf_token": await token_for(client, "/register"),
        },
    )
    assert registered.status_code == 303
    assert registered.headers["location"] == thread_path
    again = await client.get(f"/j/{code.upper()}")
    assert again.status_code == 303 and again.headers["location"] == thread_path
    assert (await client.get("/j/nosuchcode")).status_code == 404


async def test_a_returning_participant_logs_in_from_the_join_link_and_lands_on_the_thread(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    thread_path = f"/t/{session['thread']['id']}"
    token = await token_for(client, "/login")
    response = await client.post(
        "/login",
        data={
            "username": "alice",
            "password": "correct horse battery",
            "next": thread_path,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303 and response.headers["location"] == thread_path


async def test_an_organiser_creates_edits_starts_and_ends_a_session_with_forms(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await setup_board(client, admin)
    await make_member(username="expert-ito", role=Role.EXPERT)
    await log_in(client, "org-kankei")
    token = await token_for(client, "/sessions/new")
    fields = {
        "title": "研修会 関係人口の入口づくり",
        "kind": "training",
        "board": "kankei",
        "starts_at": "2030-01-10T13:00",
        "ends_at": "2030-01-10T15:00",
        "venue": "オンライン",
        "url": "",
        "parent": "",
        "description": "",
        "experts": "expert-ito",
        "moderators": "",
        "premoderate": "1",
        "slow_mode_seconds": "30",
        "csrf_token": token,
    }
    bad = await client.post("/sessions/new", data={**fields, "ends_at": "2030-01-10T12:00"})
    assert bad.status_code == 422 and "終了日時は開始日時より後" in bad.text
    missing_token = await client.post("/sessions/new", data={**fields, "csrf_token": "x"})
    assert missing_token.status_code == 403
    created = await client.post("/sessions/new", data=fields)
    assert created.status_code == 303, created.text
    session = await LiveSession.get(title="研修会 関係人口の入口づくり")
    assert session.starts_at == datetime(2030, 1, 10, 4, 0, tzinfo=UTC)
    path = f"/sessions/{session.id}"
    edited = await client.post(f"{path}/edit", data={**fields, "venue": "架空市役所 大会議室"})
    assert edited.status_code == 303
    assert (await LiveSession.get(id=session.id)).venue == "架空市役所 大会議室"
    for action, state in (("start", SessionState.LIVE), ("end", SessionState.ENDED)):
        pressed = await client.post(f"{path}/control", data={"action": action, "csrf_token": token})
        assert pressed.status_code == 303
        assert (await LiveSession.get(id=session.id)).state is state


async def test_an_over_long_or_nul_bearing_organiser_form_field_is_refused_before_the_database(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    await log_in(client, "org-kankei")
    token = await token_for(client, "/sessions/new")
    fields = {
        "title": "研修会",
        "kind": "training",
        "board": "kankei",
        "starts_at": "2030-01-10T13:00",
        "ends_at": "2030-01-10T15:00",
        "csrf_token": token,
    }
    hostile = [
        ("title", "題" * 121),
        ("board", "b" * 41),
        ("description", "x" * 20_001),
        ("venue", "会" * 201),
        ("venue", "a\x00b"),
        ("url", "https://" + "u" * 500),
        ("starts_at", "2" * 41),
        ("experts", "a " * 1001),
        ("slow_mode_seconds", "9" * 30),
        ("kind", "party"),
    ]
    for name, value in hostile:
        for path in ("/sessions/new", f"/sessions/{session['id']}/edit"):
            response = await client.post(path, data={**fields, name: value})
            assert response.status_code == 400, (path, name, response.status_code)
    assert await LiveSession.filter(title="研修会").count() == 0
    unchanged = await LiveSession.get(id=session["id"])
    assert unchanged.title == session["title"] and unchanged.venue == ""


async def test_an_organiser_form_number_out_of_range_is_shown_on_the_form(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await setup_board(client, admin)
    await log_in(client, "org-kankei")
    token = await token_for(client, "/sessions/new")
    fields = {
        "title": "研修会",
        "kind": "training",
        "board": "kankei",
        "starts_at": "2030-01-10T13:00",
        "ends_at": "2030-01-10T15:00",
        "csrf_token": token,
    }
    for name, value, message in (
        ("slow_mode_seconds", "3601", "0〜3,600秒の整数で入力してください。"),
        ("slow_mode_seconds", "-1", "0〜3,600秒の整数で入力してください。"),
        ("parent", str(2**31), "親のイベントが見つかりません。"),
    ):
        response = await client.post("/sessions/new", data={**fields, name: value})
        assert response.status_code == 422, (name, value)
        assert message in response.text
    created = await client.post("/sessions/new", data={**fields, "slow_mode_seconds": "3600"})
    assert created.status_code == 303
    assert (await LiveSession.get(title="研修会")).slow_mode_seconds == 3600


async def test_a_participant_cannot_open_the_organiser_forms(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    await log_in(client, "alice")
    assert (await client.get(f"/sessions/{session['id']}/edit")).status_code == 403
    token = await token_for(client, f"/sessions/{session['id']}")
    refused = await client.post(
        f"/sessions/{session['id']}/control", data={"action": "start", "csrf_token": token}
    )
    assert refused.status_code == 403


async def test_the_programme_and_a_session_are_icalendar_feeds_that_parse_back(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    first = await new_session(client, organiser, starts_at=SOON, venue="架空県民会館")
    await new_session(client, organiser, title="研修会", kind="training", starts_at=SOON)
    feed = await client.get("/sessions.ics")
    assert feed.headers["content-type"].startswith("text/calendar")
    parsed = Calendar.from_ical(feed.content)
    summaries = sorted(str(e["summary"]) for e in parsed.walk("VEVENT"))
    assert summaries == ["分科会A 関係人口と地域の担い手", "研修会"]
    one = Calendar.from_ical((await client.get(f"/sessions/{first['id']}.ics")).content)
    [event] = one.walk("VEVENT")
    assert event.decoded("dtstart") == SOON
    assert str(event["location"]) == "架空県民会館"
    assert str(event["uid"]) == f"session-{first['id']}@testserver"


async def _ended_session_with_questions(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> dict[str, object]:
    organiser = await setup_board(client, admin)
    session = await new_session(
        client,
        organiser,
        starts_at=T0 + timedelta(days=3650),
        slow_mode_seconds=0,
    )
    await client.post(f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers)
    thread_id = session["thread"]["id"]
    asked = []
    for member, body, anonymous in (
        (alice, "関係人口の「関わりしろ」はどう作りますか？", False),
        (bob, "匿名で、予算の確保について伺います。", True),
    ):
        response = await client.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": body, "kind": "question", "anonymous": anonymous},
            headers=member.headers,
        )
        assert response.status_code == 201, response.text
        asked.append(response.json())
    # Live questions wait for a moderator; approve them through the queue.
    queue = (await client.get("/api/v1/moderation/queue", headers=organiser.headers)).json()
    assert len(queue["items"]) == 2
    for item in queue["items"]:
        approved = await client.post(
            f"/api/v1/moderation/items/{item['id']}/approve",
            json={"version": item["version"]},
            headers=organiser.headers,
        )
        assert approved.status_code == 200, approved.text
    await client.put(f"/api/v1/posts/{asked[0]['id']}/vote", headers=bob.headers)
    answer = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "まずは小さな役割を用意することです。", "reply_to": asked[0]["id"]},
        headers=organiser.headers,
    )
    assert answer.status_code == 201
    await client.post(f"/api/v1/sessions/{session['id']}/end", headers=organiser.headers)
    return session


async def test_the_csv_export_has_a_bom_keeps_japanese_and_never_names_an_anonymous_asker(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    session = await _ended_session_with_questions(client, admin, alice, bob)
    response = await client.get(f"/sessions/{session['id']}/export.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "番号"
    by_question = {row[3]: row for row in rows[1:]}
    named = by_question["関係人口の「関わりしろ」はどう作りますか？"]
    assert named[2] == "alice さん" and named[4] == "1"
    assert "まずは小さな役割を用意することです。" in named[6]
    hidden = by_question["匿名で、予算の確保について伺います。"]
    assert hidden[2] == "匿名"
    assert "bob" not in response.content.decode("utf-8-sig")
    markdown = await client.get(f"/sessions/{session['id']}/export.md")
    assert "関わりしろ" in markdown.text and "bob" not in markdown.text


async def test_the_report_counts_questions_answers_and_shows_a_minute_chart_without_anonymous_names(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    session = await _ended_session_with_questions(client, admin, alice, bob)
    page = await client.get(f"/sessions/{session['id']}/report")
    assert page.status_code == 200
    assert h1_of(page).startswith("実施報告")
    assert 'id="figure-questions">2<' in page.text
    assert 'id="figure-answers">1<' in page.text
    assert 'id="figure-approval">—<' not in page.text  # both questions went through the queue
    assert 'id="figure-participants">3<' in page.text
    assert "<svg" in page.text and "minute-table" in page.text
    assert "bob" not in page.text
    summary = await client.get(f"/sessions/{session['id']}")
    assert "質疑応答のまとめ" in summary.text and "bob" not in summary.text


async def test_an_ended_session_is_archived_by_the_clock_and_stays_readable(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    await transitions.tick(T0 + timedelta(days=2))
    assert (await LiveSession.get(id=session["id"])).state is SessionState.ARCHIVED
    assert (await client.get(f"/sessions/{session['id']}")).status_code == 200
    assert (await client.get(f"/t/{session['thread']['id']}")).status_code == 200


async def test_a_board_moderator_sets_a_threads_approval_policy_on_the_thread_tools_page(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    thread_id = session["thread"]["id"]
    await log_in(client, "org-kankei")
    page = await client.get(f"/moderation/threads/{thread_id}")
    assert "このスレッドの承認の方式" in page.text
    token = await token_for(client, f"/moderation/threads/{thread_id}")
    path = f"/moderation/threads/{thread_id}"
    saved = await client.post(
        path, data={"action": "policy", "moderation": "premoderated", "csrf_token": token}
    )
    assert saved.status_code == 303
    assert (await Thread.get(id=thread_id)).moderation is ModerationPolicy.PREMODERATED
    bad = await client.post(path, data={"action": "policy", "moderation": "x", "csrf_token": token})
    assert bad.status_code == 422
    cleared = await client.post(
        path, data={"action": "policy", "moderation": "", "csrf_token": token}
    )
    assert cleared.status_code == 303
    assert (await Thread.get(id=thread_id)).moderation is None


@pytest.fixture
async def hall_client(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    """A venue: one address for everybody, two sign-ups an hour for it, three per join link."""
    application = create_app(
        replace(settings, registrations_per_hour_per_ip=2, join_registrations_per_hour=3)
    )
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_sign_ups_through_a_join_link_count_against_the_link_not_the_halls_address(
    hall_client: httpx2.AsyncClient, admin: Member
) -> None:
    client = hall_client
    organiser = await setup_board(client, admin)
    session = await new_session(client, organiser)
    code = session["join_url"].rsplit("/", 1)[1]

    async def sign_up(name: str, join: str) -> int:
        client.cookies.clear()  # each newcomer is a browser of their own
        data = {
            "username": name,
            "password": "correct horse battery",
            "display_name": "架空町の参加者",
            "next": "/",
            "join": join,
            "csrf_token": await token_for(client, "/register"),
        }
        return (await client.post("/register", data=data)).status_code

    # The link's three, although the address allows two an hour.
    assert [await sign_up(f"hall-{n}", code) for n in range(3)] == [303, 303, 303]
    assert await sign_up("hall-3", code) == 429
    # Without the link (or with one that names no session) the address's own two.
    assert [await sign_up(f"walk-{n}", "") for n in range(2)] == [303, 303]
    assert await sign_up("walk-2", "nosuchcode") == 429
