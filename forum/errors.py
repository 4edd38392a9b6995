"""One error hierarchy: each error carries a code, an HTTP status and a message."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BadRequest",
    "Conflict",
    "Forbidden",
    "ForumError",
    "NotAuthenticated",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Unavailable",
    "ValidationFailed",
]


class ForumError(Exception):
    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class BadRequest(ForumError):
    pass


class ValidationFailed(ForumError):
    status = 422
    default_code = "invalid"


class NotAuthenticated(ForumError):
    status = 401
    default_code = "not_authenticated"


class Forbidden(ForumError):
    status = 403
    default_code = "forbidden"


class NotFound(ForumError):
    status = 404
    default_code = "not_found"


class Conflict(ForumError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(ForumError):
    status = 413
    default_code = "payload_too_large"


class RateLimited(ForumError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ForumError):
    status = 503
    default_code = "unavailable"
