"""Hostile input at every route of the route table: always a 4xx with a code, never a 500."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from forum.app import create_app
from forum.config import Settings
from forum.web.parsers import MAX_ID
from tests.conftest import PASSWORD, Member, make_member
from tests.forum.support import log_in, token_for

pytestmark = pytest.mark.asyncio

LONG_NAME = "a" * 41
PATH_VALUES = [LONG_NAME, "%00", "a%00b", str(MAX_ID + 1), str(2**63), "-1", "1.5", "0"]
QUERY_NAMES = [
    "limit",
    "after",
    "cursor",
    "board",
    "kind",
    "reason",
    "unread",
    "quote",
    "reply_to",
    "session",
    "chart",
    "sort",
    "state",
]
QUERY_VALUES = [
    str(MAX_ID + 1),
    str(2**63),
    "-1",
    "1.5",
    "1e-38",
    "1.175494351e-38",
    "%00",
    "x" * 200,
]
BODY_VALUES: list[Any] = ["\x00", "x" * 20_001, MAX_ID + 1, 2**63, -1, 1e-38, True, None, []]


def every_route(app: Starlette) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route, through the /api/v1 mount."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/api/v1":
            routes = [(r, "/api/v1") for r in route.routes]
        elif isinstance(route, Route):
            routes = [(route, "")]
        else:
            continue
        for inner, prefix in routes:
            assert isinstance(inner, Route)
            found += [(m, prefix + inner.path) for m in sorted(inner.methods or ()) if m != "HEAD"]
    return found


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


async def setting(client: httpx2.AsyncClient, admin: Member) -> dict[str, str]:
    """Real names and ids, so that one hostile part at a time reaches its parser."""
    board = {"slug": "hostile", "title": "入力検査"}
    assert (await client.post("/api/v1/boards", json=board, headers=admin.headers)).is_success
    thread = await client.post(
        "/api/v1/boards/hostile/threads",
        json={"title": "検査", "body": "本文"},
        headers=admin.headers,
    )
    assert thread.status_code == 201, thread.text
    created = thread.json()
    return {
        "id": str(created["thread"]["id"]),
        "post_id": str(created["post"]["id"]),
        "slug": "hostile",
        "username": admin.user.username,
    }


def assert_refused(response: httpx2.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:200]}"
    if response.status_code >= 400 and response.request.url.path.startswith("/api/"):
        assert response.json()["error"]["code"], what


async def test_hostile_path_segments_at_every_route_are_refused_without_a_server_error(
    client: httpx2.AsyncClient, app: Starlette, admin: Member
) -> None:
    real = await setting(client, admin)
    for method, template in every_route(app):
        for name in (n for n in real if "{" + n + "}" in template):
            for value in PATH_VALUES:
                path = fill(fill(template, {name: value}), real)
                response = await client.request(method, path, headers=admin.headers)
                assert_refused(response, f"{method} {path}")
                if response.status_code != 405:
                    assert response.status_code >= 400, f"{method} {path} answered"


async def test_hostile_query_parameters_at_every_get_route_are_refused_without_a_server_error(
    client: httpx2.AsyncClient, app: Starlette, admin: Member
) -> None:
    real = await setting(client, admin)
    for method, template in every_route(app):
        if method != "GET":
            continue
        path = fill(template, real)
        for name in QUERY_NAMES:
            for value in QUERY_VALUES:
                response = await client.get(f"{path}?{name}={value}", headers=admin.headers)
                assert_refused(response, f"GET {path}?{name}={value}")
            response = await client.get(f"{path}?{name}=1&{name}=2", headers=admin.headers)
            assert_refused(response, f"GET {path}?{name}=1&{name}=2")


async def test_hostile_json_fields_at_every_api_route_are_refused_with_a_code(
    client: httpx2.AsyncClient, app: Starlette, admin: Member
) -> None:
    real = await setting(client, admin)
    document = (await client.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            # A multipart body (an upload) is sent JSON here too: refused for its media type.
            content = next(iter(body["content"].values()))
            name = content["schema"]["$ref"].rsplit("/", 1)[-1]
            url = fill(path, real)
            for field in [*schemas[name]["properties"], "unknown_field"]:
                for value in BODY_VALUES:
                    response = await client.request(
                        method, url, json={field: value}, headers=admin.headers
                    )
                    assert_refused(response, f"{method} {url} {field}={value!r:.40}")
                    if value == "\x00" or field == "unknown_field":
                        assert response.status_code >= 400, f"{method} {url} {field}"


@pytest.mark.parametrize("value", [str(MAX_ID + 1), str(2**63), "-1", "1.0", "1e3", " 1", "+1"])
async def test_an_id_the_columns_cannot_hold_is_a_page_that_does_not_exist(
    client: httpx2.AsyncClient, value: str
) -> None:
    for path in (f"/api/v1/threads/{value}", f"/api/v1/posts/{value}", f"/t/{value}"):
        response = await client.get(path)
        assert response.status_code == 404, path


async def test_an_over_long_username_or_slug_in_a_lookup_is_a_404(
    client: httpx2.AsyncClient,
) -> None:
    for path in (f"/u/{'a' * 33}", f"/api/v1/users/{'a' * 33}", f"/b/{'a' * 41}", "/u/a%00b"):
        assert (await client.get(path)).status_code == 404, path


async def test_query_integers_and_booleans_are_strict_and_given_once(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    real = await setting(client, admin)
    posts = f"/api/v1/threads/{real['id']}/posts"
    for query in ("limit=1&limit=2", "limit=1.0", "limit=%2B1", f"after={MAX_ID + 1}"):
        response = await client.get(f"{posts}?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["code"] == "bad_query"
    for query in ("unread=1.175494351e-38", "unread=yes", "unread=1&unread=0"):
        response = await client.get(f"/api/v1/notifications?{query}", headers=admin.headers)
        assert response.status_code == 400, query
    assert (await client.get("/api/v1/notifications?unread=1", headers=admin.headers)).is_success


async def test_a_required_body_is_required_and_an_optional_one_may_be_left_out(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    real = await setting(client, admin)
    missing = await client.post(f"/api/v1/threads/{real['id']}/posts", headers=admin.headers)
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "bad_media_type"
    read = await client.post("/api/v1/notifications/read", headers=admin.headers)
    assert read.status_code == 200
    document = (await client.get("/api/openapi.json")).json()
    assert (
        document["paths"]["/api/v1/notifications/read"]["post"]["requestBody"]["required"] is False
    )
    assert document["paths"]["/api/v1/threads/{id}/posts"]["post"]["requestBody"]["required"]


async def test_a_thread_title_over_its_limit_and_unknown_fields_are_refused(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    real = await setting(client, admin)
    url = "/api/v1/boards/hostile/threads"
    long = await client.post(url, json={"title": "題" * 121, "body": "本文"}, headers=admin.headers)
    assert long.status_code == 422
    assert "title" in long.json()["error"]["fields"]
    patch = await client.patch(
        f"/api/v1/threads/{real['id']}", json={"board": "x"}, headers=admin.headers
    )
    assert patch.status_code == 422
    assert "board" in patch.json()["error"]["fields"]


async def test_a_wrong_method_answers_405_with_every_allowed_method(
    client: httpx2.AsyncClient,
) -> None:
    response = await client.put("/api/v1/tokens")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    page = await client.delete("/login")
    assert page.status_code == 405
    assert set(page.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_a_nul_byte_in_a_form_is_refused(client: httpx2.AsyncClient) -> None:
    token = await token_for(client, "/login")
    form = {"csrf_token": token, "username": "a\x00b", "password": "x"}
    response = await client.post("/login", data=form)
    assert response.status_code == 400


async def test_the_token_lifetime_the_schema_states_is_the_sites_setting(
    settings: Settings,
) -> None:
    app = create_app(replace(settings, token_days=7))
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            document = (await client.get("/api/openapi.json")).json()
            days = document["components"]["schemas"]["Credentials"]["properties"]["days"]
            assert days["maximum"] == 7
            await make_member(username="tanaka")
            asked = {"username": "tanaka", "password": PASSWORD}
            too_long = await client.post("/api/v1/tokens", json={**asked, "days": 8})
            assert too_long.status_code == 422
            assert "days" in too_long.json()["error"]["fields"]
            assert (await client.post("/api/v1/tokens", json={**asked, "days": 7})).is_success


async def test_a_board_position_past_the_column_range_is_a_form_error(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await log_in(client, admin.user.username)
    token = await token_for(client, "/admin")
    form = {"slug": "far", "title": "遠い", "position": "9" * 30, "csrf_token": token}
    response = await client.post("/admin/boards", data=form)
    assert response.status_code == 422


FORM_NAMES = [
    "username", "password", "display_name", "organisation", "affiliation", "title", "body",
    "slug", "description", "moderation", "position", "reply_to", "after", "kind", "hours",
    "reason", "note", "word", "action", "text", "role", "name", "days", "version", "board",
    "current_password", "new_password", "expert_field", "bio", "next", "lang", "up",
]  # fmt: skip
FORM_VALUES = ["a\x00b", "9" * 30, str(MAX_ID + 1), "-1", "x" * 20_001]


async def test_hostile_form_fields_at_every_page_route_are_refused_without_a_server_error(
    client: httpx2.AsyncClient, app: Starlette, admin: Member
) -> None:
    real = await setting(client, admin)
    await log_in(client, admin.user.username)
    token = await token_for(client, "/admin")
    for method, template in every_route(app):
        if method != "POST" or template.startswith("/api/") or template in ("/logout", "/login"):
            continue
        path = fill(template, real)
        for value in FORM_VALUES:
            form = {"csrf_token": token, **dict.fromkeys(FORM_NAMES, value)}
            response = await client.post(path, data=form)
            assert_refused(response, f"POST {path} {value!r:.20}")
