"""The user's own notices (GET /notifications, POST /notifications/read) and follow levels
on threads and boards (GET/PUT /threads/{id}/follow, /boards/{slug}/follow)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import boards, follows, notifications, threads
from forum.models import NotificationKind
from forum.web import inputs
from forum.web.common import actor_of, api_route, read_body, require_user
from forum.web.openapi import Operation, Part
from forum.web.params import CURSOR, path_id, path_slug, query
from forum.web.parsers import Body, Choice, Flag, Integer, Spec
from forum.web.responses import JSON

__all__ = ["OPENAPI", "OPERATIONS", "QUERY", "SCHEMAS", "routes"]

_STR = {"type": "string"}
UNREAD = Flag()
LIMIT = Integer(minimum=1, maximum=100)
FOLLOW_INPUT = Body(
    {"level": Choice(values=("watching", "tracking", "muted", "none"))}, frozenset({"level"})
)
SCHEMAS: dict[str, Any] = {
    "Notification": {
        "type": "object",
        "required": [
            "id",
            "kind",
            "message",
            "reason",
            "post_id",
            "thread_id",
            "read",
            "created_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": [kind.value for kind in NotificationKind]},
            "message": _STR,
            "reason": _STR,
            "excerpt": _STR,
            "post_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "thread_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "thread_title": _STR,
            "url": _STR,
            "by": {"anyOf": [_STR, {"type": "null"}]},
            "read": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "NotificationList": {
        "type": "object",
        "required": ["items", "next_cursor", "unread"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
            "next_cursor": {"anyOf": [_STR, {"type": "null"}]},
            "unread": {"type": "integer"},
        },
    },
    "ReadInput": inputs.READ_INPUT.schema(),
    "FollowInput": FOLLOW_INPUT.schema(),
    "Follow": {
        "type": "object",
        "required": ["level", "unread"],
        "properties": {
            "level": {"anyOf": [{"enum": ["watching", "tracking", "muted"]}, {"type": "null"}]},
            "unread": {"type": "integer"},
        },
    },
    "ReadResult": {
        "type": "object",
        "required": ["read", "unread"],
        "properties": {"read": {"type": "integer"}, "unread": {"type": "integer"}},
    },
}
OPERATIONS: list[Operation] = [
    ("get", "/notifications", "The caller's notices, newest first", None, 200, "NotificationList", "user", False),
    ("post", "/notifications/read", "Mark notices read (all without ids)", "ReadInput", 200, "ReadResult", "user", False),
    ("get", "/threads/{id}/follow", "The caller's follow level on a thread and its unread posts", None, 200, "Follow", "user", False),
    ("put", "/threads/{id}/follow", "Watch, track or mute a thread (none: as its board)", "FollowInput", 200, "Follow", "user", False),
    ("get", "/boards/{slug}/follow", "The caller's follow level on a board", None, 200, "Follow", "user", False),
    ("put", "/boards/{slug}/follow", "Watch, track or mute a board", "FollowInput", 200, "Follow", "user", False),
]  # fmt: skip
QUERY: dict[str, dict[str, Spec]] = {
    "/notifications": {"unread": UNREAD, "cursor": CURSOR, "limit": LIMIT}
}
OPENAPI = Part(OPERATIONS, SCHEMAS, QUERY)


async def list_notifications(request: Request) -> Response:
    user = require_user(request)
    page = await notifications.list_notifications(
        user,
        cursor=query(request, "cursor", CURSOR, None),
        limit=query(request, "limit", LIMIT, 30),
        unread_only=query(request, "unread", UNREAD, False),
    )
    return JSON(
        {
            "items": [notifications.notification_resource(n) for n in page.items],
            "next_cursor": page.next_cursor,
            "unread": page.unread,
        }
    )


async def mark_read(request: Request) -> Response:
    """``{"ids": [...]}`` marks those notices read; an empty body or no ``ids`` marks all."""
    user = require_user(request)
    data = await read_body(request, inputs.READ_INPUT)
    changed = await notifications.mark_read(user, data.get("ids"))
    return JSON({"read": changed, "unread": await notifications.unread_count(user)})


async def thread_follow(request: Request) -> Response:
    user = require_user(request)
    thread, board = await threads.get_thread(actor_of(request), path_id(request))
    if request.method == "PUT":
        level = follows.parse_level((await read_body(request, FOLLOW_INPUT))["level"])
        await follows.set_thread_level(user, thread, level)
    level = await follows.level_of(user, thread=thread, board=board)
    unread = (await follows.unread_in(user, [thread.id])).get(thread.id, 0)
    return JSON({"level": level.value if level else None, "unread": unread})


async def board_follow(request: Request) -> Response:
    user = require_user(request)
    board = await boards.get_board(actor_of(request), path_slug(request))
    if request.method == "PUT":
        level = follows.parse_level((await read_body(request, FOLLOW_INPUT))["level"])
        await follows.set_board_level(user, board, level)
    level = await follows.level_of(user, board=board)
    return JSON({"level": level.value if level else None, "unread": 0})


def routes() -> list[BaseRoute]:
    return [
        api_route("/notifications", list_notifications, ["GET"]),
        api_route("/notifications/read", mark_read, ["POST"]),
        api_route("/threads/{id}/follow", thread_follow, ["GET", "PUT"]),
        api_route("/boards/{slug}/follow", board_follow, ["GET", "PUT"]),
    ]
