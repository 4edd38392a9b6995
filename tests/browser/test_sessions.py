"""The programme in a real browser: calendar and session page, live state without reload, axe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, ViewportSize, expect

from forum import accounts
from forum.models import Role
from live import transitions
from tests.browser.conftest import Site
from tests.conftest import make_member
from tests.live.support import new_session
from tests.moderation.support import board_staff, new_board

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

WAIT = 10_000
TABLET: ViewportSize = {"width": 820, "height": 1180}


async def _programme(site: Site) -> dict[str, Any]:
    admin = await make_member(username="admin-sato", role=Role.ADMIN)
    await new_board(site.api, admin, "kankei")
    organiser = await board_staff(site.api, admin, "kankei", username="org-kankei")
    await make_member(username="expert-ito", role=Role.EXPERT, organisation="架空大学")
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)
    return await new_session(site.api, organiser, starts_at=soon, experts=["expert-ito"])


async def _serious(page: Page) -> list[tuple[str, str, list[Any]]]:
    results = await Axe().run(page)
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


async def test_the_calendar_and_the_session_page_have_no_serious_accessibility_violations(
    browser: Browser, site: Site
) -> None:
    session = await _programme(site)
    page = await browser.new_page(locale="ja-JP", viewport=TABLET)
    await page.goto(f"{site.base}/sessions")
    await expect(page.locator("h1")).to_have_text("プログラム")
    await expect(page.locator("#sessions-upcoming")).to_contain_text(session["title"])
    assert await _serious(page) == []
    await page.goto(f"{site.base}/sessions/{session['id']}")
    await expect(page.locator("h1")).to_have_text(session["title"])
    await expect(page.locator(".qr svg")).to_be_visible()
    await expect(page.locator(".expert-list")).to_contain_text("架空大学")
    assert await _serious(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]


async def test_a_session_going_live_by_the_clock_shows_on_an_open_page_without_reload(
    browser: Browser, site: Site
) -> None:
    session = await _programme(site)
    page = await browser.new_page(locale="ja-JP")
    await page.goto(f"{site.base}/sessions/{session['id']}")
    await expect(page.locator("#session-state")).to_have_text("開催予定")
    await page.evaluate("window.koryuStayed = true")
    await page.wait_for_timeout(500)  # the socket subscribes
    moved = await transitions.tick(datetime.fromisoformat(session["starts_at"]))
    assert [m.after.value for m in moved] == ["live"]
    await expect(page.locator("#session-state")).to_have_text("開催中", timeout=WAIT)
    assert await page.evaluate("window.koryuStayed === true")


async def test_a_moderator_reads_the_sessions_figures_and_chart_with_no_serious_violations(
    browser: Browser, site: Site
) -> None:
    session = await _programme(site)
    organiser = await make_member(username="org-2", role=Role.MODERATOR)
    started = await site.api.post(
        f"/api/v1/sessions/{session['id']}/start", headers=organiser.headers
    )
    assert started.status_code == 200, started.text
    asker = await make_member(username="asker")
    asked = await site.api.post(
        f"/api/v1/threads/{session['thread']['id']}/posts",
        json={"body": "質問です", "kind": "question"},
        headers=asker.headers,
    )
    assert asked.json()["status"] == "pending"
    context = await browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    raw, _login = await accounts.start_session(organiser.user, days=1)
    await context.add_cookies([{"name": "koryu_session", "value": raw, "url": site.base}])
    page = await context.new_page()
    await page.goto(f"{site.base}/sessions/{session['id']}")
    await expect(page.locator("#metric-waiting")).to_have_text("1件")
    await expect(page.locator("#metrics-chart")).to_be_visible()
    await page.locator(".session-metrics summary").click()
    await expect(page.locator(".session-metrics table tbody tr").first).to_be_visible()
    assert await _serious(page) == []
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    await context.close()
