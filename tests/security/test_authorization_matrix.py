"""Every route and every channel kind, as each kind of user, against tests/security/matrix.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx2
import pytest
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed

from forum import mailbox
from forum.app import create_app
from forum.config import Settings
from forum.events import ChannelKind
from tests.realtime.support import open_ws, recv, send, serve
from tests.security import matrix
from tests.security.requests import REQUESTS, Call
from tests.security.site import Person, Site, build_site

ORIGIN = "http://127.0.0.1:8000"


def _route_keys(routes: list[BaseRoute], prefix: str = "") -> Iterator[str]:
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from _route_keys(list(route.routes), prefix + route.path)
            else:  # a mounted app (static files): its own table, reached by GET
                yield f"GET {prefix}{route.path}"
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield f"{method} {prefix}{route.path}"
        elif not isinstance(route, WebSocketRoute):  # /ws: the CHANNELS table
            raise AssertionError(f"a route of an unknown kind: {route!r}")


def _routes_in_table() -> set[str]:
    return {key.partition(" @")[0] for key in matrix.HTTP}


def test_every_route_and_method_of_the_app_has_a_row_in_the_matrix() -> None:
    app = create_app(Settings(secret_key="matrix", password_hasher="fast"))
    routes = set(_route_keys(list(app.routes)))
    assert routes - _routes_in_table() == set(), "add these routes to tests/security/matrix.py"
    assert _routes_in_table() - routes == set(), "these rows name routes that no longer exist"


def test_every_channel_kind_has_a_row_in_the_matrix() -> None:
    kinds = {key.partition(" @")[0] for key in matrix.CHANNELS}
    assert kinds == {kind.value for kind in ChannelKind}


def test_every_row_has_a_request_and_seven_marks() -> None:
    assert set(REQUESTS) == set(matrix.HTTP)
    for key, marks in {**matrix.HTTP, **matrix.CHANNELS}.items():
        assert set(matrix.expected(marks)) == set(matrix.ROLES), key


def outcome(response: httpx2.Response) -> bool | None:
    """True allowed, False denied, None for an answer that is neither (a broken request)."""
    status = response.status_code
    if status in {301, 302, 303, 307, 308}:
        location = response.headers.get("location", "")
        refused = ("notice=not_found", "notice=forbidden")
        return not (location.startswith("/login") or any(r in location for r in refused))
    if 200 <= status < 300 or status in {409, 422}:
        return True
    if status in {401, 403, 404}:
        return False
    return None


async def _send(site: Site, person: Person, call: Call) -> httpx2.Response:
    who = call.person or person
    site.client.cookies.clear()  # each request carries exactly the person's own cookies
    if call.files is not None:
        return await site.client.request(
            call.method, call.path, files=call.files, headers=who.api_headers()
        )
    if call.api:
        return await site.client.request(
            call.method, call.path, json=call.json, headers=who.api_headers()
        )
    if call.method == "GET":
        return await site.client.get(call.path, headers=who.page_headers())
    form = {**(call.form or {}), "csrf_token": who.csrf}
    return await site.client.post(call.path, data=form, headers=who.page_headers())


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[tuple[Site, str]]:
    generous = replace(settings, posts_per_minute=10_000, registrations_per_hour_per_ip=1000)
    app = create_app(generous)
    # Mail on, as on a site that sends it: the links it signs and the reset form need it.
    mailbox.bind(mailbox.MailSite("http://testserver", settings.secret_key))
    try:
        async with serve(app) as url:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield await build_site(client, secret_key=settings.secret_key), url
    finally:
        mailbox.bind(None)


async def _subscribed(url: str, person: Person, channel: str) -> bool | None:
    headers = person.api_headers() or None
    ws = await open_ws(url, origin=ORIGIN, additional_headers=headers)
    try:
        await send(ws, {"type": "subscribe", "channel": channel})
        frame = await recv(ws)
    except ConnectionClosed:
        return False
    finally:
        await ws.close()
    if frame["type"] == "subscribed":
        return True
    if frame["type"] == "error" and frame.get("code") == "forbidden":
        return False
    return None


def _channel(site: Site, person: Person, key: str) -> str:
    ids = site.ids
    own = site.people["participant"] if person.member is None else person
    assert own.member is not None
    participant = site.people["participant"].member
    assert participant is not None
    return {
        "thread @here": f"thread:{ids['thread_here']}",
        "thread @closed": f"thread:{ids['thread_closed']}",
        "board @here": "board:here",
        "board @closed": "board:closed",
        "moderation @here": "moderation:here",
        "session @here": f"session:{ids['session_live']}",
        "session @closed": f"session:{ids['session_closed']}",
        # A visitor has no channel of their own: they try the participant's.
        "user @own": f"user:{own.member.user.id}",
        "user @participant": f"user:{participant.user.id}",
    }[key]


async def test_every_cell_of_the_matrix_holds_over_http_and_websocket(
    site: tuple[Site, str],
) -> None:
    forum, url = site
    wrong: list[str] = []
    for key, marks in matrix.HTTP.items():
        for role, allowed in matrix.expected(marks).items():
            person = forum.people[role]
            call = await REQUESTS[key](forum, person)
            response = await _send(forum, person, call)
            seen = outcome(response)
            if seen is not allowed:
                shown = "allowed" if seen else "denied" if seen is False else "broken"
                wrong.append(
                    f"{key} as {role}: {shown} ({response.status_code} "
                    f"{response.text[:120]!r}), the matrix says {'y' if allowed else 'n'}"
                )
    for key, marks in matrix.CHANNELS.items():
        for role, allowed in matrix.expected(marks).items():
            person = forum.people[role]
            seen = await _subscribed(url, person, _channel(forum, person, key))
            if seen is not allowed:
                wrong.append(f"subscribe {key} as {role}: {seen}, the matrix says {allowed}")
    assert not wrong, "\n".join(wrong)


async def test_lists_and_feeds_of_sessions_name_a_private_boards_sessions_only_to_its_readers(
    site: tuple[Site, str],
) -> None:
    forum, _url = site
    closed, public = forum.ids["session_closed"], forum.ids["session_live"]
    readers = matrix.expected(matrix.READERS_HERE)
    for role, person in forum.people.items():
        forum.client.cookies.clear()
        listed = await forum.client.get("/api/v1/sessions", headers=person.api_headers())
        shown = {item["id"] for item in listed.json()["items"]} if listed.is_success else set()
        feed = await forum.client.get("/sessions.ics", headers=person.page_headers())
        assert feed.status_code == 200
        if role != "suspended":  # a suspended user's token is refused: they list nothing
            assert public in shown, role
        assert f"session-{public}@" in feed.text, role
        assert (closed in shown) is readers[role], role
        assert (f"session-{closed}@" in feed.text) is readers[role], role


async def test_search_names_a_private_boards_threads_only_to_its_readers_and_held_posts_to_none(
    site: tuple[Site, str],
) -> None:
    forum, _url = site
    readers = matrix.expected(matrix.READERS_HERE)
    closed = forum.ids["thread_closed"]
    for role, person in forum.people.items():
        forum.client.cookies.clear()
        found = await forum.client.get(
            "/api/v1/search", params={"q": "はじめに"}, headers=person.api_headers()
        )
        threads = {hit["thread_id"] for hit in found.json()["items"]}
        assert forum.ids["thread_here"] in threads, role
        assert (closed in threads) is readers[role], role
        page = await forum.client.get(
            "/search", params={"q": "はじめに"}, headers=person.page_headers()
        )
        assert (f'href="/t/{closed}#' in page.text) is readers[role], role
        held = await forum.client.get(
            "/api/v1/search", params={"q": "承認待ち"}, headers=person.api_headers()
        )
        assert held.json()["items"] == [], role
