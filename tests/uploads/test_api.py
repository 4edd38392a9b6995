"""POST /api/v1/uploads: what is taken, what is refused and why, on both stores."""

from __future__ import annotations

import io

import httpx2
import pytest
from PIL import Image

from tests.conftest import Member
from tests.uploads import samples
from tests.uploads.support import upload, uploaded

ACCEPTED = [
    ("photo.jpg", lambda: samples.image("JPEG"), "image/jpeg", "image"),
    ("map.png", lambda: samples.image("PNG"), "image/png", "image"),
    ("anim.gif", lambda: samples.image("GIF"), "image/gif", "image"),
    ("scene.webp", lambda: samples.image("WEBP"), "image/webp", "image"),
    ("report.pdf", lambda: samples.PDF, "application/pdf", "document"),
    (
        "計画書.docx",
        lambda: samples.office("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "document",
    ),
    (
        "予算.xlsx",
        lambda: samples.office("xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "document",
    ),
    (
        "発表.pptx",
        lambda: samples.office("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "document",
    ),
]


@pytest.mark.parametrize(("name", "make", "content_type", "kind"), ACCEPTED)
async def test_each_accepted_type_is_stored_and_served_back(
    client: httpx2.AsyncClient, alice: Member, name: str, make: object, content_type: str, kind: str
) -> None:
    assert callable(make)
    data = make()
    body = await uploaded(client, alice, name, data)
    assert body["name"] == name
    assert body["type"] == content_type
    assert body["kind"] == kind
    assert body["url"].startswith("/files/")
    served = await client.get(body["url"], headers=alice.headers)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith(content_type)
    assert int(served.headers["content-length"]) == body["size"] == len(served.content)
    if kind == "document":
        assert served.content == data
        assert body["thumbnail_url"] is None
    else:
        thumb = await client.get(body["thumbnail_url"], headers=alice.headers)
        assert thumb.status_code == 200
        small = Image.open(io.BytesIO(thumb.content))
        assert max(small.size) <= 320
        assert (body["width"], body["height"]) == Image.open(io.BytesIO(served.content)).size


REFUSED = [
    ("empty.pdf", b"", 422, "empty_file"),
    ("picture.pdf", samples.image("PNG"), 422, "type_mismatch"),
    ("huge.png", samples.png_bomb(), 422, "decompression_bomb"),
    ("cut.png", samples.truncated_png(), 422, "corrupt_file"),
    ("both.png", samples.png_with_zip(), 422, "polyglot"),
    ("gifar.gif", samples.gif_with_script(), 422, "polyglot"),
    ("drawing.svg", samples.SVG, 422, "unsupported_type"),
    ("drawing.png", samples.SVG, 422, "unsupported_type"),
    ("page.html", samples.HTML, 422, "unsupported_type"),
    ("macro.docx", samples.office("docx", macro=True), 422, "macro_document"),
    ("bomb.docx", samples.office("docx", bomb=True), 422, "decompression_bomb"),
    ("notes.txt", b"just some text\n", 422, "unsupported_type"),
    ("ev\x00il.png", samples.image("PNG", (8, 8)), 422, "bad_name"),
]


async def test_a_raw_nul_in_the_multipart_file_name_is_refused(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    # Built by hand: clients escape the NUL, a crafted request need not.
    boundary = "koryu-boundary"
    body = (
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="evil.png\x00.pdf"\r\n'
        + b"Content-Type: image/png\r\n\r\n"
        + samples.image("PNG", (8, 8))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await client.post(
        "/api/v1/uploads",
        content=body,
        headers={**alice.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "bad_name"


@pytest.mark.parametrize(("name", "data", "status", "code"), REFUSED)
async def test_each_refused_file_gets_its_status_and_code(
    client: httpx2.AsyncClient, alice: Member, name: str, data: bytes, status: int, code: str
) -> None:
    response = await upload(client, alice, name, data)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_name_with_a_path_keeps_only_its_last_part(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    body = await uploaded(client, alice, "../../etc/passwd.pdf", samples.PDF)
    assert body["name"] == "passwd.pdf"
    body = await uploaded(client, alice, "C:\\Users\\sato\\資料.pdf", samples.PDF)
    assert body["name"] == "資料.pdf"
    assert ".." not in body["url"]


async def test_gps_and_every_other_exif_tag_are_gone_after_upload(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    original = samples.jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the sample has GPS
    body = await uploaded(client, alice, "home.jpg", original)
    for url in (body["url"], body["thumbnail_url"]):
        served = (await client.get(url, headers=alice.headers)).content
        assert not Image.open(io.BytesIO(served)).getexif()
        assert b"Exif" not in served and b"KoryuCam" not in served


async def test_documents_download_and_images_show_with_safe_headers(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    document = await uploaded(client, alice, "報告書.pdf", samples.PDF)
    picture = await uploaded(client, alice, "photo.png", samples.image("PNG"))
    served = await client.get(document["url"], headers=alice.headers)
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.pdf" in disposition
    shown = await client.get(picture["url"], headers=alice.headers)
    assert shown.headers["content-disposition"].startswith("inline;")
    for response in (served, shown):
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = response.headers["content-security-policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy
        assert response.headers["cache-control"].startswith("private")


async def test_the_file_url_cannot_be_guessed_from_the_id(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    first = await uploaded(client, alice, "a.pdf", samples.PDF)
    second = await uploaded(client, alice, "b.pdf", samples.PDF)
    key = first["url"].removeprefix("/files/")
    assert len(key) >= 43 and key != str(first["id"])
    assert first["url"] != second["url"]
    assert (await client.get("/files/" + "A" * 43, headers=alice.headers)).status_code == 404


async def test_a_file_over_the_limit_is_refused_with_413(
    client: httpx2.AsyncClient, alice: Member, app: object
) -> None:
    limits = app.state.upload_limits  # type: ignore[attr-defined]
    data = samples.PDF + b"0" * (limits.max_bytes + 10)
    response = await upload(client, alice, "big.pdf", data)
    assert response.status_code == 413
    assert response.json()["error"]["code"] in {"file_too_large", "payload_too_large"}


async def test_uploading_needs_a_login_and_a_file(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    anonymous = await client.post("/api/v1/uploads", files={"file": ("a.pdf", samples.PDF)})
    assert anonymous.status_code == 401
    nothing = await client.post(
        "/api/v1/uploads", files={"other": ("a.pdf", samples.PDF)}, headers=alice.headers
    )
    assert nothing.status_code == 422
    assert nothing.json()["error"]["code"] == "missing_file"
    json_body = await client.post("/api/v1/uploads", json={"file": "x"}, headers=alice.headers)
    assert json_body.status_code == 400
    assert json_body.json()["error"]["code"] == "bad_media_type"
