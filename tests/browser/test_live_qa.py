"""A reader of a live session's thread in a real browser: answer states, a written answer
and a merge arrive live and leave the page as a reload draws it."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from forum.models import Role
from tests.browser.conftest import Site
from tests.conftest import make_member
from tests.live.qa_support import approve_all, ask, move, open_hall

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def shown(page: Page) -> list[tuple[str, str, str]]:
    """Each article of the thread in order: its id, its classes, its header's badges."""
    rows: list[tuple[str, str, str]] = await page.eval_on_selector_all(
        "#posts article.post",
        """nodes => nodes.map(n => [
            n.id,
            [...n.classList].sort().join(" "),
            [...n.querySelectorAll(".post-meta .badge, .post-meta .similar-count:not([hidden]), .reply-to")]
              .map(b => b.textContent.trim()).join("|"),
        ])""",
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_answer_states_a_written_answer_and_a_merge_arrive_as_a_reload_shows_them(
    browser: Browser, site: Site
) -> None:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    hall = await open_hall(site.api, admin)
    first = int((await ask(site.api, hall, "一つ目の質問です。", by=hall.audience[0]))["id"])
    second = int((await ask(site.api, hall, "二つ目の質問です。", by=hall.audience[1]))["id"])
    await approve_all(site.api, hall)
    page = await browser.new_page(locale="ja-JP")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{site.base}/t/{hall.thread_id}")
    await expect(page.locator(".live-state")).to_have_attribute(
        "data-state", "live", timeout=10_000
    )
    state = page.locator(f"#post-{first} .answer-state")
    await expect(state).to_have_text("未回答")

    assert (await move(site.api, hall.ito, first, "answering")).status_code == 200
    await expect(state).to_have_text("回答中", timeout=5_000)
    # A late question, then the written answer to the first: it goes under the first.
    third = int((await ask(site.api, hall, "三つ目の質問です。", by=hall.audience[2]))["id"])
    await approve_all(site.api, hall)
    await expect(page.locator(f"#post-{third}")).to_be_visible(timeout=5_000)
    answered = await site.api.post(
        f"/api/v1/threads/{hall.thread_id}/posts",
        json={"body": "窓口を一つにしました。", "kind": "answer", "reply_to": first},
        headers=hall.ito.headers,
    )
    assert answered.status_code == 201, answered.text
    answer = page.locator(f"#post-{answered.json()['id']}")
    await expect(answer.locator(".badge-answer")).to_have_text("有識者の回答", timeout=5_000)
    await expect(state).to_have_text("文書で回答済み", timeout=5_000)
    following = await page.eval_on_selector(f"#post-{first}", "n => n.nextElementSibling.id")
    assert following == f"post-{answered.json()['id']}"

    merged = await site.api.post(
        f"/api/v1/posts/{third}/merge", json={"into": second}, headers=hall.organiser.headers
    )
    assert merged.status_code == 200, merged.text
    await expect(page.locator(f"#post-{third}")).to_have_count(0, timeout=5_000)
    await expect(page.locator(f"#post-{second} .similar-count")).to_have_text("同様の質問 1件")

    live = await shown(page)
    await page.reload()
    assert await shown(page) == live
    assert errors == []
    results = await Axe().run(page)
    serious = [
        (v["id"], v["impact"])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []
