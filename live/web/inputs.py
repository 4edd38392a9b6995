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
from forum.models import AnswerState
from forum.web.params import SLUG, USERNAME
from forum.web.parsers import MAX_ID, Body, Choice, Flag, Integer, Spec, Text, TextList
from live.models import SessionKind, SessionState
from live.sessions import (
    MAX_DESCRIPTION,
    MAX_SLOW_MODE,
    MAX_TITLE,
    MAX_URL,
    MAX_VENUE,
    SessionFields,
)

__all__ = [
    "ANSWER_STATE_INPUT",
    "JST",
    "MERGE_INPUT",
    "SESSION_INPUT",
    "SESSION_PATCH",
    "SESSION_QUERY",
    "TIME",
    "parse_time",
    "session_fields",
    "usernames",
]

JST = ZoneInfo("Asia/Tokyo")
# An ISO 8601 time as text; ``parse_time`` reads it once the parser has bounded it.
TIME = Text(min_length=1, max_length=40)
MAX_STAFF = 50
KIND = Choice(values=tuple(k.value for k in SessionKind))
SLOW_MODE = Integer(minimum=0, maximum=MAX_SLOW_MODE)
PARENT = Integer(minimum=1, maximum=MAX_ID, nullable=True)

# The fields bound length and type only; sessions.py checks what they mean (times in order,
# the title not blank, the usernames existing) and names every wrong field at once.
_FIELDS: dict[str, Spec] = {
    "title": Text(max_length=MAX_TITLE),
    "kind": KIND,
    "description": Text(max_length=MAX_DESCRIPTION),
    "starts_at": TIME,
    "ends_at": TIME,
    "venue": Text(max_length=MAX_VENUE),
    "url": Text(max_length=MAX_URL),
    "parent": PARENT,
    "experts": TextList(item=USERNAME, max_items=MAX_STAFF),
    "moderators": TextList(item=USERNAME, max_items=MAX_STAFF),
    "premoderate": Flag(),
    "slow_mode_seconds": SLOW_MODE,
}
SESSION_INPUT = Body(
    {"board": SLUG, **_FIELDS}, frozenset({"title", "kind", "board", "starts_at", "ends_at"})
)
SESSION_PATCH = Body(_FIELDS)


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


def session_fields(parsed: Mapping[str, Any]) -> SessionFields:
    """A body read by SESSION_INPUT or SESSION_PATCH, its times read as times."""
    times: dict[str, datetime | None] = {}
    errors: dict[str, str] = {}
    for name in ("starts_at", "ends_at"):
        raw = parsed.get(name)
        times[name] = parse_time(raw) if raw is not None else None
        if raw is not None and times[name] is None:
            errors[name] = _("日時は ISO 8601 形式の文字列で指定してください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    return SessionFields(
        title=parsed.get("title"),
        kind=parsed.get("kind"),
        description=parsed.get("description"),
        board=parsed.get("board"),
        starts_at=times["starts_at"],
        ends_at=times["ends_at"],
        venue=parsed.get("venue"),
        url=parsed.get("url"),
        parent=parsed.get("parent"),
        experts=parsed.get("experts"),
        moderators=parsed.get("moderators"),
        premoderate=parsed.get("premoderate"),
        slow_mode_seconds=parsed.get("slow_mode_seconds"),
        clear_parent="parent" in parsed and parsed["parent"] is None,
    )


# A question's answer state; ``expert`` routes it to a named expert of the session.
ANSWER_STATE_INPUT = Body(
    {
        "state": Choice(values=tuple(s.value for s in AnswerState)),
        "expert": Text(min_length=1, max_length=32, nullable=True),
    },
    frozenset({"state"}),
)
# A duplicate question merged into another of the same session.
MERGE_INPUT = Body({"into": Integer(minimum=1, maximum=MAX_ID)}, frozenset({"into"}))


# The programme's filters, read by these specs and stated by them in the OpenAPI document.
SESSION_QUERY: dict[str, Spec] = {
    "state": Choice(values=tuple(s.value for s in SessionState)),
    "kind": Choice(values=tuple(k.value for k in SessionKind)),
    "board": SLUG,
    "from": Text(min_length=1, max_length=40),
    "to": Text(min_length=1, max_length=40),
    "limit": Integer(minimum=1, maximum=200),
}
