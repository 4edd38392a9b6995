"""Pure ASGI middleware: security headers, body size limit, who is asking and in which language."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum import i18n
from forum.errors import NotAuthenticated, PayloadTooLarge
from forum.logins import LoginCache
from forum.permissions import ANONYMOUS
from forum.web.responses import error_response

__all__ = [
    "BodyLimitMiddleware",
    "IdentityMiddleware",
    "SecurityHeadersMiddleware",
    "set_session_cookie",
]

SESSION_COOKIE = "koryu_session"
ANON_CSRF_COOKIE = "koryu_csrf"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        policy = (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuse bodies over the limit, whether announced by Content-Length or streamed.

    A multipart body (a file attached) may be as large as ``multipart_bytes``: the form
    parser spools its files to disk as they arrive, so that limit costs disk, not memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, multipart_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_bytes = max(max_bytes, multipart_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        limit = self.multipart_bytes if media == "multipart/form-data" else self.max_bytes
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            # Raised here it would miss the exception handlers, which sit inside us.
            await error_response(scope, PayloadTooLarge(too_large_message()))(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(too_large_message())
            return message

        await self.app(scope, limited_receive, send)


def too_large_message() -> str:
    return i18n.gettext(
        "送信された内容が大きすぎます。内容を減らしてから、もう一度送信してください。"
    )


class IdentityMiddleware:
    """Resolve the user from a bearer token or the session cookie, and the page language.

    Logins come from ``logins`` (``forum.logins.LoginCache``, the app's, kept current by
    access events), so a request reads nothing from the database to learn who asks.
    """

    def __init__(
        self, app: ASGIApp, *, secure_cookies: bool = False, logins: LoginCache | None = None
    ) -> None:
        self.app = app
        self.cookie_flags = "; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure_cookies else ""
        )
        # Without the app's cache (a bare middleware in a test) every login is read afresh.
        self.logins = logins if logins is not None else LoginCache(max_entries=0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state.update(user=None, login_session=None, auth=None, session_cookie=None)
        actor = ANONYMOUS
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            try:
                login = await self.logins.token(authorization[7:].strip())
            except NotAuthenticated as exc:
                # An expired token is refused outright, so its owner learns why at once
                # instead of being served as a visitor. A WebSocket has no error body to
                # carry the code: like any unknown token, it goes on as a visitor's.
                if scope["type"] == "http":
                    await error_response(scope, exc)(scope, receive, send)
                    return
                login = None
            if login is not None:
                actor = login.actor
            state.update(user=actor.user, auth="bearer" if login else "invalid_bearer")
        else:
            raw = _cookie(headers, SESSION_COOKIE)
            if raw:
                login = await self.logins.session(raw)
                if login is not None:
                    actor = login.actor
                    state.update(
                        user=actor.user,
                        login_session=login.session,
                        auth="cookie",
                        session_cookie=raw,
                    )
        state["actor"] = actor
        user = actor.user
        state["anon_csrf"] = _cookie(headers, ANON_CSRF_COOKIE)
        # Only a page for a visitor hands out a CSRF cookie; a socket never does.
        fresh = not state["anon_csrf"] and user is None and scope["type"] == "http"
        state["new_anon_csrf"] = secrets.token_urlsafe(32) if fresh else ""
        chosen = _cookie(headers, "koryu_lang") or (user.locale if user else "")
        i18n.set_locale(i18n.negotiate(headers.get("accept-language"), chosen))
        if not fresh:
            await self.app(scope, receive, send)
            return
        cookie = f"{ANON_CSRF_COOKIE}={state['new_anon_csrf']}{self.cookie_flags}"

        async def send_with_cookie(message: Message) -> None:
            # Visitors get a CSRF cookie so the login and registration forms can be checked.
            if message["type"] == "http.response.start" and not scope["path"].startswith("/api/"):
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(headers: Headers, name: str) -> str:
    for chunk in headers.getlist("cookie"):
        for part in chunk.split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
    return ""


def set_session_cookie(response: Response, raw: str, *, days: int, secure: bool) -> None:
    """Hand the browser its (new) session id."""
    response.set_cookie(
        SESSION_COOKIE,
        raw,
        max_age=days * 86400,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
