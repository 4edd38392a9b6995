"""JSON API v1: parse, call an action, return. No domain logic here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import accounts, boards, posts, threads
from forum.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.resources import board_resource, user_resource
from forum.web.common import (
    actor_of,
    api_route,
    client_ip,
    gate_of,
    rate_limit,
    read_json,
    require_user,
    text_field,
)
from forum.web.params import int_query, path_id
from forum.web.responses import JSON

__all__ = ["routes"]


# --- accounts -----------------------------------------------------------------------------


async def register(request: Request) -> Response:
    if not request.app.state.settings.registration_open:
        raise BadRequest(_("現在、新規登録を受け付けていません。"), code="registration_closed")
    rate_limit(request, "register", client_ip(request))
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


async def create_token(request: Request) -> Response:
    data = await read_json(request)
    username = text_field(data, "username").strip().lower()
    rate_limit(request, "login_ip", client_ip(request))
    rate_limit(request, "login_account", username)
    user = await accounts.authenticate(username, text_field(data, "password"))
    token = await accounts.create_token(user)
    return JSON({"token": token, "user": user_resource(user)}, status_code=201)


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
    board = await boards.create_board(actor_of(request), await read_json(request))
    return JSON(board_resource(board), status_code=201)


async def get_board(request: Request) -> Response:
    board = await boards.get_board(actor_of(request), request.path_params["slug"])
    return JSON(board_resource(board))


async def update_board(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, request.path_params["slug"])
    board = await boards.update_board(actor, board, await read_json(request))
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
    outcome = await threads.create_thread(
        actor,
        board,
        data.get("title"),
        text_field(data, "body"),
        gate=gate_of(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return _outcome(outcome)


def _outcome(outcome: posts.Outcome) -> Response:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSON(outcome.body, status_code=outcome.status_code, headers=headers)


async def get_thread(request: Request) -> Response:
    thread, board = await threads.get_thread(actor_of(request), path_id(request))
    return JSON(await threads.thread_json(thread, board))


async def update_thread(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    thread = await threads.update_thread(actor, thread, board, await read_json(request))
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
    outcome = await posts.create_post(
        actor,
        thread,
        board,
        draft,
        gate=gate_of(request),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return _outcome(outcome)


async def get_post(request: Request) -> Response:
    actor = actor_of(request)
    post, _thread, board = await posts.get_post(actor, path_id(request))
    return JSON(posts.visible_post(actor, post, board.id))


async def edit_post(request: Request) -> Response:
    require_user(request)
    data = await read_json(request)
    result = await posts.edit_post(actor_of(request), path_id(request), text_field(data, "body"))
    return JSON(result)


async def delete_post(request: Request) -> Response:
    require_user(request)
    await posts.delete_post(actor_of(request), path_id(request))
    return Response(status_code=204)


async def vote(request: Request) -> Response:
    require_user(request)
    up = request.method == "PUT"
    return JSON(await posts.set_vote(actor_of(request), path_id(request), up=up))


def routes() -> list[BaseRoute]:
    route = api_route
    return [
        route("/users", register, ["POST"]),
        route("/users/{username}", get_user, ["GET"]),
        route("/users/{username}/role", set_role, ["PUT"]),
        route("/tokens", create_token, ["POST"]),
        route("/me", me, ["GET"]),
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
