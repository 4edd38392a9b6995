"""A session hands out files: sent with its form, shown on its page, readable as its thread."""

from __future__ import annotations

import re

import httpx2

from live.models import LiveSession
from tests.conftest import Member
from tests.forum.support import log_in, token_for
from tests.live.support import setup_board
from tests.uploads import samples

FIELDS = {
    "title": "研修会 関係人口の入口づくり",
    "kind": "training",
    "board": "kankei",
    "starts_at": "2030-01-10T13:00",
    "ends_at": "2030-01-10T15:00",
    "venue": "オンライン",
    "url": "",
    "parent": "",
    "description": "資料を事前にお読みください。",
    "experts": "",
    "moderators": "",
    "premoderate": "1",
    "slow_mode_seconds": "30",
}


async def test_an_organiser_hands_out_slides_with_the_session_form(
    client: httpx2.AsyncClient, admin: Member, bob: Member
) -> None:
    await setup_board(client, admin)
    await log_in(client, "org-kankei")
    token = await token_for(client, "/sessions/new")
    form = await client.get("/sessions/new")
    assert 'enctype="multipart/form-data"' in form.text and "配布資料" in form.text
    created = await client.post(
        "/sessions/new",
        data={**FIELDS, "csrf_token": token},
        files=[("files", ("スライド.pptx", samples.office("pptx"), "application/octet-stream"))],
    )
    assert created.status_code == 303, created.text
    session = await LiveSession.get(title=FIELDS["title"])
    page = await client.get(f"/sessions/{session.id}")
    link = re.search(r'<a href="(/files/[^"]+)" download="スライド.pptx"', page.text)
    assert link is not None, page.text
    client.cookies.clear()
    slides = await client.get(link.group(1), headers=bob.headers)
    assert slides.status_code == 200
    assert slides.headers["content-disposition"].startswith("attachment;")
    # Unticked on the edit form, the handout leaves the page.
    await log_in(client, "org-kankei")
    edit = await client.get(f"/sessions/{session.id}/edit")
    assert 'name="attachments"' in edit.text
    token = await token_for(client, f"/sessions/{session.id}/edit")
    saved = await client.post(f"/sessions/{session.id}/edit", data={**FIELDS, "csrf_token": token})
    assert saved.status_code == 303, saved.text
    page = await client.get(f"/sessions/{session.id}")
    assert "スライド.pptx" not in page.text
