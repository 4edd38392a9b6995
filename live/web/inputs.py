"""JSON bodies and form fields parsed into ``live.sessions.SessionFields``.

Times without an offset are read as Japan time: organisers type the hour printed on the
programme. Stored in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.web.inputs import Fields
from forum.web.params import SLUG
from forum.web.parsers import Choice, Integer, Spec, Text
from live.models import SessionKind, SessionState
from live.sessions import SessionFields

__all__ = ["JST", "parse_time", "session_fields", "usernames"]

JST = ZoneInfo("Asia/Tokyo")
ALLOWED = {
    "title",
    "kind",
    "description",
    "board",
    "starts_at",
    "ends_at",
    "venue",
    "url",
    "parent",
    "experts",
    "moderators",
    "premoderate",
    "slow_mode_seconds",
}


def parse_time(raw: str) -> datetime | None:
    """An ISO 8601 time (``2026-12-01T13:00``, with or without an offset), or None."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=JST) if value.tzinfo is None else value


def usernames(raw: str) -> list[str]:
    """A form's list of usernames, separated by commas, spaces or new lines."""
    return [name for name in raw.replace(",", " ").replace("、", " ").split() if name]


def _names(fields: Fields, name: str) -> list[str] | None:
    value = fields.data.get(name)
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    fields.errors[name] = _("利用者名の配列で指定してください。")
    return None


def _time(fields: Fields, name: str) -> datetime | None:
    raw = fields.text(name, _("日時は ISO 8601 形式の文字列で指定してください。"))
    if raw is None:
        return None
    value = parse_time(raw)
    if value is None:
        fields.errors[name] = _("日時は ISO 8601 形式の文字列で指定してください。")
    return value


def session_fields(data: Mapping[str, Any], *, creating: bool) -> SessionFields:
    fields = Fields(data)
    fields.only(ALLOWED if creating else ALLOWED - {"board"})
    parent = fields.integer("parent")
    parsed = SessionFields(
        title=fields.text("title"),
        kind=fields.text("kind"),
        description=fields.text("description"),
        board=fields.text("board"),
        starts_at=_time(fields, "starts_at"),
        ends_at=_time(fields, "ends_at"),
        venue=fields.text("venue"),
        url=fields.text("url"),
        parent=parent,
        experts=_names(fields, "experts"),
        moderators=_names(fields, "moderators"),
        premoderate=fields.flag("premoderate"),
        slow_mode_seconds=fields.integer("slow_mode_seconds"),
        clear_parent="parent" in data and data["parent"] is None,
    )
    fields.check()
    return parsed


def invalid(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("入力内容を確認してください。"), fields={name: message})


# The programme's filters, read by these specs and stated by them in the OpenAPI document.
SESSION_QUERY: dict[str, Spec] = {
    "state": Choice(values=tuple(s.value for s in SessionState)),
    "kind": Choice(values=tuple(k.value for k in SessionKind)),
    "board": SLUG,
    "from": Text(min_length=1, max_length=40),
    "to": Text(min_length=1, max_length=40),
    "limit": Integer(minimum=1, maximum=200),
}
