"""Responses shared by the JSON API and the pages."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Scope

from forum.errors import ForumError, RateLimited

__all__ = ["JSON", "error_response", "is_api"]


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def is_api(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/api/")


def error_body(exc: ForumError) -> dict[str, Any]:
    error: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.fields:
        error["fields"] = exc.fields
    return {"error": error}


def error_response(scope: Scope, exc: ForumError) -> Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if is_api(scope):
        return JSON(error_body(exc), status_code=exc.status, headers=headers)
    return Response(
        exc.message, status_code=exc.status, headers=headers, media_type="text/plain; charset=utf-8"
    )
