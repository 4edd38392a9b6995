"""The catalog keeps to docs/glossary.md: every message translated, no word the glossary bans."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
GLOSSARY = ROOT / "docs/glossary.md"
METHOD_MAP = [
    ("forum/templates/**.html", "jinja2"),
    ("forum/**.py", "python"),
    ("moderation/**.py", "python"),
    ("live/**.py", "python"),
    ("realtime/**.py", "python"),
]
OPTIONS = {"forum/templates/**.html": {"trimmed": "true"}}


@cache
def english() -> Catalog:
    with (ROOT / "forum/locale/en/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale="en")


@cache
def source_messages() -> dict[str, str]:
    """Every msgid the code asks for (the singular of a plural), with where it is asked."""
    found: dict[str, str] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHOD_MAP, options_map=OPTIONS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{line}")
    return found


def banned(heading: str) -> list[str]:
    """The `word` items of one "not to use" list of the glossary."""
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `([^`]+)`", section, flags=re.M)


def test_every_message_the_code_asks_for_has_an_english_translation() -> None:
    untranslated = []
    for msgid, where in sorted(source_messages().items()):
        entry = english().get(msgid)
        strings = entry.string if entry is not None else ""
        forms = strings if isinstance(strings, list | tuple) else [strings]
        if not all(forms):
            untranslated.append(f"{where}: {msgid}")
    assert not untranslated, "translate in messages.po:\n" + "\n".join(untranslated)


def test_every_entry_of_the_english_catalog_is_translated() -> None:
    empty = []
    for entry in english():
        if not entry.id:
            continue
        forms = entry.string if isinstance(entry.string, list | tuple) else [entry.string]
        if not all(forms):
            empty.append(str(entry.id))
    assert not empty, "\n".join(empty)


def test_the_glossary_lists_the_words_not_to_use() -> None:
    assert len(banned("## 使わない語")) >= 10
    assert len(banned("## English words not to use")) >= 5


def test_no_japanese_message_uses_a_word_the_glossary_bans() -> None:
    ids = {str(e.id[0] if isinstance(e.id, tuple) else e.id) for e in english() if e.id}
    ids |= set(source_messages())
    hits = [
        f"{word!r} in {msgid}"
        for word in banned("## 使わない語")
        for msgid in sorted(ids)
        if word in msgid
    ]
    assert not hits, "see docs/glossary.md:\n" + "\n".join(hits)


def test_no_english_message_uses_a_word_the_glossary_bans() -> None:
    hits = []
    for entry in english():
        forms = entry.string if isinstance(entry.string, list | tuple) else [entry.string]
        for word in banned("## English words not to use"):
            hits += [f"{word!r} in {form}" for form in forms if entry.id and word in str(form)]
    assert not hits, "see docs/glossary.md:\n" + "\n".join(hits)
