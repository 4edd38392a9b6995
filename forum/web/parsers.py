"""The one set of typed parsers every route reads its input with, and the schema each states.

A value from the outside (a path segment, a query parameter, a JSON field, a form field) is
read by one of these specs; the same spec writes its part of the OpenAPI document, so the
limits the server enforces are the limits the schema states. Ids are bounded by the smallest
id column of both databases (PostgreSQL's 32-bit ``integer``) so that no id reaches a query it
would break; text refuses NUL, which PostgreSQL cannot store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from forum.errors import ValidationFailed
from forum.i18n import gettext as _

__all__ = [
    "ID",
    "MAX_ID",
    "MAX_INT",
    "Body",
    "Choice",
    "Flag",
    "IdList",
    "Integer",
    "Invalid",
    "ObjectList",
    "Spec",
    "Text",
    "TextList",
]

MAX_ID = 2**31 - 1
# Every integer the API takes fits a 32-bit column; a larger one is refused, never sent on.
MAX_INT = MAX_ID
_INTEGER = re.compile(r"-?[0-9]{1,12}")


class Invalid(ValueError):
    """A value a spec refuses; ``message`` says, to a person, what it should be."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Spec(Protocol):
    @property
    def nullable(self) -> bool: ...

    def parse(self, value: object) -> Any: ...

    def from_string(self, raw: str) -> Any: ...

    def schema(self) -> dict[str, Any]: ...


def refuse_nul(text: str) -> str:
    if "\x00" in text:
        raise Invalid(_("使えない文字（NUL）が含まれています。"))
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    max_length: int
    min_length: int = 0
    pattern: str | None = None
    nullable: bool = False

    def parse(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid(_("文字列で指定してください。"))
        return self.from_string(value)

    def from_string(self, raw: str) -> str:
        refuse_nul(raw)
        if not self.min_length <= len(raw) <= self.max_length:
            raise Invalid(
                _("{low}〜{high}文字で指定してください。").format(
                    low=self.min_length, high=self.max_length
                )
            )
        if self.pattern is not None and not re.search(self.pattern, raw):
            raise Invalid(_("使えない文字が含まれています。"))
        return raw

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        # NUL is refused in every text (PostgreSQL cannot store it): the schema says so too.
        if self.pattern is None:
            schema["pattern"] = r"^[^\u0000]*$"
        elif self.pattern == r"\S":
            schema["pattern"] = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
        else:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True, slots=True, kw_only=True)
class Integer:
    minimum: int
    maximum: int = MAX_INT
    nullable: bool = False

    def parse(self, value: object) -> int:
        # JSON has one kind of number: 70.0 is the integer 70 (as JSON Schema's "integer"
        # says), while 70.5, booleans and strings are not integers.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(_("整数で指定してください。"))
        return self._bounded(value)

    def from_string(self, raw: str) -> int:
        # Strict: digits with an optional minus, no "+1", " 1", "1_000", "1.0" or "1e3".
        if not _INTEGER.fullmatch(raw):
            raise Invalid(_("整数で指定してください。"))
        return self._bounded(int(raw))

    def _bounded(self, value: int) -> int:
        if not self.minimum <= value <= self.maximum:
            raise Invalid(
                _("{low}〜{high}の整数で指定してください。").format(
                    low=self.minimum, high=self.maximum
                )
            )
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


ID = Integer(minimum=1, maximum=MAX_ID)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    nullable: bool = False

    def parse(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise Invalid(_("true か false で指定してください。"))
        return value

    def from_string(self, raw: str) -> bool:
        # Only the spellings a form or a script means; "1.17e-38" is not a boolean.
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
        raise Invalid(_("true か false で指定してください。"))

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    values: tuple[str, ...]
    nullable: bool = False

    def parse(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid(self._message())
        return self.from_string(value)

    def from_string(self, raw: str) -> str:
        if raw not in self.values:
            raise Invalid(self._message())
        return raw

    def _message(self) -> str:
        return _("{values} のいずれかで指定してください。").format(values=" / ".join(self.values))

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True, slots=True, kw_only=True)
class IdList:
    max_items: int
    nullable: bool = False

    def parse(self, value: object) -> list[int]:
        if not isinstance(value, list) or len(value) > self.max_items:
            raise Invalid(
                _("{high}個までの整数の配列で指定してください。").format(high=self.max_items)
            )
        return [ID.parse(item) for item in value]

    def from_string(self, raw: str) -> list[int]:
        return [ID.from_string(part) for part in raw.split(",")]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": ID.schema(), "maxItems": self.max_items}


@dataclass(frozen=True, slots=True, kw_only=True)
class TextList:
    """A JSON array of strings (usernames, say), each read by ``item``."""

    item: Text
    max_items: int
    nullable: bool = False

    def parse(self, value: object) -> list[str]:
        if not isinstance(value, list) or len(value) > self.max_items:
            raise Invalid(
                _("{high}個までの文字列の配列で指定してください。").format(high=self.max_items)
            )
        return [self.item.parse(item) for item in value]

    def from_string(self, raw: str) -> list[str]:
        return [self.item.from_string(part) for part in raw.split(",")]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema(), "maxItems": self.max_items}


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON object: these fields and no others, the required ones present."""

    fields: Mapping[str, Spec]
    required: frozenset[str] = field(default_factory=frozenset)

    def parse(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The fields present, each parsed; every wrong one named in a single 422."""
        errors: dict[str, str] = {}
        parsed: dict[str, Any] = {}
        for name in sorted(set(data) - set(self.fields)):
            errors[name] = _("この欄は指定できません。")
        for name, spec in self.fields.items():
            if name not in data:
                if name in self.required:
                    errors[name] = _("入力してください。")
                continue
            value = data[name]
            if value is None and spec.nullable:
                parsed[name] = None
                continue
            try:
                parsed[name] = spec.parse(value)
            except Invalid as exc:
                errors[name] = exc.message
        if errors:
            raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
        return parsed

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for name, spec in self.fields.items():
            schema = spec.schema()
            properties[name] = {"anyOf": [schema, {"type": "null"}]} if spec.nullable else schema
        return {
            "type": "object",
            "required": [name for name in self.fields if name in self.required],
            "properties": properties,
            "additionalProperties": False,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectList:
    """A JSON array of objects, each read by ``item`` (a selection of queue items, say)."""

    item: Body
    max_items: int
    min_items: int = 0
    nullable: bool = False

    def parse(self, value: object) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not self.min_items <= len(value) <= self.max_items:
            raise Invalid(
                _("{low}〜{high}個のオブジェクトの配列で指定してください。").format(
                    low=self.min_items, high=self.max_items
                )
            )
        parsed = []
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise Invalid(
                    _("{index}番目：オブジェクトで指定してください。").format(index=index)
                )
            try:
                parsed.append(self.item.parse(entry))
            except ValidationFailed as exc:
                wrong = ", ".join(f"{name}: {why}" for name, why in sorted(exc.fields.items()))
                raise Invalid(f"{index}: {wrong}") from None
        return parsed

    def from_string(self, raw: str) -> list[dict[str, Any]]:
        raise Invalid(_("クエリでは指定できません。"))

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "array",
            "items": self.item.schema(),
            "maxItems": self.max_items,
        }
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema
