"""What the URL carries: ids in the path and integers in the query string, checked."""

from __future__ import annotations

from starlette.requests import Request

from forum.errors import BadRequest, NotFound
from forum.i18n import gettext as _

__all__ = ["int_query", "path_id"]


def path_id(request: Request, name: str = "id") -> int:
    """A numeric id from the path; anything else is a page that does not exist (404)."""
    raw = str(request.path_params[name])
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(_("見つかりません。"))
    return int(raw)


def int_query(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter within ``low..high``; absent or empty gives ``default``."""
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
