"""What the moderation API reads: its JSON bodies and query parameters, as typed specs.

The handlers in ``moderation.web.api`` parse with these and ``moderation.web.openapi`` states
them, so the document and the server agree on every limit.
"""

from __future__ import annotations

from forum.lifecycle import MAX_BODY
from forum.web.params import CURSOR, SLUG
from forum.web.parsers import ID, Body, Choice, Integer, ObjectList, Spec, Text
from moderation.actions import MAX_REASON
from moderation.bulk import MAX_ITEMS, BulkDecision
from moderation.flags import MAX_NOTE
from moderation.models import FlagReason, ItemKind, WordAction
from moderation.ruleset import SETTING_MAX, SETTING_NAMES
from moderation.sanctions import MAX_HOURS, SanctionKind

__all__ = [
    "BULK_DECISION",
    "DECISION",
    "FLAG",
    "LOG_LIMIT",
    "QUERY",
    "QUEUE_LIMIT",
    "RULE_SETTINGS",
    "SANCTION",
    "TEMPLATE",
    "THREAD_ACTION",
    "THREAD_MOVE",
    "WATCHED_WORD",
]

SOME_TEXT = r"\S"
REASON = Text(max_length=MAX_REASON)

DECISION = Body(
    {
        "version": Integer(minimum=0),
        "reason": REASON,
        "body": Text(min_length=1, max_length=MAX_BODY, pattern=SOME_TEXT),
    },
    frozenset({"version"}),
)
BULK_DECISION = Body(
    {
        "items": ObjectList(
            item=Body({"id": ID, "version": Integer(minimum=0)}, frozenset({"id", "version"})),
            min_items=1,
            max_items=MAX_ITEMS,
        ),
        "decision": Choice(values=tuple(d.value for d in BulkDecision)),
        "reason": REASON,
    },
    frozenset({"items", "decision"}),
)
RULE_SETTINGS = Body(
    {
        # At least one flag hides a post; zero would hide every post at once.
        name: Integer(minimum=1 if name == "flag_threshold" else 0, maximum=SETTING_MAX)
        for name in SETTING_NAMES
    }
)
WATCHED_WORD = Body(
    {
        "word": Text(min_length=1, max_length=100, pattern=SOME_TEXT),
        "action": Choice(values=tuple(a.value for a in WordAction)),
    },
    frozenset({"word"}),
)
TEMPLATE = Body(
    {"text": Text(min_length=1, max_length=200, pattern=SOME_TEXT)}, frozenset({"text"})
)
SANCTION = Body(
    {
        "kind": Choice(values=tuple(k.value for k in SanctionKind)),
        "hours": Integer(minimum=0, maximum=MAX_HOURS),
        "reason": REASON,
    },
    frozenset({"kind", "hours"}),
)
THREAD_ACTION = Body({"reason": REASON})
THREAD_MOVE = Body({"board": SLUG, "reason": REASON}, frozenset({"board"}))
FLAG = Body(
    {
        "reason": Choice(values=tuple(r.value for r in FlagReason)),
        "note": Text(max_length=MAX_NOTE),
    },
    frozenset({"reason"}),
)

QUEUE_LIMIT = Integer(minimum=1, maximum=100)
LOG_LIMIT = Integer(minimum=1, maximum=200)
QUERY: dict[str, dict[str, Spec]] = {
    "/moderation/queue": {
        "board": SLUG,
        "kind": Choice(values=tuple(k.value for k in ItemKind)),
        "reason": Text(min_length=1, max_length=40),
        "session": ID,
        "cursor": CURSOR,
        "limit": QUEUE_LIMIT,
    },
    "/moderation/log": {"board": SLUG, "cursor": CURSOR, "limit": LOG_LIMIT},
}
