"""JSON API v1: parse, call an action, return. No domain logic here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import accounts, boards, posts, threads
from forum.config import Settings
from forum.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import ApiToken
from forum.resources import board_resource, iso, user_resource
from forum.web import inputs
from forum.web.common import (
    actor_of,
    api_route,
    client_ip,
    gate_of,
    limit_registration,
    rate_limit,
    read_json,
    require_user,
    text_field,
)
from forum.web.middleware import set_session_cookie
from forum.web.params import int_query, path_id
from forum.web.responses import JSON

__all__ = ["routes"]


# --- accounts -----------------------------------------------------------------------------


async def register(request: Request) -> Response:
    if not request.app.state.settings.registration_open:
        raise BadRequest(_("現在、新規登録を受け付けていません。"), code="registration_closed")
    limit_registration(request)
    data = await read_json(request)
    user = await accounts.register(
        accounts.Registration(
            username=text_field(data, "username"),
            password=text_field(data, "password"),
            display_name=text_field(data, "display_name"),
            affiliation=text_field(data, "affiliation", required=False) or "other",
            organisation=text_field(data, "organisation", required=False),
        )
    )
    return JSON(user_resource(user), status_code=201)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def token_resource(token: ApiToken) -> dict[str, Any]:
    """One's own token as listed: never the secret, only its first characters."""
    expires_at = accounts.token_expiry(token)
    return {
        "id": token.id,
        "name": token.name,
        "hint": token.hint,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "expires_at": iso(expires_at),
        "expired": expires_at <= datetime.now(UTC),
    }


async def create_token(request: Request) -> Response:
    data = await read_json(request)
    username = text_field(data, "username").strip().lower()
    password = text_field(data, "password")
    name = text_field(data, "name", required=False)
    days = _optional_int(data, "days")
    rate_limit(request, "login_ip", client_ip(request))
    rate_limit(request, "login_account", username)
    user = await accounts.authenticate(username, password)
    max_days = _settings(request).token_days
    issued = await accounts.issue_token(
        user, days=max_days if days is None else days, max_days=max_days, name=name
    )
    body = {
        "token": issued.secret,
        "user": user_resource(user),
        "api_token": token_resource(issued.token),
    }
    return JSON(body, status_code=201)


async def list_tokens(request: Request) -> Response:
    tokens = await accounts.list_tokens(require_user(request))
    return JSON({"items": [token_resource(t) for t in tokens], "next_cursor": None})


async def revoke_token(request: Request) -> Response:
    user = require_user(request)
    if not await accounts.revoke_token(user, path_id(request, "id")):
        raise NotFound(_("トークンが見つかりません。"))
    return Response(status_code=204)


async def change_password(request: Request) -> Response:
    user = require_user(request)
    data = await read_json(request)
    current, new = text_field(data, "current_password"), text_field(data, "new_password")
    rate_limit(request, "login_account", user.username)
    settings = _settings(request)
    changed = await accounts.change_password(
        user,
        current_password=current,
        new_password=new,
        session=request.state.login_session,
        session_days=settings.session_days,
    )
    response = JSON(
        {"sessions_ended": changed.sessions_ended, "tokens_revoked": changed.tokens_revoked}
    )
    if changed.session_secret:
        set_session_cookie(
            response,
            changed.session_secret,
            days=settings.session_days,
            secure=settings.secure_cookies,
        )
    return response


async def me(request: Request) -> Response:
    return JSON(user_resource(require_user(request)))


async def get_user(request: Request) -> Response:
    return JSON(user_resource(await accounts.get_user(request.path_params["username"])))


async def set_role(request: Request) -> Response:
    require_user(request)
    if not actor_of(request).is_admin:
        raise Forbidden(_("役割を変更できるのは管理者だけです。"))
    data = await read_json(request)
    user = await accounts.change_role(request.path_params["username"], text_field(data, "role"))
    return JSON(user_resource(user))


# --- boards -------------------------------------------------------------------------------


async def list_boards(request: Request) -> Response:
    items = [board_resource(b) for b in await boards.list_boards(actor_of(request))]
    return JSON({"items": items, "next_cursor": None})


async def create_board(request: Request) -> Response:
    require_user(request)
    fields = inputs.board_fields(await read_json(request))
    board = await boards.create_board(actor_of(request), fields)
    return JSON(board_resource(board), status_code=201)


async def get_board(request: Request) -> Response:
    board = await boards.get_board(actor_of(request), request.path_params["slug"])
    return JSON(board_resource(board))


async def update_board(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    board = await boards.update_board(actor, board, inputs.board_fields(await read_json(request)))
    return JSON(board_resource(board))


async def put_staff(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    role = "moderator"
    if await request.body():
        role = text_field(await read_json(request), "role", required=False) or role
    member = await boards.add_staff(actor, board, request.path_params["username"], role)
    return JSON(
        {
            "board": board.slug,
            "username": request.path_params["username"],
            "role": member.role.value,
        }
    )


async def delete_staff(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    if not await boards.remove_staff(actor, board, request.path_params["username"]):
        raise NotFound(_("この掲示板の担当者ではありません。"))
    return Response(status_code=204)


# --- threads and posts --------------------------------------------------------------------


async def list_threads(request: Request) -> Response:
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    page = await threads.list_threads(
        actor,
        board,
        cursor=request.query_params.get("cursor") or None,
        limit=int_query(request, "limit", 30, low=1, high=100),
    )
    items = [await threads.thread_json(t, board) for t in page.threads]
    return JSON({"items": items, "next_cursor": page.next_cursor})


async def create_thread(request: Request) -> Response:
    user = require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    data = await read_json(request)
    rate_limit(request, "post", str(user.id))
    started = await threads.create_thread(
        actor,
        board,
        inputs.new_thread(data, body=text_field(data, "body")),
        gate=gate_of(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return _created(started.resource, replayed=started.replayed)


def _created(body: dict[str, Any], *, replayed: bool) -> Response:
    """201 with what was made; a repeated idempotency key gets the first answer, marked."""
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSON(body, status_code=201, headers=headers)


async def get_thread(request: Request) -> Response:
    thread, board = await threads.get_thread(actor_of(request), path_id(request))
    return JSON(await threads.thread_json(thread, board))


async def update_thread(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    changes = inputs.thread_changes(await read_json(request))
    thread = await threads.update_thread(actor, thread, board, changes)
    return JSON(await threads.thread_json(thread, board))


async def list_posts(request: Request) -> Response:
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    limit = int_query(request, "limit", 50, low=1, high=200)
    after = int_query(request, "after", 0, low=0, high=2**62)
    rows = await posts.list_posts(actor, thread, board, after=after, limit=limit)
    items = [posts.visible_post(actor, p, board.id) for p in rows]
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return JSON({"items": items, "next_cursor": next_cursor})


def _optional_int(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationFailed(
            _("入力内容を確認してください。"), fields={name: _("整数で指定してください。")}
        )
    return value


def _bool(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationFailed(
            _("入力内容を確認してください。"), fields={name: _("true か false です。")}
        )
    return value


async def create_post(request: Request) -> Response:
    user = require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    data = await read_json(request)
    draft = posts.Draft(
        body=text_field(data, "body"),
        kind=text_field(data, "kind", required=False) or "post",
        reply_to=_optional_int(data, "reply_to"),
        anonymous=_bool(data, "anonymous"),
    )
    rate_limit(request, "post", str(user.id))
    posted = await posts.create_post(
        actor,
        thread,
        board,
        draft,
        gate=gate_of(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return _created(posted.resource, replayed=posted.replayed)


async def get_post(request: Request) -> Response:
    actor = actor_of(request)
    post, _thread, board = await posts.get_post(actor, path_id(request))
    return JSON(posts.visible_post(actor, post, board.id))


async def edit_post(request: Request) -> Response:
    require_user(request)
    data = await read_json(request)
    result = await posts.edit_post(
        actor_of(request), path_id(request), text_field(data, "body"), gate=gate_of(request)
    )
    return JSON(result)


async def delete_post(request: Request) -> Response:
    require_user(request)
    await posts.delete_post(actor_of(request), path_id(request), gate=gate_of(request))
    return Response(status_code=204)


async def vote(request: Request) -> Response:
    require_user(request)
    up = request.method == "PUT"
    voted = await posts.set_vote(actor_of(request), path_id(request), up=up)
    return JSON({"id": voted.post_id, "votes": voted.votes, "voted": voted.voted})


def routes() -> list[BaseRoute]:
    route = api_route
    return [
        route("/users", register, ["POST"]),
        route("/users/{username}", get_user, ["GET"]),
        route("/users/{username}/role", set_role, ["PUT"]),
        route("/tokens", create_token, ["POST"]),
        route("/tokens", list_tokens, ["GET"]),
        route("/tokens/{id}", revoke_token, ["DELETE"]),
        route("/me", me, ["GET"]),
        route("/me/password", change_password, ["POST"]),
        route("/boards", list_boards, ["GET"]),
        route("/boards", create_board, ["POST"]),
        route("/boards/{slug}", get_board, ["GET"]),
        route("/boards/{slug}", update_board, ["PATCH"]),
        route("/boards/{slug}/moderators/{username}", put_staff, ["PUT"]),
        route("/boards/{slug}/moderators/{username}", delete_staff, ["DELETE"]),
        route("/boards/{slug}/threads", list_threads, ["GET"]),
        route("/boards/{slug}/threads", create_thread, ["POST"]),
        route("/threads/{id}", get_thread, ["GET"]),
        route("/threads/{id}", update_thread, ["PATCH"]),
        route("/threads/{id}/posts", list_posts, ["GET"]),
        route("/threads/{id}/posts", create_post, ["POST"]),
        route("/posts/{id}", get_post, ["GET"]),
        route("/posts/{id}", edit_post, ["PATCH"]),
        route("/posts/{id}", delete_post, ["DELETE"]),
        route("/posts/{id}/vote", vote, ["PUT", "DELETE"]),
    ]
