"""A practice case has a cover photo and attached reports, sent with its form."""

from __future__ import annotations

import re

import httpx2

from forum.models import Role
from tests.conftest import Member, make_member
from tests.forum.support import log_in, token_for
from tests.uploads import samples
from tests.uploads.support import uploaded

FIELDS = {
    "title": "空き家を活用した移住体験住宅",
    "prefecture": "32",
    "municipality": "雲南市",
    "population_band": "20k_50k",
    "background": "空き家が増えている。",
    "actions": "体験住宅を整備した。",
    "results": "3年で20世帯が移住した。",
    "challenges": "改修費の確保。",
}


async def _expert(client: httpx2.AsyncClient) -> Member:
    expert = await make_member(username="expert-mori", role=Role.EXPERT)
    await log_in(client, "expert-mori")
    return expert


async def test_a_case_is_written_with_a_cover_photo_and_reports_shown_to_everyone(
    client: httpx2.AsyncClient, bob: Member
) -> None:
    await _expert(client)
    token = await token_for(client, "/cases/new")
    form = await client.get("/cases/new")
    assert 'name="cover_file"' in form.text and 'enctype="multipart/form-data"' in form.text
    response = await client.post(
        "/cases/new",
        data={**FIELDS, "csrf_token": token},
        files=[
            ("cover_file", ("表紙.jpg", samples.jpeg_with_gps(), "image/jpeg")),
            ("files", ("報告書.pdf", samples.PDF, "application/pdf")),
            ("files", ("予算.xlsx", samples.office("xlsx"), "application/octet-stream")),
        ],
    )
    assert response.status_code == 303, response.text
    case_url = response.headers["location"]
    client.cookies.clear()
    page = await client.get(case_url)
    cover = re.search(
        r'<figure class="case-cover[^"]*"[^>]*>.*?<img src="(/files/[^"]+)"', page.text, re.S
    )
    assert cover is not None
    assert "報告書.pdf" in page.text and "予算.xlsx" in page.text
    # Cases are public: their files too, with the photo's position gone.
    photo = await client.get(cover.group(1))
    assert photo.status_code == 200 and b"Exif" not in photo.content
    report = re.search(r'<a href="(/files/[^"]+)" download="報告書.pdf"', page.text)
    assert report is not None
    assert (await client.get(report.group(1), headers=bob.headers)).status_code == 200


async def test_editing_a_case_keeps_ticked_files_and_drops_the_others(
    client: httpx2.AsyncClient,
) -> None:
    expert = await _expert(client)
    cover = await uploaded(client, expert, "cover.png", samples.image("PNG"))
    first = await uploaded(client, expert, "first.pdf", samples.PDF)
    second = await uploaded(client, expert, "second.pdf", samples.PDF)
    token = await token_for(client, "/cases/new")
    created = await client.post(
        "/cases/new",
        data={
            **FIELDS,
            "csrf_token": token,
            "cover": str(cover["id"]),
            "attachments": [str(first["id"]), str(second["id"])],
        },
    )
    assert created.status_code == 303, created.text
    case_url = created.headers["location"]
    edit = await client.get(f"{case_url}/edit")
    assert f'name="attachments" value="{first["id"]}" checked' in edit.text
    response = await client.post(
        f"{case_url}/edit",
        data={
            **FIELDS,
            "csrf_token": token,
            "cover": str(cover["id"]),
            "attachments": str(second["id"]),
        },
    )
    assert response.status_code == 303, response.text
    page = await client.get(case_url)
    assert "second.pdf" in page.text and "first.pdf" not in page.text
    client.cookies.clear()
    assert (await client.get(first["url"])).status_code == 404  # an orphan again: its owner's


async def test_a_cover_must_be_an_image(client: httpx2.AsyncClient) -> None:
    expert = await _expert(client)
    document = await uploaded(client, expert, "cover.pdf", samples.PDF)
    token = await token_for(client, "/cases/new")
    response = await client.post(
        "/cases/new", data={**FIELDS, "csrf_token": token, "cover": str(document["id"])}
    )
    assert response.status_code == 422
    assert "表紙には画像を選んでください。" in response.text
