"""JSON API v1: parse, call an action, return. No domain logic here."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import accounts, boards, posts, threads
from forum.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import User
from forum.resources import board_resource, user_resource
from forum.web import inputs
from forum.web.common import (
    actor_of,
    client_ip,
    gate_of,
    protect,
    rate_limit,
    read_json,
    require_user,
    text_field,
)
from forum.web.responses import JSON

__all__ = ["routes"]


def _int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            _("{name} は整数で指定してください。").format(name=name), code="bad_query"
        ) from None
    if not low <= value <= high:
        raise BadRequest(
            _("{name} は {low}〜{high} の範囲で指定してください。").format(
                name=name, low=low, high=high
            ),
            code="bad_query",
        )
    return value


def _path_id(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(_("見つかりません。"))
    return int(raw)


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
    user = await User.get_or_none(username=request.path_params["username"])
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    return JSON(user_resource(user))


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
        limit=_int_param(request, "limit", 30, low=1, high=100),
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
    thread, board = await threads.get_thread(actor_of(request), _path_id(request, "id"))
    return JSON(await threads.thread_json(thread, board))


async def update_thread(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, _path_id(request, "id"))
    changes = inputs.thread_changes(await read_json(request))
    thread = await threads.update_thread(actor, thread, board, changes)
    return JSON(await threads.thread_json(thread, board))


async def list_posts(request: Request) -> Response:
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, _path_id(request, "id"))
    limit = _int_param(request, "limit", 50, low=1, high=200)
    after = _int_param(request, "after", 0, low=0, high=2**62)
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
    thread, board = await threads.get_thread(actor, _path_id(request, "id"))
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
    post, _thread, board = await posts.get_post(actor, _path_id(request, "id"))
    return JSON(posts.visible_post(actor, post, board.id))


async def edit_post(request: Request) -> Response:
    require_user(request)
    data = await read_json(request)
    result = await posts.edit_post(
        actor_of(request), _path_id(request, "id"), text_field(data, "body"), gate=gate_of(request)
    )
    return JSON(result)


async def delete_post(request: Request) -> Response:
    require_user(request)
    await posts.delete_post(actor_of(request), _path_id(request, "id"), gate=gate_of(request))
    return Response(status_code=204)


async def vote(request: Request) -> Response:
    require_user(request)
    up = request.method == "PUT"
    voted = await posts.set_vote(actor_of(request), _path_id(request, "id"), up=up)
    return JSON({"id": voted.post_id, "votes": voted.votes, "voted": voted.voted})


def routes() -> list[BaseRoute]:
    def route(path: str, endpoint: Any, methods: list[str]) -> Route:
        return Route(path, protect(endpoint), methods=methods)

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
