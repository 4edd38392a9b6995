"""A reader in a real browser: live posts, the new-posts button, reconnection, accessibility."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from forum.formatting import format_datetime
from forum.models import Role
from tests.browser.conftest import Site
from tests.conftest import Member, make_member

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def setup_thread(site: Site, posts: int = 1) -> tuple[Member, int]:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    board = {"slug": "kankei", "title": "関係人口の創出・拡大"}
    assert (
        await site.api.post("/api/v1/boards", json=board, headers=admin.headers)
    ).status_code == 201
    created = await site.api.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "全国フォーラム ライブQ&A", "body": "質問をどうぞ。"},
        headers=admin.headers,
    )
    thread_id = int(created.json()["thread"]["id"])
    for i in range(posts - 1):
        await post(site, admin, thread_id, f"事前の投稿 {i}\n\n" + "本文。" * 40)
    return admin, thread_id


async def post(site: Site, member: Member, thread_id: int, body: str) -> dict[str, Any]:
    response = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": body}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def open_thread(browser: Browser, site: Site, thread_id: int) -> Page:
    page = await browser.new_page(locale="ja-JP")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{site.base}/t/{thread_id}")
    await expect(page.locator(".live-state")).to_have_attribute(
        "data-state", "live", timeout=10_000
    )
    assert errors == []
    return page


async def test_a_new_post_appears_without_reload_and_is_announced(
    browser: Browser, site: Site
) -> None:
    admin, thread_id = await setup_thread(site)
    page = await open_thread(browser, site, thread_id)
    made = await post(site, admin, thread_id, "**専門家**からの回答です")
    article = page.locator(f"#post-{made['id']}")
    await expect(article).to_be_visible(timeout=5_000)
    await expect(article.locator(".post-body strong")).to_have_text("専門家")
    # "たった今", with Japan time to the minute on hover, as the server writes it, whatever
    # the browser's zone.
    expected = format_datetime(datetime.fromisoformat(made["created_at"]))
    await expect(article.locator("time")).to_have_text("たった今")
    await expect(article.locator("time")).to_have_attribute("title", expected)
    await expect(page.locator("#live-status")).to_contain_text("新しい投稿")
    assert await page.locator("article.post").count() == 2


async def test_a_reader_scrolled_up_gets_a_new_posts_button_instead_of_a_jump(
    browser: Browser, site: Site
) -> None:
    admin, thread_id = await setup_thread(site, posts=12)
    page = await open_thread(browser, site, thread_id)
    await page.evaluate("window.scrollTo(0, 0)")
    first = await post(site, admin, thread_id, "一件目")
    await post(site, admin, thread_id, "二件目")
    button = page.locator("button.new-posts")
    await expect(button).to_have_text("2件の新しい投稿", timeout=5_000)
    assert await page.evaluate("window.scrollY") == 0
    await button.click()
    await expect(button).to_be_hidden()
    await expect(page.locator(f"#post-{first['id']}")).to_be_in_viewport(timeout=5_000)


async def test_posts_made_while_offline_arrive_after_the_network_returns(
    browser: Browser, site: Site
) -> None:
    admin, thread_id = await setup_thread(site)
    page = await open_thread(browser, site, thread_id)
    await page.context.set_offline(True)
    await page.evaluate("window.dispatchEvent(new Event('offline'))")
    await expect(page.locator(".live-state")).to_have_attribute("data-state", "offline")
    missed = [await post(site, admin, thread_id, f"留守中 {i}") for i in range(3)]
    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator(".live-state")).to_have_attribute(
        "data-state", "live", timeout=10_000
    )
    for made in missed:
        await expect(page.locator(f"#post-{made['id']}")).to_have_count(1, timeout=5_000)
    ids = await page.eval_on_selector_all("article.post", "nodes => nodes.map(n => n.id)")
    assert ids[-3:] == [f"post-{m['id']}" for m in missed]


async def test_the_thread_page_works_without_javascript(browser: Browser, site: Site) -> None:
    _admin, thread_id = await setup_thread(site)
    context = await browser.new_context(java_script_enabled=False, locale="ja-JP")
    page = await context.new_page()
    await page.goto(f"{site.base}/t/{thread_id}")
    await expect(page.locator("h1")).to_have_text("全国フォーラム ライブQ&A")
    await expect(page.locator("article.post")).to_have_count(1)
    await context.close()


@pytest.mark.parametrize(
    "path", ["/", "/boards", "/b/kankei", "/t/{thread}", "/login", "/register"]
)
async def test_pages_have_no_serious_accessibility_violations(
    browser: Browser, site: Site, path: str
) -> None:
    _admin, thread_id = await setup_thread(site)
    page = await browser.new_page(locale="ja-JP")
    await page.goto(site.base + path.format(thread=thread_id))
    results = await Axe().run(page)
    serious = [
        (v["id"], v["impact"])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []


async def test_a_live_post_shows_the_staff_badge_a_reload_shows(
    browser: Browser, site: Site
) -> None:
    admin, thread_id = await setup_thread(site)
    page = await open_thread(browser, site, thread_id)
    made = await post(site, admin, thread_id, "運営からのお知らせです")
    badge = page.locator(f"#post-{made['id']} .post-meta .badge")
    await expect(badge).to_have_text("管理者", timeout=5_000)
    live = await badge.all_text_contents()
    await page.reload()
    assert await page.locator(f"#post-{made['id']} .post-meta .badge").all_text_contents() == live
