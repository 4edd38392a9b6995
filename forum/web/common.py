"""Request helpers for the thin HTTP layer: who is asking, CSRF, JSON bodies, rate limits."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.errors import BadRequest, Forbidden, NotAuthenticated, RateLimited, ValidationFailed
from forum.gate import Gatekeeper
from forum.i18n import gettext as _
from forum.models import User
from forum.permissions import Actor
from forum.ratelimit import RateLimiter
from forum.web.parsers import Body

__all__ = [
    "SAFE_METHODS",
    "Endpoint",
    "RegistrationAllowance",
    "actor_of",
    "api_route",
    "check_csrf",
    "client_ip",
    "csrf_token",
    "gate_of",
    "limit_registration",
    "limiter",
    "protect",
    "read_body",
    "read_json",
    "require_user",
    "text_field",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Endpoint = Callable[[Request], Awaitable[Response]]


def actor_of(request: Request) -> Actor:
    actor: Actor = request.state.actor
    return actor


def require_user(request: Request) -> User:
    user: User | None = request.state.user
    if user is None:
        if request.state.auth == "invalid_bearer":
            raise NotAuthenticated(
                _("このトークンは使えません。設定画面で新しいトークンを発行してください。"),
                code="invalid_token",
            )
        raise NotAuthenticated(_("ログインしてください。"))
    return user


def gate_of(request: Request) -> Gatekeeper:
    gate: Gatekeeper = request.app.state.gate
    return gate


def limiter(request: Request, name: str) -> RateLimiter:
    limiters: dict[str, RateLimiter] = request.app.state.limiters
    return limiters[name]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limit(request: Request, name: str, key: str) -> None:
    wait = limiter(request, name).hit(key)
    if wait is not None:
        raise RateLimited(
            _(
                "短い時間に同じ操作が続いたため、いったん受け付けを止めています。しばらく待ってからもう一度お試しください。"
            ),
            retry_after=wait,
        )


@dataclass(frozen=True, slots=True)
class RegistrationAllowance:
    """Sign-ups counted against a key of their own instead of the client's address.

    A session's join link carries one (``key="session:42"``, ``per_hour`` set by its
    organiser): a hall of participants behind one NAT'd address registers through the link
    without raising ``KORYU_REGISTRATIONS_PER_HOUR_PER_IP`` for the whole site.
    """

    key: str
    per_hour: int


def limit_registration(request: Request, allowance: RegistrationAllowance | None = None) -> None:
    """Count one sign-up: against ``allowance`` when a join link gives one, else the address."""
    if allowance is None:
        rate_limit(request, "register", client_ip(request))
        return
    wait = limiter(request, "register_allowance").hit(allowance.key, limit=allowance.per_hour)
    if wait is not None:
        raise RateLimited(
            _(
                "この参加リンクからの登録が上限に達しました。しばらく待ってからもう一度お試しください。"
            ),
            retry_after=wait,
        )


def csrf_token(request: Request) -> str:
    """The token forms and scripts must send back: the session's, or the visitor cookie's."""
    session = request.state.login_session
    if session is not None:
        return str(session.csrf_token)
    return str(request.state.anon_csrf or request.state.new_anon_csrf)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = ""
    if request.state.auth == "cookie":
        expected = request.state.login_session.csrf_token
    elif request.state.anon_csrf:
        expected = request.state.anon_csrf
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise Forbidden(
            _("フォームの有効期限が切れました。ページを再読み込みしてからもう一度お試しください。"),
            code="csrf_failed",
        )


def protect(endpoint: Endpoint) -> Endpoint:
    """API endpoints: cookie-authenticated unsafe requests must carry X-CSRF-Token."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if request.method not in SAFE_METHODS and request.state.auth == "cookie":
            check_csrf(request, request.headers.get("x-csrf-token"))
        return await endpoint(request)

    return guarded


def api_route(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
    """A route of API v1 (mounted under /api/v1), CSRF-protected as ``protect`` says."""
    return Route(path, protect(endpoint), methods=methods)


async def read_json(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(
            _("Content-Type は application/json にしてください。"), code="bad_media_type"
        )
    raw = await request.body()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(_("JSON として読めません。"), code="bad_json") from None
    if not isinstance(data, dict):
        raise BadRequest(_("JSON オブジェクトを送ってください。"), code="bad_json")
    return data


async def read_body(request: Request, spec: Body) -> dict[str, Any]:
    """A JSON body read by ``spec``: its fields and no others, each in its range.

    A body whose fields are all optional may be left out altogether, as the schema says.
    """
    if not spec.required and not await request.body():
        return {}
    return spec.parse(await read_json(request))


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name, None if required else "")
    if not isinstance(value, str):
        raise ValidationFailed(
            _("入力内容を確認してください。"), fields={name: _("文字列で指定してください。")}
        )
    return value
