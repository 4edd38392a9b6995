"""What the URL carries: path segments and query parameters, read by the typed parsers.

A path segment that cannot name anything (an id out of range, a name longer than any name can
be, a NUL) is a page that does not exist: 404. A query parameter that is malformed, out of
range or given twice is a mistake of the caller: 400 ``bad_query``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from starlette.requests import Request

from forum.errors import BadRequest, NotFound
from forum.i18n import gettext as _
from forum.web.parsers import ID, Integer, Invalid, Spec, Text
from forum.web.responses import is_api

__all__ = [
    "CURSOR",
    "SLUG",
    "USERNAME",
    "int_query",
    "path_id",
    "path_slug",
    "path_token",
    "path_username",
    "query",
]

T = TypeVar("T")

# The longest a username (models.User.username) or a board slug (models.Board.slug) can be.
USERNAME = Text(min_length=1, max_length=32)
SLUG = Text(min_length=1, max_length=40)
CURSOR = Text(min_length=1, max_length=100)
# A random URL-safe token naming a thing that must not be guessed (an uploaded file's key).
TOKEN = Text(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def _path(request: Request, name: str, spec: Spec) -> Any:
    try:
        return spec.from_string(str(request.path_params[name]))
    except Invalid:
        raise NotFound(_("見つかりません。")) from None


def path_id(request: Request, name: str = "id") -> int:
    """A numeric id from the path; anything else is a page that does not exist (404)."""
    value: int = _path(request, name, ID)
    return value


def path_token(request: Request, name: str = "key") -> str:
    value: str = _path(request, name, TOKEN)
    return value


def path_username(request: Request, name: str = "username") -> str:
    value: str = _path(request, name, USERNAME)
    return value


def path_slug(request: Request, name: str = "slug") -> str:
    value: str = _path(request, name, SLUG)
    return value


def query(request: Request, name: str, spec: Spec, default: T) -> Any | T:
    """A query parameter read by ``spec``; absent or empty gives ``default``, twice is refused."""
    values = request.query_params.getlist(name)
    if not values or values == [""]:
        return default
    if len(values) > 1:
        raise BadRequest(
            _("{name} は1回だけ指定してください。").format(name=name), code="bad_query"
        )
    try:
        return spec.from_string(values[0])
    except Invalid as exc:
        if not is_api(request.scope):
            # A page's address was edited by hand: its reader needs no parameter names.
            raise BadRequest(
                _(
                    "ページのアドレスに正しくない指定があります。リンクやメニューから開き直してください。"
                ),
                code="bad_query",
            ) from None
        raise BadRequest(f"{name}: {exc.message}", code="bad_query") from None


def int_query(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``; absent or empty gives ``default``."""
    value: int = query(request, name, Integer(minimum=low, maximum=high), default)
    return value
