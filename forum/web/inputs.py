"""JSON bodies parsed into the typed inputs the domain actions take.

The web layer checks a value's JSON type (a string, a boolean, an integer) and gathers every
wrong one into one 422; the actions check what the values mean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forum.accounts import (
    DEFAULT_TOKEN_DAYS,
    MAX_PASSWORD,
    MAX_TOKEN_NAME,
    MIN_PASSWORD,
    USERNAME_RE,
)
from forum.boards import SLUG_RE, BoardFields
from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.lifecycle import MAX_BODY
from forum.models import Affiliation, BoardRole, ModerationPolicy, PostKind, Role
from forum.threads import THREAD_FLAGS, NewThread, ThreadChanges
from forum.web.parsers import ID, MAX_INT, Body, Choice, Flag, IdList, Integer, Spec, Text

__all__ = [
    "BOARD_INPUT",
    "BOARD_PATCH",
    "BODY",
    "CREDENTIALS",
    "NEW_POST",
    "NEW_THREAD",
    "PASSWORD_CHANGE",
    "POSITION",
    "POST_PATCH",
    "READ_INPUT",
    "REGISTRATION",
    "ROLE_INPUT",
    "STAFF_INPUT",
    "THREAD_PATCH",
    "Fields",
    "board_fields",
    "credentials",
    "integers",
    "new_thread",
    "thread_changes",
    "unknown",
]

# Text the actions strip before they judge it must hold something besides white space.
SOME_TEXT = r"\S"
BODY = Text(min_length=1, max_length=MAX_BODY, pattern=SOME_TEXT)
TITLE = Text(min_length=1, max_length=120, pattern=SOME_TEXT)
POSITION = Integer(minimum=-MAX_INT - 1)
MODERATION = Choice(values=tuple(p.value for p in ModerationPolicy))

REGISTRATION = Body(
    {
        "username": Text(min_length=3, max_length=32, pattern=USERNAME_RE.pattern),
        "password": Text(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD),
        "display_name": Text(min_length=1, max_length=50, pattern=SOME_TEXT),
        "affiliation": Choice(values=tuple(a.value for a in Affiliation)),
        "organisation": Text(max_length=100),
    },
    frozenset({"username", "password", "display_name"}),
)


def credentials(*, token_days: int) -> Body:
    """POST /tokens: ``days`` is bounded by the site's setting (``KORYU_TOKEN_DAYS``)."""
    return Body(
        {
            "username": Text(min_length=1, max_length=32),
            "password": Text(min_length=1, max_length=MAX_PASSWORD),
            "name": Text(max_length=MAX_TOKEN_NAME),
            "days": Integer(minimum=1, maximum=token_days),
        },
        frozenset({"username", "password"}),
    )


CREDENTIALS = credentials(token_days=DEFAULT_TOKEN_DAYS)
PASSWORD_CHANGE = Body(
    {
        "current_password": Text(min_length=1, max_length=MAX_PASSWORD),
        "new_password": Text(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD),
    },
    frozenset({"current_password", "new_password"}),
)
_BOARD: dict[str, Spec] = {
    "title": Text(min_length=1, max_length=100, pattern=SOME_TEXT),
    "description": Text(max_length=2000),
    "moderation": MODERATION,
    "private": Flag(),
    "position": POSITION,
}
BOARD_INPUT = Body(
    {"slug": Text(min_length=1, max_length=40, pattern=SLUG_RE.pattern), **_BOARD},
    frozenset({"slug", "title"}),
)
BOARD_PATCH = Body(_BOARD)
STAFF_INPUT = Body({"role": Choice(values=tuple(r.value for r in BoardRole))})
ROLE_INPUT = Body({"role": Choice(values=tuple(r.value for r in Role))}, frozenset({"role"}))
# Upload ids (POST /uploads), shown in this order; the per-post limit is checked with them.
ATTACHMENTS = IdList(max_items=50)
NEW_THREAD = Body(
    {"title": TITLE, "body": BODY, "attachments": ATTACHMENTS}, frozenset({"title", "body"})
)
THREAD_PATCH = Body(
    {
        "title": TITLE,
        **{name: Flag() for name in THREAD_FLAGS},
        # null hands the thread back to its board's policy.
        "moderation": Choice(values=tuple(p.value for p in ModerationPolicy), nullable=True),
    }
)
NEW_POST = Body(
    {
        "body": BODY,
        "reply_to": Integer(minimum=ID.minimum, maximum=ID.maximum, nullable=True),
        "kind": Choice(values=tuple(k.value for k in PostKind)),
        "anonymous": Flag(),
        "attachments": ATTACHMENTS,
    },
    frozenset({"body"}),
)
POST_PATCH = Body({"body": BODY, "attachments": ATTACHMENTS}, frozenset({"body"}))
READ_INPUT = Body({"ids": IdList(max_items=1000)})


class Fields:
    """Reads optional fields of a JSON object, collecting a message for each wrong type."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def text(self, name: str, message: str | None = None) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return value
        self.errors[name] = message or _("文字列で指定してください。")
        return None

    def flag(self, name: str, message: str | None = None) -> bool | None:
        value = self.data.get(name)
        if value is None or isinstance(value, bool):
            return value
        self.errors[name] = message or _("true か false で指定してください。")
        return None

    def integer(self, name: str, message: str | None = None) -> int | None:
        value = self.data.get(name)
        if isinstance(value, float) and value.is_integer():
            return int(value)  # JSON's 70.0 is the integer 70
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.errors[name] = message or _("整数で指定してください。")
        return None

    def only(self, allowed: Iterable[str]) -> None:
        """Refuse fields that cannot be changed, rather than ignore them silently."""
        for name in sorted(set(self.data) - set(allowed)):
            self.errors[name] = _("この欄は変更できません。")

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(_("入力内容を確認してください。"), fields=self.errors)


def integers(data: Mapping[str, Any], names: Iterable[str], message: str) -> dict[str, int | None]:
    """Optional integer fields; the names of any other fields are left to the action to refuse,
    which judges them together with the values."""
    fields = Fields(data)
    found = {name: fields.integer(name, message) for name in names}
    fields.check()
    return found


def unknown(data: Mapping[str, Any], names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(data) - set(names)))


def board_fields(data: Mapping[str, Any]) -> BoardFields:
    fields = Fields(data)
    slug_message = _("URL名は半角の英小文字・数字・ハイフンで、40文字以内で入力してください。")
    parsed = BoardFields(
        slug=fields.text("slug", slug_message),
        title=fields.text("title", _("タイトルは1〜100文字で入力してください。")),
        description=fields.text("description", _("説明は2,000文字以内で入力してください。")),
        moderation=fields.text(
            "moderation",
            _("承認の方式を一覧から選んでください。"),
        ),
        private=fields.flag("private", _("公開範囲を選んでください。")),
        position=fields.integer("position", _("表示順は整数で入力してください。")),
    )
    fields.check()
    return parsed


def new_thread(data: Mapping[str, Any], *, body: str) -> NewThread:
    """A title of the wrong type reads as empty: the action then names the title's rule."""
    title = data.get("title")
    files = tuple(data.get("attachments") or ())
    return NewThread(title=title if isinstance(title, str) else "", body=body, attachments=files)


def thread_changes(data: Mapping[str, Any]) -> ThreadChanges:
    fields = Fields(data)
    fields.only({*THREAD_FLAGS, "title", "moderation"})
    # null hands the thread back to its board's policy.
    moderation = "" if "moderation" in data and data["moderation"] is None else None
    title = fields.text("title", _("タイトルは1〜120文字で入力してください。"))
    parsed = ThreadChanges(
        title=title,
        pinned=fields.flag("pinned"),
        locked=fields.flag("locked"),
        featured=fields.flag("featured"),
        live=fields.flag("live"),
        moderation=moderation
        if moderation is not None
        else fields.text(
            "moderation",
            _("承認の方式を一覧から選んでください。"),
        ),
    )
    fields.check()
    return parsed
