"""Every page type, as a new user would try it: in Japanese and English, at 1280×800 and
390×844, light and dark. axe finds nothing serious; each page is saved as a screenshot
(``KORYU_SCREENSHOT_DIR``, else a temporary directory); phones get 44 px targets and
cards instead of tables; the moderation queue shows at least four items per screen."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from forum import accounts
from forum.app import load_demo_content
from forum.models import Board, ModerationPolicy, Post, PostStatus, Thread, User
from live.models import LiveSession, SessionState
from tests.browser.conftest import Site
from tests.forum.test_page_wording import problems

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# (locale, viewport, colour scheme): both widths in each language, dark at both widths.
COMBINATIONS = [
    ("ja-JP", DESKTOP, "light"),
    ("ja-JP", PHONE, "light"),
    ("en-US", DESKTOP, "dark"),
    ("en-US", PHONE, "dark"),
]
# name: (path, who is signed in). {thread}, {post} and {board} are filled from the demo.
PAGES = {
    "home": ("/", None),
    "boards": ("/boards", None),
    "board": ("/b/{board}", "sato-town"),
    "thread": ("/t/{thread}", "ito-city"),
    "thread-anonymous": ("/t/{thread}", None),
    "post-edit": ("/t/{thread}/posts/{post}/edit", "sato-town"),
    "revisions": ("/posts/{post}/revisions", None),
    "new-thread": ("/b/{board}/new", "sato-town"),
    "profile": ("/u/sato-town", None),
    "settings": ("/settings", "sato-town"),
    "notifications": ("/notifications", "sato-town"),
    "search": ("/search?q=関係人口", None),
    "cases": ("/cases", None),
    "sessions": ("/sessions", None),
    "login": ("/login", None),
    "register": ("/register", None),
    "queue": ("/moderation", "mod-tanaka"),
    "audit-log": ("/moderation/log", "mod-tanaka"),
    "admin": ("/admin", "jimukyoku"),
    "session": ("/sessions/{session}", None),
    "questions": ("/sessions/{session}/questions", "sato-town"),
    "console": ("/sessions/{session}/console", "expert-yamamoto"),
    "presenter": ("/sessions/{session}/presenter", None),
}


@dataclass
class Demo:
    site: Site
    ids: dict[str, object]
    shots: Path


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get("KORYU_SCREENSHOT_DIR") or tmp_path / "screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
async def demo(site: Site, shots: Path) -> AsyncIterator[Demo]:
    await load_demo_content()
    sato = await User.get(username="sato-town")
    thread = await Thread.filter(author_id=sato.id).order_by("id").first()
    assert thread is not None
    board = await Board.get(id=thread.board_id)  # type: ignore[attr-defined]
    post = await Post.filter(thread_id=thread.id, author_id=sato.id).order_by("id").first()
    assert post is not None
    token = await accounts.create_token(sato)
    edited = await site.api.patch(
        f"/api/v1/posts/{post.id}",
        json={"body": post.body + "\n\n追記：寄附者向けの報告会も開きました。"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert edited.status_code == 200, edited.text
    await hold_posts(site, board.slug, thread.id, token)
    # The live session with questions in every state (live/demo.py).
    live = await LiveSession.filter(state=SessionState.LIVE, thread__posts__kind="question").first()
    assert live is not None
    ids = {"thread": thread.id, "post": post.id, "board": board.slug, "session": live.id}
    yield Demo(site, ids, shots)


async def hold_posts(site: Site, slug: str, thread_id: int, token: str) -> None:
    """Seven replies waiting for a moderator, one of them approved: the queue and the audit
    log have something to show."""
    await Board.filter(slug=slug).update(moderation=ModerationPolicy.PREMODERATED)
    for n in range(7):
        body = f"承認待ちの返信 {n + 1}\n\n" + "地域の取り組みについての詳しい報告です。" * 8
        made = await site.api.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": body},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 201 and made.json()["status"] == "pending", made.text
    await Board.filter(slug=slug).update(moderation=ModerationPolicy.OPEN)
    admin = {
        "Authorization": f"Bearer {await accounts.create_token(await User.get(username='jimukyoku'))}"
    }
    item = (await site.api.get("/api/v1/moderation/queue", headers=admin)).json()["items"][0]
    approved = await site.api.post(
        f"/api/v1/moderation/items/{item['id']}/approve",
        json={"version": item["version"]},
        headers=admin,
    )
    assert approved.status_code == 200, approved.text


async def open_page(
    browser: Browser, demo: Demo, name: str, locale: str, viewport: ViewportSize, scheme: str
) -> tuple[BrowserContext, Page]:
    path, who = PAGES[name]
    context = await browser.new_context(
        locale=locale,
        viewport=viewport,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    if who is not None:
        user = await User.get(username=who)
        raw, _session = await accounts.start_session(user, days=1)
        await context.add_cookies([{"name": "koryu_session", "value": raw, "url": demo.site.base}])
    page = await context.new_page()
    response = await page.goto(demo.site.base + path.format(**demo.ids))
    assert response is not None and response.status == 200, (name, path)
    await page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("name", list(PAGES))
async def test_every_page_type_passes_axe_in_both_languages_widths_and_dark_mode(
    browser: Browser, demo: Demo, name: str
) -> None:
    found = []
    for locale, viewport, scheme in COMBINATIONS:
        context, page = await open_page(browser, demo, name, locale, viewport, scheme)
        try:
            results = await Axe().run(page)
            found += [
                (locale, viewport["width"], scheme, v["id"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]
                if v["impact"] in {"serious", "critical"}
            ]
            shot = demo.shots / f"{name}-{locale[:2]}-{viewport['width']}-{scheme}.png"
            await page.screenshot(path=str(shot), full_page=viewport is PHONE)
            assert shot.stat().st_size > 0
        finally:
            await context.close()
    assert found == []


@pytest.mark.parametrize(
    ("name", "locale"),
    [
        ("home", "en-US"),
        ("board", "ja-JP"),
        ("thread", "ja-JP"),
        ("thread", "en-US"),
        ("settings", "ja-JP"),
        ("audit-log", "en-US"),
        ("admin", "ja-JP"),
    ],
)
async def test_a_phone_never_scrolls_sideways_and_its_controls_are_44_px(
    browser: Browser, demo: Demo, name: str, locale: str
) -> None:
    context, page = await open_page(browser, demo, name, locale, PHONE, "light")
    try:
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        small = await page.evaluate(
            """() => [...document.querySelectorAll('main button, main .action, main .button,'
                + ' main .thread-tools a, .site-nav a')]
              .filter((n) => n.offsetParent !== null)
              .map((n) => [n.textContent.trim().slice(0, 20), n.getBoundingClientRect().height])
              .filter(([, h]) => h < 44)"""
        )
        assert small == []
    finally:
        await context.close()


async def test_a_phone_shows_admin_tables_as_cards_with_slugs_whole(
    browser: Browser, demo: Demo
) -> None:
    context, page = await open_page(browser, demo, "admin", "ja-JP", PHONE, "light")
    try:
        assert (
            await page.locator("main table tbody tr").first.evaluate(
                "(n) => getComputedStyle(n).display"
            )
            == "block"
        )
        heights = await page.eval_on_selector_all(
            "main td code", "(nodes) => nodes.map((n) => n.getClientRects().length)"
        )
        assert heights and set(heights) == {1}  # each slug on one line
    finally:
        await context.close()


async def test_the_prefecture_map_keeps_44_px_tiles_on_a_phone(
    browser: Browser, demo: Demo
) -> None:
    context, page = await open_page(browser, demo, "cases", "ja-JP", PHONE, "light")
    try:
        sizes = await page.eval_on_selector_all(
            ".case-map .tile rect", "(nodes) => nodes.map((n) => n.getBoundingClientRect().width)"
        )
        assert sizes and min(sizes) >= 44
    finally:
        await context.close()


async def test_the_moderation_queue_shows_at_least_four_items_per_screen(
    browser: Browser, demo: Demo
) -> None:
    assert await Post.filter(status=PostStatus.PENDING).count() >= 6
    context, page = await open_page(browser, demo, "queue", "ja-JP", DESKTOP, "light")
    try:
        heights = await page.eval_on_selector_all(
            ".mod-item", "(nodes) => nodes.map((n) => n.getBoundingClientRect().height)"
        )
        assert len(heights) >= 6
        assert max(heights) <= DESKTOP["height"] / 4, heights
    finally:
        await context.close()


async def test_a_phone_shows_the_audit_log_as_cards_with_the_date_on_one_line(
    browser: Browser, demo: Demo
) -> None:
    context, page = await open_page(browser, demo, "audit-log", "ja-JP", PHONE, "light")
    try:
        row = page.locator("main table tbody tr").first
        assert await row.evaluate("(n) => getComputedStyle(n).display") == "block"
        lines = await row.locator("td").first.evaluate(
            "(n) => { const r = document.createRange(); r.selectNodeContents(n);"
            " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"
        )
        assert lines == 1
    finally:
        await context.close()


async def test_a_queue_item_shows_its_whole_post_once_chosen_by_a_click(
    browser: Browser, demo: Demo
) -> None:
    context, page = await open_page(browser, demo, "queue", "ja-JP", DESKTOP, "light")
    try:
        item = page.locator(".mod-item").nth(1)
        body = item.locator(".mod-post")
        clamped = await body.evaluate("(n) => n.getBoundingClientRect().height")
        await body.click()
        await expect(item).to_have_class(re.compile(r"\bis-current\b"))
        opened = await body.evaluate("(n) => n.getBoundingClientRect().height")
        assert opened > clamped
    finally:
        await context.close()


# What a reader meets in the rendered page, scripts' text included: the text and the
# attributes that are shown or read aloud.
READ_TEXT = """() => {
  const said = [...document.querySelectorAll("[title], [aria-label], [placeholder], img[alt]")]
    .map((e) => [e.title, e.getAttribute("aria-label"), e.placeholder, e.alt].filter(Boolean).join(" "));
  return document.body.innerText + " " + said.join(" ");
}"""


@pytest.mark.parametrize("name", list(PAGES))
async def test_every_page_type_reads_as_japanese_once_its_scripts_have_run(
    browser: Browser, demo: Demo, name: str
) -> None:
    context, page = await open_page(browser, demo, name, "ja-JP", DESKTOP, "light")
    try:
        text = await page.evaluate(READ_TEXT)
    finally:
        await context.close()
    assert problems(text, japanese=True) == [], name
