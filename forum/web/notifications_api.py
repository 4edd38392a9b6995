"""The user's own notices: GET /notifications and POST /notifications/read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from forum import notifications
from forum.web import inputs
from forum.web.common import api_route, read_body, require_user
from forum.web.openapi import Operation, Part
from forum.web.params import CURSOR, query
from forum.web.parsers import Flag, Integer, Spec
from forum.web.responses import JSON

__all__ = ["OPENAPI", "OPERATIONS", "QUERY", "SCHEMAS", "routes"]

_STR = {"type": "string"}
UNREAD = Flag()
LIMIT = Integer(minimum=1, maximum=100)
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
            "kind": {"enum": ["post_approved", "post_rejected", "revision_requested"]},
            "message": _STR,
            "reason": _STR,
            "excerpt": _STR,
            "post_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "thread_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "thread_title": _STR,
            "url": _STR,
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
    "ReadResult": {
        "type": "object",
        "required": ["read", "unread"],
        "properties": {"read": {"type": "integer"}, "unread": {"type": "integer"}},
    },
}
OPERATIONS: list[Operation] = [
    ("get", "/notifications", "The caller's notices, newest first", None, 200, "NotificationList", "user", False),
    ("post", "/notifications/read", "Mark notices read (all without ids)", "ReadInput", 200, "ReadResult", "user", False),
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


def routes() -> list[BaseRoute]:
    return [
        api_route("/notifications", list_notifications, ["GET"]),
        api_route("/notifications/read", mark_read, ["POST"]),
    ]
