"""A post that arrives live is the post a reload shows: the same DOM apart from a marker,
its vote button and affiliation included; and the live page's state reads plainly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from forum import accounts
from forum.models import ReadPosition, Role
from tests.browser.conftest import Site
from tests.conftest import Member, make_member

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

# Elements as (tag, sorted attributes, trimmed text and children): whitespace between
# elements and the live marker (data-live) are not part of what a reader sees.
CANONICAL = """(node) => {
  const walk = (n) => {
    if (n.nodeType === Node.TEXT_NODE) {
      const text = n.textContent.trim();
      return text ? text : null;
    }
    if (n.nodeType !== Node.ELEMENT_NODE) return null;
    const attributes = [...n.attributes]
      .filter((a) => a.name !== "data-live")
      .map((a) => [a.name, a.value])
      .sort();
    const children = [...n.childNodes].map(walk).filter((c) => c !== null);
    return [n.tagName.toLowerCase(), attributes, children];
  };
  return JSON.stringify(walk(node));
}"""


async def signed_in(browser: Browser, site: Site, member: Member, path: str) -> Page:
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 800})
    raw, _session = await accounts.start_session(member.user, days=1)
    await context.add_cookies([{"name": "koryu_session", "value": raw, "url": site.base}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.set_default_timeout(10_000)
    await page.goto(site.base + path)
    await expect(page.locator(".live-state")).to_have_attribute("data-state", "live")
    assert errors == []
    return page


async def live_thread(site: Site) -> tuple[Member, Member, Member, int]:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    asker = await make_member(
        username="nagano-city", organisation="長野県 小海町 企画課", affiliation="municipality"
    )
    reader = await make_member(username="reader-ito", affiliation="citizen")
    board = {"slug": "kankei", "title": "関係人口の創出・拡大"}
    made = await site.api.post("/api/v1/boards", json=board, headers=admin.headers)
    assert made.status_code == 201
    created = await site.api.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "全国フォーラム ライブQ&A", "body": "質問をどうぞ。"},
        headers=admin.headers,
    )
    thread_id = int(created.json()["thread"]["id"])
    live = await site.api.patch(
        f"/api/v1/threads/{thread_id}", json={"live": True}, headers=admin.headers
    )
    assert live.status_code == 200, live.text
    return admin, asker, reader, thread_id


async def approve_all(site: Site, admin: Member) -> None:
    queue = (await site.api.get("/api/v1/moderation/queue", headers=admin.headers)).json()
    for item in queue["items"]:
        done = await site.api.post(
            f"/api/v1/moderation/items/{item['id']}/approve",
            json={"version": item["version"]},
            headers=admin.headers,
        )
        assert done.status_code == 200, done.text


async def ask(site: Site, member: Member, thread_id: int, body: str, **extra: Any) -> int:
    response = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": body, "kind": "question", **extra},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_live_question_is_the_same_dom_a_reload_shows_vote_button_and_affiliation(
    browser: Browser, site: Site
) -> None:
    admin, asker, reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, reader, f"/t/{thread_id}")
    question = await ask(site, asker, thread_id, "**関係人口**の数え方は？", reply_to=None)
    await approve_all(site, admin)
    arrived = page.locator(f"#post-{question}")
    await expect(arrived).to_have_attribute("data-live", "")
    await expect(arrived.locator("button.small-button")).to_contain_text("この質問に投票")
    await expect(arrived.locator(".affiliation")).to_contain_text("自治体")
    await expect(arrived.locator(".organisation")).to_have_text("長野県 小海町 企画課")
    live = await arrived.evaluate(CANONICAL)
    await page.reload()
    reloaded = page.locator(f"#post-{question}")
    await expect(reloaded).to_be_visible()
    assert await reloaded.get_attribute("data-live") is None
    assert await reloaded.evaluate(CANONICAL) == live


async def test_a_live_post_of_ones_own_and_an_edited_one_match_their_reload(
    browser: Browser, site: Site
) -> None:
    admin, asker, _reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, asker, f"/t/{thread_id}")
    reply = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "現地からの報告です", "reply_to": None},
        headers=admin.headers,
    )
    assert reply.status_code == 201
    await approve_all(site, admin)
    post_id = int(reply.json()["id"])
    edited = await site.api.patch(
        f"/api/v1/posts/{post_id}",
        json={"body": "現地からの報告です（追記）"},
        headers=admin.headers,
    )
    assert edited.status_code == 200
    arrived = page.locator(f"#post-{post_id}")
    await expect(arrived.locator(".edited")).to_be_visible()
    live = await arrived.evaluate(CANONICAL)
    await page.reload()
    assert await page.locator(f"#post-{post_id}").evaluate(CANONICAL) == live


async def test_the_authors_pending_badge_clears_live_when_the_question_is_approved(
    browser: Browser, site: Site
) -> None:
    admin, asker, _reader, thread_id = await live_thread(site)
    question = await ask(site, asker, thread_id, "承認を待つ質問です")
    page = await signed_in(browser, site, asker, f"/t/{thread_id}")
    badge = page.locator(f"#post-{question} .badge-pending")
    await expect(badge).to_have_text("承認待ち")
    await approve_all(site, admin)
    await expect(badge).to_have_count(0)
    await expect(page.locator(f"#post-{question}")).not_to_have_class("post post-pending")


async def test_the_new_posts_pill_shows_only_for_posts_off_screen(
    browser: Browser, site: Site
) -> None:
    admin, _asker, reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, reader, f"/t/{thread_id}")
    first = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "短い投稿"}, headers=admin.headers
    )
    await expect(page.locator(f"#post-{first.json()['id']}")).to_be_in_viewport()
    assert await page.locator("button.new-posts").is_hidden()
    for n in range(6):
        made = await site.api.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": f"長い投稿 {n}\n\n" + "本文。" * 120},
            headers=admin.headers,
        )
        assert made.status_code == 201
    await expect(page.locator("button.new-posts")).to_be_visible()


async def test_viewers_show_as_text_unknown_while_reconnecting_and_the_banner_says_so(
    browser: Browser, site: Site
) -> None:
    _admin, _asker, reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, reader, f"/t/{thread_id}")
    viewers = page.locator(".live-state .live-viewers")
    await expect(viewers).to_have_text("1人が閲覧中")
    await page.evaluate("document.getElementById('live-status').textContent = '古いお知らせ'")
    await page.context.set_offline(True)
    await page.evaluate("window.dispatchEvent(new Event('offline'))")
    await expect(viewers).to_have_text("閲覧中の人数：不明")
    await page.context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(page.locator(".live-state")).to_have_attribute("data-state", "live")
    await expect(page.locator("#live-status")).to_have_text("")
    await expect(viewers).to_have_text("1人が閲覧中")


async def test_relative_times_match_the_server_and_show_jst_on_hover(
    browser: Browser, site: Site
) -> None:
    admin, _asker, reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, reader, f"/t/{thread_id}")
    made = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "時刻の確認"}, headers=admin.headers
    )
    stamp = page.locator(f"#post-{made.json()['id']} time")
    await expect(stamp).to_have_text("たった今")
    title = await stamp.get_attribute("title")
    assert title and title.startswith("20") and "年" in title and "月" in title
    await page.reload()
    assert await page.locator(f"#post-{made.json()['id']} time").get_attribute("title") == title


async def test_a_live_post_seen_on_screen_moves_the_read_position_by_one_beacon(
    browser: Browser, site: Site
) -> None:
    admin, _asker, reader, thread_id = await live_thread(site)
    page = await signed_in(browser, site, reader, f"/t/{thread_id}")
    beacons: list[str] = []
    page.on("request", lambda r: beacons.append(r.url) if r.url.endswith("/read") else None)
    made = []
    for n in range(3):
        response = await site.api.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": f"短い投稿 {n}"},
            headers=admin.headers,
        )
        made.append(int(response.json()["id"]))
        await expect(page.locator(f"#post-{made[-1]}")).to_have_count(1)
    # Those below the fold count as read once scrolled to.
    await page.locator(f"#post-{made[-1]}").scroll_into_view_if_needed()
    for _ in range(100):
        position = await ReadPosition.get_or_none(user_id=reader.user.id, thread_id=thread_id)
        if position is not None and position.last_read_post_id == made[-1]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the read position did not reach the last live post")
    assert len(beacons) == 1  # debounced: one for the three posts
