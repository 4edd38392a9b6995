"""Attachments in a real browser: the lightbox by keyboard, and files on a live-arrived post."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser.conftest import Site
from tests.browser.test_live_thread import open_thread, setup_thread
from tests.conftest import Member
from tests.uploads import samples

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def _upload(site: Site, member: Member, name: str, data: bytes) -> dict[str, Any]:
    response = await site.api.post(
        "/api/v1/uploads", files={"file": (name, data)}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _post(site: Site, member: Member, thread_id: int, ids: list[int]) -> None:
    response = await site.api.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "現地の様子です", "attachments": ids},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text


async def test_the_lightbox_opens_moves_and_closes_by_keyboard(
    browser: Browser, site: Site
) -> None:
    admin, thread_id = await setup_thread(site)
    first = await _upload(site, admin, "一枚目.png", samples.image("PNG"))
    second = await _upload(site, admin, "二枚目.jpg", samples.image("JPEG"))
    await _post(site, admin, thread_id, [first["id"], second["id"]])
    page = await open_thread(browser, site, thread_id)
    opener = page.locator("a.attachment-image").first
    await opener.focus()
    await page.keyboard.press("Enter")
    dialog = page.locator("dialog.lightbox")
    await expect(dialog).to_be_visible()
    image = dialog.locator("img")
    await expect(image).to_have_attribute("alt", "一枚目.png")
    await page.keyboard.press("ArrowRight")
    await expect(image).to_have_attribute("alt", "二枚目.jpg")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()


async def test_a_live_post_shows_its_files_as_the_page_does(browser: Browser, site: Site) -> None:
    admin, thread_id = await setup_thread(site)
    page = await open_thread(browser, site, thread_id)
    report = await _upload(site, admin, "報告書.pdf", samples.PDF)
    photo = await _upload(site, admin, "写真.webp", samples.image("WEBP"))
    await _post(site, admin, thread_id, [photo["id"], report["id"]])
    card = page.locator(".attachment-card", has_text="報告書.pdf")
    await expect(card).to_be_visible(timeout=10_000)
    await expect(card.locator(".attachment-type")).to_have_text("PDF")
    thumb = page.locator('a.attachment-image img[alt="写真.webp"]')
    await expect(thumb).to_have_attribute("src", photo["thumbnail_url"])
