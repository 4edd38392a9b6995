"""Login, logout and registration pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import accounts
from forum.config import Settings
from forum.errors import NotAuthenticated, ValidationFailed
from forum.web.common import client_ip, rate_limit
from forum.web.forms import field, read_form, redirect, safe_next
from forum.web.middleware import SESSION_COOKIE
from forum.web.templating import render

__all__ = ["routes"]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _signed_in(request: Request, raw: str, next_path: str) -> Response:
    settings = _settings(request)
    response = redirect(safe_next(next_path))
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=settings.session_days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if request.state.user is not None:
        return redirect(next_path)
    return render(request, "forum/login.html", {"form": {"next": next_path}})


async def login(request: Request) -> Response:
    form = await read_form(request)
    username = field(form, "username").strip().lower()
    next_path = safe_next(field(form, "next"))
    rate_limit(request, "login_ip", client_ip(request))
    rate_limit(request, "login_account", username)
    try:
        user = await accounts.authenticate(username, field(form, "password"))
    except NotAuthenticated as exc:
        context = {"form": {"username": username, "next": next_path}, "failure": exc.message}
        return render(request, "forum/login.html", context, status_code=exc.status)
    if request.state.session_cookie:
        await accounts.end_session(request.state.session_cookie)
    raw, _session = await accounts.start_session(user, days=_settings(request).session_days)
    return _signed_in(request, raw, next_path)


async def logout(request: Request) -> Response:
    await read_form(request)
    raw = request.state.session_cookie
    if raw:
        await accounts.end_session(raw)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def register_form(request: Request) -> Response:
    closed = not _settings(request).registration_open
    return render(request, "forum/register.html", {"closed": closed})


async def register(request: Request) -> Response:
    form = await read_form(request)
    if not _settings(request).registration_open:
        return render(request, "forum/register.html", {"closed": True}, status_code=403)
    rate_limit(request, "register", client_ip(request))
    data = accounts.Registration(
        username=field(form, "username").strip(),
        password=field(form, "password"),
        display_name=field(form, "display_name"),
        affiliation=field(form, "affiliation") or "other",
        organisation=field(form, "organisation"),
    )
    try:
        user = await accounts.register(data)
    except ValidationFailed as exc:
        kept = {
            "username": data.username,
            "display_name": data.display_name,
            "affiliation": data.affiliation,
            "organisation": data.organisation,
        }
        context = {"closed": False, "form": kept, "errors": exc.fields}
        return render(request, "forum/register.html", context, status_code=422)
    raw, _session = await accounts.start_session(user, days=_settings(request).session_days)
    return _signed_in(request, raw, "/")


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_form, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/register", register_form, methods=["GET"], name="register"),
        Route("/register", register, methods=["POST"]),
    ]
