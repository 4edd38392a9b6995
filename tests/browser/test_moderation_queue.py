"""A moderator in a real browser: the queue in Japanese, its keys, live updates, tablets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from forum import accounts
from forum.models import Post, PostStatus, Role
from moderation.models import Decision, ItemState, QueueItem
from tests.browser.conftest import Site
from tests.conftest import Member, make_member
from tests.moderation.support import board_staff, new_board, new_thread, reply

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WAIT = 10_000
TABLET = {"width": 820, "height": 1180}
ERRORS: dict[Page, list[str]] = {}  # script errors and failed loads, per page


class Forum:
    """A premoderated board with its thread, an author and the staff who handle the queue."""

    def __init__(self, site: Site, admin: Member, author: Member, thread_id: int) -> None:
        self.site, self.admin, self.author, self.thread_id = site, admin, author, thread_id

    async def held(self, body: str) -> tuple[int, int]:
        """A reply that waits for approval: (post id, queue item id)."""
        post = await reply(self.site.api, self.author, self.thread_id, body)
        assert post["status"] == "pending", post
        item = await QueueItem.get(post_id=post["id"])
        return int(post["id"]), item.id


async def premoderated(site: Site) -> Forum:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    await new_board(site.api, admin, moderation="premoderated")
    created = await new_thread(site.api, admin, title="ふるさと納税の活用")
    author = await make_member(username="alice", display_name="田中 花子")
    return Forum(site, admin, author, int(created["thread"]["id"]))


async def moderator(site: Site, forum: Forum, username: str) -> Member:
    return await board_staff(site.api, forum.admin, "kankei", username=username)


async def signed_in(
    browser: Browser,
    site: Site,
    member: Member,
    *,
    javascript: bool = True,
    **options: Any,
) -> Page:
    """A page of its own browser context, signed in as the member, showing the queue."""
    context = await browser.new_context(locale="ja-JP", java_script_enabled=javascript, **options)
    raw, _session = await accounts.start_session(member.user, days=1)
    await context.add_cookies([{"name": "koryu_session", "value": raw, "url": site.base}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{message.text} {message.location['url']}")

    page.on("console", console)
    ERRORS[page] = errors
    await page.goto(f"{site.base}/moderation")
    await expect(page.locator("h1")).to_have_text("確認待ちの投稿")
    if javascript:
        # A mark that a reload or a navigation would wipe out.
        await page.evaluate("window.koryuStayed = true")
    return page


def no_script_errors(page: Page) -> None:
    assert ERRORS[page] == []


async def stayed(page: Page) -> bool:
    return bool(await page.evaluate("window.koryuStayed === true"))


def item(page: Page, item_id: int) -> Any:
    return page.locator(f"#item-{item_id}")


async def test_the_queue_lists_held_posts_in_japanese_with_size_oldest_age_and_chart(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    _first_post, first = await forum.held("**承認待ち**の返信です")
    _second_post, second = await forum.held("二件目の返信")
    stamp = datetime.now(UTC) - timedelta(minutes=90, seconds=20)
    await QueueItem.filter(id=first).update(created_at=stamp)
    mod = await moderator(site, forum, "mod-ito")
    page = await signed_in(browser, site, mod)
    assert await page.get_attribute("html", "lang") == "ja"
    await expect(page.locator("#mod-size")).to_have_text("2件")
    await expect(page.locator("#mod-oldest")).to_have_text("1時間30分")
    await expect(page.locator(".mod-chart svg[role=img]")).to_be_visible()
    await expect(page.locator(".mod-chart svg > title")).to_have_text("届いた件数と判断までの時間")
    await expect(page.locator(".mod-chart figcaption")).to_contain_text("直近24時間（1時間ごと）")
    await expect(page.locator(".mod-item")).to_have_count(2)
    await expect(item(page, first).locator(".badge-pending")).to_have_text("承認待ち")
    await expect(item(page, first).locator(".mod-post strong")).to_have_text("承認待ち")
    await expect(item(page, first)).to_contain_text("待ち時間：1時間30分")
    await expect(item(page, first)).to_contain_text("田中 花子")
    await expect(item(page, first).locator("button[data-key=a]")).to_contain_text("公開する")
    await expect(item(page, second)).to_contain_text("二件目の返信")
    await expect(page.locator("#mod-help")).to_contain_text("j / k で移動")
    no_script_errors(page)


async def test_j_and_k_move_the_selection_and_keep_focus_on_the_current_item(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    ids = [(await forum.held(f"返信 {n}"))[1] for n in range(3)]
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    current = page.locator(".mod-item.is-current")
    await page.keyboard.press("j")
    await expect(item(page, ids[0])).to_be_focused()
    await expect(current).to_have_attribute("id", f"item-{ids[0]}")
    await expect(item(page, ids[0])).to_have_attribute("aria-current", "true")
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await expect(item(page, ids[2])).to_be_focused()
    await page.keyboard.press("j")  # the last item stays selected
    await expect(item(page, ids[2])).to_be_focused()
    await page.keyboard.press("k")
    await expect(item(page, ids[1])).to_be_focused()
    await expect(current).to_have_count(1)
    await expect(current).to_have_attribute("id", f"item-{ids[1]}")
    await expect(item(page, ids[2])).not_to_have_attribute("aria-current", "true")
    # Keys typed into a field are text, not commands.
    await page.keyboard.press("r")
    await expect(page.locator(f"#template-{ids[1]}")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(item(page, ids[1])).to_be_focused()
    await expect(item(page, ids[1]).locator("details[data-key=r]")).not_to_have_attribute(
        "open", ""
    )
    assert await stayed(page)
    no_script_errors(page)


async def test_c_claims_and_another_moderators_page_shows_the_claim_live(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    _post_id, item_id = await forum.held("担当してください")
    ito = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    kato = await signed_in(browser, site, await moderator(site, forum, "mod-kato"))
    await expect(item(kato, item_id).locator("[data-claim]")).to_have_text("")
    await ito.keyboard.press("j")
    await ito.keyboard.press("c")
    await expect(item(ito, item_id).locator("[data-claim]")).to_have_text(
        "担当：mod-ito", timeout=WAIT
    )
    await expect(item(kato, item_id).locator("[data-claim]")).to_have_text(
        "担当：mod-ito", timeout=WAIT
    )
    stored = await QueueItem.get(id=item_id).prefetch_related("claimed_by")
    assert stored.claimed_by is not None and stored.claimed_by.username == "mod-ito"
    assert await stayed(ito) and await stayed(kato)
    # The claimer's forms carry the new version: a second key press is not refused as stale.
    await expect(item(ito, item_id)).to_be_focused()
    await ito.keyboard.press("a")
    await expect(item(ito, item_id)).to_have_count(0, timeout=WAIT)
    await expect(item(kato, item_id)).to_have_class(re.compile(r"\bis-decided\b"), timeout=WAIT)
    await expect(item(kato, item_id).locator("[data-claim]")).to_have_text("mod-itoさんが判断済み")
    await expect(item(kato, item_id).locator("button[data-key=a]")).to_be_disabled()
    no_script_errors(ito)
    no_script_errors(kato)


async def test_a_approves_in_place_and_a_reader_of_the_thread_sees_the_post_at_once(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    post_id, item_id = await forum.held("**専門家**への質問です")
    _later_post, later = await forum.held("もう一件")
    reader = await browser.new_page(locale="ja-JP")
    await reader.goto(f"{site.base}/t/{forum.thread_id}")
    await expect(reader.locator(".live-state")).to_have_attribute(
        "data-state", "live", timeout=WAIT
    )
    await expect(reader.locator(f"#post-{post_id}")).to_have_count(0)
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    await expect(page.locator("#mod-size")).to_have_text("2件")
    await page.keyboard.press("j")
    await page.keyboard.press("a")
    await expect(item(page, item_id)).to_have_count(0, timeout=WAIT)
    await expect(page.locator("#mod-live")).to_contain_text("投稿は公開中です")
    await expect(page.locator("#mod-size")).to_have_text("1件", timeout=WAIT)
    await expect(item(page, later)).to_be_focused()
    assert await stayed(page)
    article = reader.locator(f"#post-{post_id}")
    await expect(article).to_be_visible(timeout=WAIT)
    await expect(article.locator(".post-body strong")).to_have_text("専門家")
    assert (await Post.get(id=post_id)).status is PostStatus.PUBLISHED
    no_script_errors(page)


async def test_r_opens_the_reject_flow_with_the_japanese_templates_and_rejects(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    post_id, item_id = await forum.held("宣伝です https://example.com")
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    await page.keyboard.press("j")
    await page.keyboard.press("r")
    panel = item(page, item_id).locator("details[data-key=r]")
    await expect(panel).to_have_attribute("open", "")
    template = page.locator(f"#template-{item_id}")
    await expect(template).to_be_focused()
    await expect(panel.locator("summary")).to_contain_text("公開しない・修正を依頼する")
    await expect(template.locator("option")).to_contain_text(
        [
            "（選ばない）",
            "スパムと判断しました",
            "話題違いと判断しました（スレッドの話題と関係のない内容です）",
        ]
    )
    await template.select_option("スパムと判断しました")
    await page.locator(f"#reason-{item_id}").fill("リンクだけの投稿は控えてください。")
    await panel.get_by_role("button", name="公開しない", exact=True).click()
    await expect(item(page, item_id)).to_have_count(0, timeout=WAIT)
    await expect(page.locator("#mod-live")).to_contain_text("投稿は公開されません")
    await expect(page.locator("#mod-size")).to_have_text("0件", timeout=WAIT)
    await expect(page.locator(".mod-empty")).to_be_visible()
    stored = await QueueItem.get(id=item_id)
    assert (stored.state, stored.decision) == (ItemState.CLOSED, Decision.REJECTED)
    assert stored.decision_reason == "スパムと判断しました\nリンクだけの投稿は控えてください。"
    assert (await Post.get(id=post_id)).status is PostStatus.REJECTED
    assert await stayed(page)
    no_script_errors(page)


async def test_e_opens_editing_and_approves_the_edited_text(browser: Browser, site: Site) -> None:
    forum = await premoderated(site)
    post_id, item_id = await forum.held("電話番号は 090-0000-0000 です")
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    await page.keyboard.press("j")
    await page.keyboard.press("e")
    panel = item(page, item_id).locator("details[data-key=e]")
    await expect(panel).to_have_attribute("open", "")
    body = page.locator(f"#body-{item_id}")
    await expect(body).to_be_focused()
    await expect(body).to_have_value("電話番号は 090-0000-0000 です")
    await body.fill("電話番号は（削除しました）")
    await panel.get_by_role("button", name="編集して公開する").click()
    await expect(item(page, item_id)).to_have_count(0, timeout=WAIT)
    await expect(page.locator("#mod-live")).to_contain_text("投稿は公開中です")
    post = await Post.get(id=post_id)
    assert (post.status, post.body) == (PostStatus.PUBLISHED, "電話番号は（削除しました）")
    assert await stayed(page)
    no_script_errors(page)


async def test_a_new_held_post_appears_in_the_open_queue_without_reload(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    await expect(page.locator(".mod-empty")).to_have_text("確認待ちの投稿はありません。")
    await expect(page.locator("#mod-size")).to_have_text("0件")
    _post, first = await forum.held("開いている間に届いた返信")
    await expect(item(page, first)).to_be_visible(timeout=WAIT)
    await expect(item(page, first)).to_contain_text("開いている間に届いた返信")
    await expect(page.locator(".mod-empty")).to_be_hidden()
    await expect(page.locator("#mod-size")).to_have_text("1件", timeout=WAIT)
    _post, second = await forum.held("もう一件届きました")
    await expect(item(page, second)).to_be_visible(timeout=WAIT)
    await expect(page.locator("#mod-size")).to_have_text("2件", timeout=WAIT)
    ids = await page.eval_on_selector_all(".mod-item", "nodes => nodes.map(n => n.id)")
    assert ids == [f"item-{first}", f"item-{second}"]
    # The inserted items answer to the keys like the ones rendered with the page.
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    await expect(item(page, second)).to_be_focused()
    await page.keyboard.press("c")
    await expect(item(page, second).locator("[data-claim]")).to_have_text(
        "担当：mod-ito", timeout=WAIT
    )
    assert await stayed(page)
    no_script_errors(page)


async def test_without_javascript_the_forms_post_and_come_back_with_a_notice(
    browser: Browser, site: Site
) -> None:
    # tests/moderation/test_pages.py posts these forms over HTTP; this clicks the real markup.
    forum = await premoderated(site)
    post_id, item_id = await forum.held("スクリプトなしで確認")
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"), javascript=False)
    await item(page, item_id).get_by_role("button", name="担当する").click()
    await expect(page).to_have_url(f"{site.base}/moderation?notice=claimed#item-{item_id}")
    await expect(page.locator(".notice").first).to_have_text("担当しました。")
    await expect(item(page, item_id).locator("[data-claim]")).to_have_text("担当：mod-ito")
    panel = item(page, item_id).locator("details[data-key=r]")
    await panel.locator("summary").click()
    await page.locator(f"#template-{item_id}").select_option("スパムと判断しました")
    await panel.get_by_role("button", name="公開しない", exact=True).click()
    await expect(page).to_have_url(f"{site.base}/moderation?notice=rejected")
    await expect(page.locator(".notice").first).to_contain_text("投稿は公開されません")
    await expect(page.locator(".mod-item")).to_have_count(0)
    assert (await Post.get(id=post_id)).status is PostStatus.REJECTED


async def test_x_selects_and_shift_a_approves_the_selection_while_another_page_follows(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    ids = [(await forum.held(f"まとめて承認 {n}"))[1] for n in range(3)]
    ito = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    kato = await signed_in(browser, site, await moderator(site, forum, "mod-kato"))
    await ito.keyboard.press("j")
    await ito.keyboard.press("x")
    await ito.keyboard.press("j")
    await ito.keyboard.press("j")
    await ito.keyboard.press("x")
    await expect(ito.locator("#mod-selected")).to_have_text("2件を選択中")
    await expect(ito.locator("#mod-select-all")).to_have_js_property("indeterminate", True)
    await ito.keyboard.press("Shift+A")
    for chosen in (ids[0], ids[2]):
        await expect(item(ito, chosen)).to_have_count(0, timeout=WAIT)
        await expect(item(kato, chosen)).to_have_class(re.compile(r"\bis-decided\b"), timeout=WAIT)
        await expect(item(kato, chosen).locator("[data-select]")).to_be_disabled()
    await expect(ito.locator("#mod-live")).to_contain_text("2件を公開しました")
    await expect(ito.locator("#mod-selected")).to_have_text("")
    await expect(item(ito, ids[1])).to_be_visible()
    decided = await QueueItem.filter(decision=Decision.APPROVED).order_by("id")
    assert [row.id for row in decided] == [ids[0], ids[2]]
    assert await stayed(ito)
    # "Select all" on the other page takes only what is still open there.
    await kato.locator("#mod-select-all").check()
    await expect(kato.locator("#mod-selected")).to_have_text("1件を選択中")
    no_script_errors(ito)
    no_script_errors(kato)


async def test_the_queue_page_has_no_serious_accessibility_violations(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    _post, item_id = await forum.held("アクセシビリティの確認")
    page = await signed_in(browser, site, await moderator(site, forum, "mod-ito"))
    await page.keyboard.press("j")
    await page.keyboard.press("r")
    await expect(item(page, item_id).locator("details[data-key=r]")).to_have_attribute("open", "")
    results = await Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []


async def test_a_tablet_shows_the_queue_without_horizontal_scrolling(
    browser: Browser, site: Site
) -> None:
    forum = await premoderated(site)
    await forum.held("タブレットでの確認。" + "長い本文" * 80 + " https://example.com/" + "x" * 120)
    page = await signed_in(
        browser,
        site,
        await moderator(site, forum, "mod-ito"),
        viewport=TABLET,
        has_touch=True,
        is_mobile=True,
    )
    for panel in await page.locator(".mod-panel, .mod-chart-table").all():
        await panel.locator("summary").click()
    await expect(page.locator("details[open]")).to_have_count(4)  # e, r, the chart's table, bulk
    widths = await page.evaluate(
        "({page: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["page"] <= widths["view"], widths
    # Touch targets: the action buttons are at least 44 CSS pixels tall.
    for button in await page.locator(".mod-actions button").all():
        box = await button.bounding_box()
        assert box is not None and box["height"] >= 44, box
