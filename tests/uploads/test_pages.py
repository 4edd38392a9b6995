"""The product: the reply form sends files without JavaScript; posts show images and cards."""

from __future__ import annotations

import re

import httpx2

from tests.conftest import Member
from tests.forum.support import log_in, token_for
from tests.moderation.support import new_board, new_thread
from tests.uploads import samples
from tests.uploads.support import uploaded


async def test_a_reply_form_sends_its_files_without_javascript_and_the_page_shows_them(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    await log_in(client, "alice")
    token = await token_for(client, f"/t/{thread_id}")
    page = await client.get(f"/t/{thread_id}")
    assert 'enctype="multipart/form-data"' in page.text
    assert 'type="file"' in page.text and 'name="files"' in page.text
    response = await client.post(
        f"/t/{thread_id}/reply",
        data={"body": "現地の写真と報告書です", "csrf_token": token},
        files=[
            ("files", ("現地.png", samples.image("PNG"), "image/png")),
            ("files", ("報告書.pdf", samples.PDF, "application/pdf")),
        ],
    )
    assert response.status_code == 303, response.text
    page = await client.get(f"/t/{thread_id}")
    assert 'class="attachment-image"' in page.text
    assert re.search(r'<img src="/files/[A-Za-z0-9_-]{43}/thumb" alt="現地.png"', page.text)
    card = re.search(r'<li class="attachment-card">(.*?)</li>', page.text, re.S)
    assert card is not None
    assert "報告書.pdf" in card.group(1) and "PDF" in card.group(1) and "Bytes" in card.group(1)
    assert '<script type="module" src="/static/attachments.js">' in page.text


async def test_a_refused_file_sends_the_form_back_with_the_reason_and_keeps_the_text(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    await log_in(client, "alice")
    token = await token_for(client, f"/t/{thread_id}")
    response = await client.post(
        f"/t/{thread_id}/reply",
        data={"body": "この図を見てください", "csrf_token": token},
        files=[("files", ("図.svg", samples.SVG, "image/svg+xml"))],
    )
    assert response.status_code == 422
    assert "この図を見てください" in response.text
    assert "図.svg" in response.text and "添付できません" in response.text


async def test_ids_uploaded_by_the_editor_script_are_attached_from_hidden_fields(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    photo = await uploaded(client, alice, "drop.webp", samples.image("WEBP"))
    await log_in(client, "alice")
    token = await token_for(client, f"/t/{thread_id}")
    response = await client.post(
        f"/t/{thread_id}/reply",
        data={"body": "ドラッグで添付", "csrf_token": token, "attachments": str(photo["id"])},
    )
    assert response.status_code == 303, response.text
    posts = (await client.get(f"/api/v1/threads/{thread_id}/posts")).json()["items"]
    assert posts[-1]["attachments"][0]["id"] == photo["id"]


async def test_the_moderation_queue_page_shows_a_held_posts_files(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    report = await uploaded(client, alice, "申請書.pdf", samples.PDF)
    held = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "確認をお願いします", "attachments": [report["id"]]},
        headers=alice.headers,
    )
    assert held.json()["status"] == "pending"
    await log_in(client, "admin-sato")
    page = await client.get("/moderation")
    assert page.status_code == 200
    assert f'<a href="{report["url"]}" download="申請書.pdf">' in page.text
    assert (await client.get(report["url"])).status_code == 200
