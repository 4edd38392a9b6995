"""Sign-ups per address are a setting; a join link may bring an allowance of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from forum.app import create_app
from forum.config import ConfigError, Settings
from forum.errors import ForumError
from forum.models import User
from forum.ratelimit import RateLimiter
from forum.web.common import RegistrationAllowance, limit_registration


def test_the_registration_limit_is_read_from_the_environment(tmp_path: Path) -> None:
    env = {"KORYU_DATA_DIR": str(tmp_path), "KORYU_REGISTRATIONS_PER_HOUR_PER_IP": "300"}
    assert Settings.from_env(env).registrations_per_hour_per_ip == 300
    assert Settings.from_env({"KORYU_DATA_DIR": str(tmp_path)}).registrations_per_hour_per_ip == 10
    with pytest.raises(ConfigError, match="KORYU_REGISTRATIONS_PER_HOUR_PER_IP"):
        Settings.from_env({**env, "KORYU_REGISTRATIONS_PER_HOUR_PER_IP": "0"})


@pytest.fixture
async def venue_client(settings: Settings) -> AsyncIterator[httpx2.AsyncClient]:
    application = create_app(replace(settings, registrations_per_hour_per_ip=12))
    async with application.router.lifespan_context(application):
        transport = httpx2.ASGITransport(app=application)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def _person(n: int) -> dict[str, str]:
    return {"username": f"sanka{n}", "password": "correct horse battery", "display_name": "参加者"}


async def test_one_address_registers_as_many_accounts_as_the_setting_allows_then_gets_429(
    venue_client: httpx2.AsyncClient,
) -> None:
    for n in range(12):
        response = await venue_client.post("/api/v1/users", json=_person(n))
        assert response.status_code == 201, response.text
    refused = await venue_client.post("/api/v1/users", json=_person(12))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert await User.filter(username__startswith="sanka").count() == 12


def _join_app() -> Starlette:
    """A join link as the sessions package will have one: its own key and allowance."""

    async def join(request: Request) -> Response:
        allowance = RegistrationAllowance(
            key=f"session:{request.path_params['session']}", per_hour=3
        )
        try:
            limit_registration(request, allowance)
        except ForumError as exc:
            return PlainTextResponse(exc.code, status_code=exc.status)
        return PlainTextResponse("ok")

    async def plain(request: Request) -> Response:
        try:
            limit_registration(request)
        except ForumError as exc:
            return PlainTextResponse(exc.code, status_code=exc.status)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/join/{session}", join), Route("/register", plain)])
    app.state.limiters = {
        "register": RateLimiter(1, 3600),
        "register_allowance": RateLimiter(1, 3600),
    }
    return app


async def test_a_join_links_allowance_is_counted_apart_from_the_address_and_per_link() -> None:
    transport = httpx2.ASGITransport(app=_join_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/register")).status_code == 200
        assert (await client.get("/register")).status_code == 429
        # The address is spent, yet the link lets its own three through, and no more.
        for _ in range(3):
            assert (await client.get("/join/7")).status_code == 200
        refused = await client.get("/join/7")
        assert (refused.status_code, refused.text) == (429, "rate_limited")
        # Another session's link has an allowance of its own.
        assert (await client.get("/join/8")).status_code == 200
