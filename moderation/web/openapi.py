"""The moderation part of the OpenAPI document; forum.app adds it to the forum's."""

from __future__ import annotations

from typing import Any

__all__ = ["OPERATIONS", "QUERY", "SCHEMAS"]

Schema = dict[str, Any]
STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY_OBJECT: Schema = {"type": "object"}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


def _null(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _list(name: str) -> Schema:
    return _obj(
        ["items", "next_cursor"],
        items={"type": "array", "items": _ref(name)},
        next_cursor=_null(STR),
    )


REASON = _obj(["code", "detail", "label"], code=STR, detail=STR, label=STR)
FLAG = _obj(
    ["reason", "label", "note", "user", "created_at"],
    reason={"enum": ["spam", "offtopic", "inappropriate", "other"]},
    label=STR,
    note=STR,
    user=STR,
    created_at=TIME,
)

SCHEMAS: dict[str, Schema] = {
    "QueueItem": _obj(
        ["id", "kind", "state", "post", "reasons", "flags", "version", "claimed_by"],
        id=INT,
        kind={"enum": ["pending", "flagged"]},
        state={"enum": ["open", "revision", "closed"]},
        post={"$ref": "#/components/schemas/Post"},
        reasons={"type": "array", "items": REASON},
        flags={"type": "array", "items": FLAG},
        version=INT,
        claimed_by=_null(STR),
        claimed_at=_null(TIME),
        created_at=TIME,
        board=_obj(["slug", "title"], slug=STR, title=STR),
        thread=_obj(["id", "title"], id=INT, title=STR),
    ),
    "QueueItemList": _list("QueueItem"),
    "DecisionInput": _obj(
        ["version"], version=INT, reason=STR, body={"type": "string", "maxLength": 20000}
    ),
    "DecisionResult": _obj(
        ["item_id", "version", "state", "decision", "post_status"],
        item_id=INT,
        version=INT,
        state=STR,
        decision=_null(STR),
        post_status=STR,
    ),
    "QueueStats": _obj(
        ["size", "oldest_created_at", "oldest_minutes", "hours"],
        size=INT,
        oldest_created_at=_null(TIME),
        oldest_minutes=_null(INT),
        hours={
            "type": "array",
            "items": _obj(
                ["start", "created", "decided", "median_minutes"],
                start=TIME,
                created=INT,
                decided=INT,
                median_minutes=_null({"type": "number"}),
            ),
        },
    ),
    "AuditEntry": _obj(
        ["id", "actor", "action", "target", "board", "before", "after", "reason", "created_at"],
        id=INT,
        actor=_null(STR),
        action=STR,
        target=_obj(["type", "id", "label"], type=STR, id=_null(INT), label=STR),
        board=_null(STR),
        admin_only=BOOL,
        before=ANY_OBJECT,
        after=ANY_OBJECT,
        reason=STR,
        created_at=TIME,
    ),
    "AuditLog": _list("AuditEntry"),
    "RuleSettings": _obj(
        [],
        first_posts=INT,
        link_account_days=INT,
        duplicate_minutes=INT,
        burst_posts=INT,
        burst_seconds=INT,
        flag_threshold=INT,
    ),
    "WatchedWordInput": _obj(["word"], word=STR, action={"enum": ["hold", "block"]}),
    "WatchedWord": _obj(["id", "word", "action"], id=INT, word=STR, action=STR),
    "TemplateInput": _obj(["text"], text={"type": "string", "maxLength": 200}),
    "Template": _obj(["id", "text"], id=INT, text=STR),
    "TemplateList": _list("Template"),
    "Rules": _obj(
        ["settings", "watched_words", "reject_templates"],
        settings=_ref("RuleSettings"),
        watched_words={"type": "array", "items": _ref("WatchedWord")},
        reject_templates={"type": "array", "items": _ref("Template")},
    ),
    "SanctionInput": _obj(
        ["kind", "hours"], kind={"enum": ["silence", "suspend"]}, hours=INT, reason=STR
    ),
    "Sanction": _obj(
        ["username", "kind", "until", "changed"],
        username=STR,
        kind=STR,
        until=_null(TIME),
        changed=BOOL,
    ),
    "ThreadActionInput": _obj([], reason=STR),
    "ThreadMoveInput": _obj(["board"], board=STR, reason=STR),
    "ThreadChange": _obj(
        ["thread_id", "action", "changed"], thread_id=INT, action=STR, changed=BOOL
    ),
    "FlagInput": _obj(
        ["reason"],
        reason={"enum": ["spam", "offtopic", "inappropriate", "other"]},
        note={"type": "string", "maxLength": 500},
    ),
    "FlagResult": _obj(
        ["post_id", "reason", "flags", "hidden"], post_id=INT, reason=STR, flags=INT, hidden=BOOL
    ),
}

MOD = "moderators of the item's board"
OPERATIONS: list[tuple[str, str, str, str | None, int, str | None, str, bool]] = [
    ("get", "/moderation/queue", "Open queue items, oldest first", None, 200, "QueueItemList", "moderators", False),
    ("get", "/moderation/stats", "Queue size, oldest item, last 24 hours", None, 200, "QueueStats", "moderators", False),
    ("get", "/moderation/items/{id}", "One queue item", None, 200, "QueueItem", MOD, False),
    ("post", "/moderation/items/{id}/claim", "Claim an item (409 stale_version, already_claimed)", "DecisionInput", 200, "DecisionResult", MOD, False),
    ("post", "/moderation/items/{id}/approve", "Approve, optionally with an edited body", "DecisionInput", 200, "DecisionResult", MOD, False),
    ("post", "/moderation/items/{id}/reject", "Reject with a reason", "DecisionInput", 200, "DecisionResult", MOD, False),
    ("post", "/moderation/items/{id}/revise", "Send the post back to its author", "DecisionInput", 200, "DecisionResult", MOD, False),
    ("get", "/moderation/templates", "Reject reason templates", None, 200, "TemplateList", "moderators", False),
    ("get", "/moderation/log", "Audit log, newest first, scoped to the caller's boards", None, 200, "AuditLog", "moderators", False),
    ("get", "/moderation/rules", "Auto-hold settings, watched words, templates", None, 200, "Rules", "admin", False),
    ("patch", "/moderation/rules", "Change auto-hold settings", "RuleSettings", 200, "Rules", "admin", False),
    ("post", "/moderation/rules/words", "Watch a word (hold or block)", "WatchedWordInput", 201, "WatchedWord", "admin", False),
    ("delete", "/moderation/rules/words/{id}", "Stop watching a word", None, 204, None, "admin", False),
    ("post", "/moderation/rules/templates", "Add a reject reason template", "TemplateInput", 201, "Template", "admin", False),
    ("patch", "/moderation/rules/templates/{id}", "Change a template", "TemplateInput", 200, "Template", "admin", False),
    ("delete", "/moderation/rules/templates/{id}", "Remove a template", None, 204, None, "admin", False),
    ("post", "/moderation/users/{username}/sanctions", "Silence or suspend a user (hours 0 lifts)", "SanctionInput", 200, "Sanction", "site moderators", False),
    ("post", "/moderation/threads/{id}/lock", "Lock a thread", "ThreadActionInput", 200, "ThreadChange", MOD, False),
    ("post", "/moderation/threads/{id}/unlock", "Unlock a thread", "ThreadActionInput", 200, "ThreadChange", MOD, False),
    ("post", "/moderation/threads/{id}/pin", "Pin a thread", "ThreadActionInput", 200, "ThreadChange", MOD, False),
    ("post", "/moderation/threads/{id}/unpin", "Unpin a thread", "ThreadActionInput", 200, "ThreadChange", MOD, False),
    ("post", "/moderation/threads/{id}/move", "Move a thread between moderated boards", "ThreadMoveInput", 200, "ThreadChange", MOD, False),
    ("post", "/posts/{id}/flags", "Flag a post (409 already_flagged)", "FlagInput", 201, "FlagResult", "user", False),
    ("post", "/posts/{id}/resubmit", "Resubmit a post sent back for revision", "PostPatch", 200, "Post", "author", False),
]  # fmt: skip

QUERY: dict[str, list[tuple[str, Schema]]] = {
    "/moderation/queue": [
        ("board", STR),
        ("kind", {"enum": ["pending", "flagged"]}),
        ("reason", STR),
        ("cursor", STR),
        ("limit", INT),
    ],
    "/moderation/log": [("board", STR), ("cursor", STR), ("limit", INT)],
}
