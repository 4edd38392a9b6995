"""JSON API v1: parse, call an action, return. No domain logic here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import accounts, boards, posts, revisions, threads
from forum.config import Settings
from forum.errors import BadRequest, Forbidden, NotFound
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
    read_body,
    require_user,
)
from forum.web.middleware import set_session_cookie
from forum.web.params import CURSOR, path_id, path_slug, path_username, query
from forum.web.parsers import MAX_ID, Integer, Spec
from forum.web.responses import JSON

__all__ = ["AFTER", "POSTS_LIMIT", "QUERY", "THREADS_LIMIT", "routes"]

THREADS_LIMIT = Integer(minimum=1, maximum=100)
POSTS_LIMIT = Integer(minimum=1, maximum=200)
AFTER = Integer(minimum=0, maximum=MAX_ID)
# The query parameters each list reads, as the OpenAPI document states them.
QUERY: dict[str, dict[str, Spec]] = {
    "/boards/{slug}/threads": {"cursor": CURSOR, "limit": THREADS_LIMIT},
    "/threads/{id}/posts": {"after": AFTER, "limit": POSTS_LIMIT},
}


# --- accounts -----------------------------------------------------------------------------


async def register(request: Request) -> Response:
    if not request.app.state.settings.registration_open:
        raise BadRequest(_("現在、新規登録を受け付けていません。"), code="registration_closed")
    limit_registration(request)
    data = await read_body(request, inputs.REGISTRATION)
    user = await accounts.register(
        accounts.Registration(
            username=data["username"],
            password=data["password"],
            display_name=data["display_name"],
            affiliation=data.get("affiliation", "other"),
            organisation=data.get("organisation", ""),
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
    max_days = _settings(request).token_days
    data = await read_body(request, inputs.credentials(token_days=max_days))
    username = data["username"].strip().lower()
    password = data["password"]
    name = data.get("name", "")
    days: int | None = data.get("days")
    rate_limit(request, "login_ip", client_ip(request))
    rate_limit(request, "login_account", username)
    user = await accounts.authenticate(username, password)
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
    data = await read_body(request, inputs.PASSWORD_CHANGE)
    current, new = data["current_password"], data["new_password"]
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
    return JSON(user_resource(await accounts.get_user(path_username(request))))


async def set_role(request: Request) -> Response:
    require_user(request)
    if not actor_of(request).is_admin:
        raise Forbidden(_("役割を変更できるのは管理者だけです。"))
    username = path_username(request)
    data = await read_body(request, inputs.ROLE_INPUT)
    user = await accounts.change_role(username, data["role"])
    return JSON(user_resource(user))


# --- boards -------------------------------------------------------------------------------


async def list_boards(request: Request) -> Response:
    items = [board_resource(b) for b in await boards.list_boards(actor_of(request))]
    return JSON({"items": items, "next_cursor": None})


async def create_board(request: Request) -> Response:
    require_user(request)
    fields = inputs.board_fields(await read_body(request, inputs.BOARD_INPUT))
    board = await boards.create_board(actor_of(request), fields)
    return JSON(board_resource(board), status_code=201)


async def get_board(request: Request) -> Response:
    board = await boards.get_board(actor_of(request), path_slug(request))
    return JSON(board_resource(board))


async def update_board(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    data = await read_body(request, inputs.BOARD_PATCH)
    board = await boards.update_board(actor, board, inputs.board_fields(data))
    return JSON(board_resource(board))


async def put_staff(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    username = path_username(request)
    data = await read_body(request, inputs.STAFF_INPUT)
    member = await boards.add_staff(actor, board, username, data.get("role", "moderator"))
    return JSON({"board": board.slug, "username": username, "role": member.role.value})


async def delete_staff(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    if not await boards.remove_staff(actor, board, path_username(request)):
        raise NotFound(_("この掲示板の担当者ではありません。"))
    return Response(status_code=204)


# --- threads and posts --------------------------------------------------------------------


async def list_threads(request: Request) -> Response:
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    page = await threads.list_threads(
        actor,
        board,
        cursor=query(request, "cursor", CURSOR, None),
        limit=query(request, "limit", THREADS_LIMIT, 30),
    )
    items = await threads.threads_json(page.threads, board)
    return JSON({"items": items, "next_cursor": page.next_cursor})


async def create_thread(request: Request) -> Response:
    user = require_user(request)
    actor = actor_of(request)
    board = await boards.get_board(actor, path_slug(request))
    data = await read_body(request, inputs.NEW_THREAD)
    rate_limit(request, "post", str(user.id))
    started = await threads.create_thread(
        actor,
        board,
        inputs.new_thread(data, body=data["body"]),
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
    user = require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    changes = inputs.thread_changes(await read_body(request, inputs.THREAD_PATCH))
    rate_limit(request, "post", str(user.id))
    thread = await threads.update_thread(actor, thread, board, changes, gate=gate_of(request))
    return JSON(await threads.thread_json(thread, board))


async def list_posts(request: Request) -> Response:
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    limit: int = query(request, "limit", POSTS_LIMIT, 50)
    after: int = query(request, "after", AFTER, 0)
    rows = await posts.list_posts(actor, thread, board, after=after, limit=limit)
    items = [posts.visible_post(actor, p, board.id) for p in rows]
    next_cursor = str(rows[-1].id) if len(rows) == limit else None
    return JSON({"items": items, "next_cursor": next_cursor})


async def create_post(request: Request) -> Response:
    user = require_user(request)
    actor = actor_of(request)
    thread, board = await threads.get_thread(actor, path_id(request))
    data = await read_body(request, inputs.NEW_POST)
    draft = posts.Draft(
        body=data["body"],
        kind=data.get("kind", "post"),
        reply_to=data.get("reply_to"),
        anonymous=data.get("anonymous", False),
        attachments=tuple(data.get("attachments") or ()),
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
    user = require_user(request)
    post_id = path_id(request)
    data = await read_body(request, inputs.POST_PATCH)
    # Edits spend the allowance posting spends: an edit can publish as much as a post.
    rate_limit(request, "post", str(user.id))
    result = await posts.edit_post(
        actor_of(request),
        post_id,
        data["body"],
        gate=gate_of(request),
        attachments=data.get("attachments"),
    )
    return JSON(result)


async def delete_post(request: Request) -> Response:
    require_user(request)
    await posts.delete_post(actor_of(request), path_id(request), gate=gate_of(request))
    return Response(status_code=204)


async def post_revisions(request: Request) -> Response:
    found = await revisions.history(actor_of(request), path_id(request))
    return JSON({"items": [c.resource() for c in found.changes], "next_cursor": None})


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
        route("/posts/{id}/revisions", post_revisions, ["GET"]),
        route("/posts/{id}/vote", vote, ["PUT", "DELETE"]),
    ]
