"""A live session's Q&A in real browsers, each in its own context: participants on the
question board, the moderator approving by keyboard in the queue, an expert on the console
and the hall's presenter view, all following one another live and all axe clean."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, ConsoleMessage, Page, ViewportSize, expect

from forum import accounts, events, outbox
from forum.models import AnswerState, Post, Role
from tests.browser.conftest import Site
from tests.conftest import Member, make_member
from tests.live.support import T0, new_session
from tests.moderation.support import board_staff, new_board

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WAIT = 10_000
TABLET: ViewportSize = {"width": 820, "height": 1180}
HALL: ViewportSize = {"width": 1920, "height": 1080}
QUESTION = "関係人口を増やすための予算はどう確保しましたか？"
ASKER = "山田 花子"
ANSWER = "ふるさと納税の使途に関係人口の事業を加えました。"


@dataclass
class Stage:
    session: dict[str, Any]
    organiser: Member
    speaker: Member
    asker: Member
    voter: Member

    @property
    def path(self) -> str:
        return f"/sessions/{self.session['id']}"


async def stage(site: Site) -> Stage:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    await new_board(site.api, admin, "kankei")
    organiser = await board_staff(site.api, admin, "kankei", username="org-kankei")
    speaker = await make_member(username="expert-sato", role=Role.EXPERT, display_name="佐藤 講師")
    session = await new_session(
        site.api,
        organiser,
        starts_at=T0 + timedelta(days=3650),
        experts=["expert-sato"],
        slow_mode_seconds=0,
    )
    started = await site.api.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    asker = await make_member(username="bob-asker", display_name=ASKER)
    voter = await make_member(username="carol", display_name="鈴木 一郎")
    return Stage(session, organiser, speaker, asker, voter)


async def opened(
    browser: Browser,
    site: Site,
    member: Member | None,
    path: str,
    *,
    viewport: ViewportSize = TABLET,
) -> Page:
    """A page in a browser context of its own, signed in as ``member`` (or nobody)."""
    context = await browser.new_context(locale="ja-JP", viewport=viewport)
    if member is not None:
        raw, _session = await accounts.start_session(member.user, days=1)
        await context.add_cookies([{"name": "koryu_session", "value": raw, "url": site.base}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message: ConsoleMessage) -> None:
        if message.type in {"error", "warning"}:
            errors.append(f"{message.text} {message.location['url']}")

    page.on("console", console)
    setattr(page, "koryu_errors", errors)  # noqa: B010 - a list per page, read at the end
    await page.goto(f"{site.base}{path}")
    # A mark that a reload or a navigation would wipe out.
    await page.evaluate("window.koryuStayed = true")
    return page


async def live(page: Page) -> None:
    await expect(page.locator("#qa-live")).to_have_attribute("data-state", "live", timeout=WAIT)


async def serious(page: Page) -> list[tuple[str, str, list[Any]]]:
    results = await Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def clean(page: Page) -> None:
    assert await page.evaluate("window.koryuStayed === true"), "the page was reloaded"
    assert getattr(page, "koryu_errors") == []  # noqa: B009
    content = await page.locator("#qa").inner_html()
    assert "山田" not in content and "bob-asker" not in content


async def test_an_anonymous_question_goes_from_the_board_through_the_queue_to_console_and_hall(
    browser: Browser, site: Site
) -> None:
    hall = await stage(site)
    board = await opened(browser, site, hall.asker, f"{hall.path}/questions")
    voter = await opened(browser, site, hall.voter, f"{hall.path}/questions")
    console = await opened(browser, site, hall.speaker, f"{hall.path}/console")
    presenter = await opened(browser, site, None, f"{hall.path}/presenter", viewport=HALL)
    queue = await opened(browser, site, hall.organiser, "/moderation")
    for page in (board, voter, console, presenter):
        await live(page)
    await expect(board.locator("h1")).to_have_text("質問ボード")
    await expect(console.locator("#qa-help")).to_contain_text("j / k")
    await expect(presenter.locator(".qr svg")).to_be_visible()
    await expect(presenter.locator(".presenter-url")).to_contain_text("/j/")

    # The participant asks anonymously; the question waits for a moderator.
    await board.locator("#ask-body").fill(QUESTION)
    await board.locator("#ask-anonymous").check()
    await board.get_by_role("button", name="質問を送信").click()
    await expect(board.locator("#ask-status")).to_contain_text("承認後", timeout=WAIT)
    await expect(voter.locator(".question")).to_have_count(0)

    # The moderator approves it with the keyboard; the queue names the asker beside 匿名.
    item = queue.locator(".mod-item").first
    await expect(item).to_contain_text(QUESTION, timeout=WAIT)
    await expect(item).to_contain_text(ASKER)
    await queue.keyboard.press("j")
    await queue.keyboard.press("a")
    await expect(queue.locator(".mod-item")).to_have_count(0, timeout=WAIT)

    # Everyone's screen shows it at once, as 匿名.
    for page in (board, voter, console):
        row = page.locator("#questions .question")
        await expect(row).to_have_count(1, timeout=WAIT)
        await expect(row).to_contain_text(QUESTION)
        await expect(row.locator(".q-asker")).to_have_text("匿名")
    upcoming = presenter.locator("#next .question")
    await expect(upcoming).to_contain_text(QUESTION, timeout=WAIT)
    await expect(presenter.locator("#now-empty")).to_be_visible()
    post_id = int(await voter.locator("#questions .question").get_attribute("data-id") or 0)
    # The asker may not vote for their own question; the other participant does.
    await expect(board.locator(".vote-button")).to_have_count(0)
    button = voter.locator(f"#q-{post_id} .vote-button")
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    for page in (voter, board, console, presenter):
        await expect(page.locator(f"#q-{post_id} .vote-count")).to_have_text("1", timeout=WAIT)

    # The expert takes it with the keyboard, then answers it on stage.
    await console.keyboard.press("j")
    await expect(console.locator(f"#q-{post_id}")).to_be_focused()
    await console.keyboard.press("a")
    for page in (console, board, voter):
        await expect(page.locator(f"#q-{post_id} .q-state")).to_have_text("担当決定", timeout=WAIT)
        await expect(page.locator(f"#q-{post_id} .q-assignee")).to_contain_text("佐藤 講師")
    await expect(console.locator(f"#q-{post_id}")).to_have_class(re.compile(r"\bq-mine\b"))
    await console.keyboard.press("n")
    await expect(presenter.locator("#now .question")).to_contain_text(QUESTION, timeout=WAIT)
    await expect(presenter.locator("#now-empty")).to_be_hidden()
    await expect(presenter.locator("#next .question")).to_have_count(0)
    await expect(console.locator(f"#q-{post_id} .q-state")).to_have_text("回答中", timeout=WAIT)
    await expect(board.locator(f"#q-{post_id} .q-state")).to_have_text("回答中", timeout=WAIT)
    size = await presenter.locator("#now .q-body").evaluate(
        "node => parseFloat(getComputedStyle(node).fontSize)"
    )
    assert size >= 48, size  # readable from the back of a hall on a 1080p screen
    assert await serious(presenter) == []

    # The voter takes the vote back; every screen follows.
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    await expect(presenter.locator(f"#q-{post_id} .vote-count")).to_have_text("0", timeout=WAIT)

    # w writes an answer: it shows under the question, which folds away as answered.
    await console.locator(f"#q-{post_id}").focus()
    await console.keyboard.press("w")
    dialog = console.locator("#answer-dialog")
    await expect(dialog).to_be_visible()
    assert await serious(console) == []
    await console.locator("#answer-body").fill(ANSWER)
    await dialog.get_by_role("button", name="回答を送信").click()
    await expect(dialog).to_be_hidden()
    for page in (board, voter, console):
        answered = page.locator(f"#answered #q-{post_id}")
        await expect(answered).to_have_count(1, timeout=WAIT)
        await expect(answered.locator(".q-answer")).to_contain_text(ANSWER, timeout=WAIT)
        await expect(answered.locator(".q-answer .badge")).to_have_text("有識者の回答")
        await expect(page.locator("#answered-count")).to_have_text("1")
    await expect(presenter.locator(f"#q-{post_id}")).to_have_count(0, timeout=WAIT)
    await expect(presenter.locator("#now-empty")).to_be_visible()
    await voter.locator("#answered-fold summary").click()
    await expect(voter.locator(f"#q-{post_id} .q-answer")).to_be_visible()

    for page in (board, voter, console, presenter):
        await clean(page)
        assert await serious(page) == []
    stored = await Post.get(id=post_id)
    assert stored.answer_state is AnswerState.ANSWERED_WRITTEN


async def test_the_board_sorts_and_filters_without_reload_and_keeps_the_readers_sort(
    browser: Browser, site: Site
) -> None:
    hall = await stage(site)
    ids = []
    for n, body in enumerate(("一つ目の質問", "二つ目の質問", "三つ目の質問")):
        asked = await site.api.post(
            f"/api/v1/threads/{hall.session['thread']['id']}/posts",
            json={"body": body, "kind": "question"},
            headers=(hall.asker if n % 2 else hall.voter).headers,
        )
        assert asked.status_code == 201, asked.text
        ids.append(int(asked.json()["id"]))
    await Post.filter(id__in=ids).update(status="published")
    await Post.filter(id=ids[0]).update(votes=5)
    await Post.filter(id=ids[2]).update(answer_state=AnswerState.DEFERRED)
    page = await opened(browser, site, hall.organiser, f"{hall.path}/questions")
    await live(page)
    rows = page.locator("#questions .question")
    assert await rows.evaluate_all("rows => rows.map(r => Number(r.dataset.id))") == [
        ids[0],
        ids[1],
        ids[2],
    ]
    await page.get_by_role("link", name="新しい順").click()
    await expect(page.locator('a[data-sort="new"]')).to_have_attribute("aria-current", "true")
    assert await rows.evaluate_all("rows => rows.map(r => Number(r.dataset.id))") == ids[::-1]
    assert "sort=new" in page.url
    await page.get_by_role("link", name="後日回答").click()
    await expect(page.locator(f"#q-{ids[0]}")).to_be_hidden()
    await expect(page.locator(f"#q-{ids[2]}")).to_be_visible()
    assert await page.evaluate("window.koryuStayed === true")
    # A later visit without a sort in the address keeps the reader's choice.
    await page.goto(f"{site.base}{hall.path}/questions")
    await expect(page.locator('a[data-sort="new"]')).to_have_attribute("aria-current", "true")
    assert await rows.evaluate_all("rows => rows.map(r => Number(r.dataset.id))") == ids[::-1]
    assert getattr(page, "koryu_errors") == []  # noqa: B009


async def test_merges_and_coalesced_tallies_reach_the_board_and_the_hall_and_reorder_them(
    browser: Browser, site: Site
) -> None:
    hall = await stage(site)
    thread_id = int(hall.session["thread"]["id"])
    ids = []
    for n, body in enumerate(
        ("移住支援金の条件は？", "移住支援金の条件を教えて", "空き家バンクの運用は？")
    ):
        asked = await site.api.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": body, "kind": "question"},
            headers=(hall.asker if n % 2 else hall.voter).headers,
        )
        assert asked.status_code == 201, asked.text
        ids.append(int(asked.json()["id"]))
    await Post.filter(id__in=ids).update(status="published")
    kept, duplicate, other = ids
    board = await opened(browser, site, hall.organiser, f"{hall.path}/questions")
    presenter = await opened(browser, site, None, f"{hall.path}/presenter", viewport=HALL)
    for page in (board, presenter):
        await live(page)
    merged = await site.api.post(
        f"/api/v1/posts/{duplicate}/merge", json={"into": kept}, headers=hall.organiser.headers
    )
    assert merged.status_code == 200, merged.text
    for page in (board, presenter):
        await expect(page.locator(f"#q-{duplicate}")).to_have_count(0, timeout=WAIT)
        await expect(page.locator(f"#q-{kept} .q-similar")).to_have_text(
            "同様の質問 1件", timeout=WAIT
        )
    # A coalesced tally (votes.tallied) moves the third question to the top everywhere; on
    # the board the reader is pointing at the list, so the move waits behind 並べ替え.
    await board.locator(f"#q-{kept}").hover()
    async with outbox.atomic() as tx:
        await Post.filter(id=other).using_db(tx.conn).update(votes=7)
        tx.emit(events.votes_tallied(thread_id, [{"id": other, "votes": 7}]))
    reorder = board.locator("#qa-reorder")
    await expect(reorder).to_be_visible(timeout=WAIT)
    await expect(reorder).to_contain_text("並べ替え")
    await expect(board.locator("#questions .question").first).to_have_attribute("id", f"q-{kept}")
    await reorder.click()
    await expect(reorder).to_be_hidden()
    for page, selector in ((board, "#questions .question"), (presenter, "#next .question")):
        await expect(page.locator(f"#q-{other} .vote-count")).to_have_text("7", timeout=WAIT)
        await expect(page.locator(selector).first).to_have_attribute(
            "id", f"q-{other}", timeout=WAIT
        )
    for page in (board, presenter):
        await clean(page)
