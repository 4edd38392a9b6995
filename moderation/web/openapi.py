"""The moderation part of the OpenAPI document; forum.app adds it to the forum's."""

from __future__ import annotations

from forum.web.openapi import (
    ANY_OBJECT,
    BOOL,
    INT,
    STR,
    TIME,
    Operation,
    Part,
    Schema,
    list_of,
    nullable,
    obj,
    ref,
)
from moderation.web import inputs
from moderation.web.inputs import QUERY

__all__ = ["OPENAPI", "OPERATIONS", "QUERY", "SCHEMAS"]


REASON = obj(["code", "detail", "label"], code=STR, detail=STR, label=STR)
FLAG = obj(
    ["reason", "label", "note", "user", "created_at"],
    reason={"enum": ["spam", "offtopic", "inappropriate", "other"]},
    label=STR,
    note=STR,
    user=STR,
    created_at=TIME,
)

BUCKET = obj(
    ["start", "created", "decided", "median_minutes"],
    start=TIME,
    created=INT,
    decided=INT,
    median_minutes=nullable({"type": "number"}),
)

SCHEMAS: dict[str, Schema] = {
    "QueueItem": obj(
        ["id", "kind", "state", "post", "reasons", "flags", "version", "claimed_by"],
        id=INT,
        kind={"enum": ["pending", "flagged", "edit"]},
        state={"enum": ["open", "revision", "closed"]},
        post={"$ref": "#/components/schemas/Post"},
        reasons={"type": "array", "items": REASON},
        flags={"type": "array", "items": FLAG},
        version=INT,
        claimed_by=nullable(STR),
        claimed_at=nullable(TIME),
        created_at=TIME,
        board=obj(["slug", "title"], slug=STR, title=STR),
        thread=obj(["id", "title"], id=INT, title=STR),
    ),
    "QueueItemList": list_of("QueueItem"),
    "DecisionInput": inputs.DECISION.schema(),
    "DecisionResult": obj(
        ["item_id", "version", "state", "decision", "post_status"],
        item_id=INT,
        version=INT,
        state=STR,
        decision=nullable(STR),
        post_status=STR,
    ),
    "BulkDecisionInput": inputs.BULK_DECISION.schema(),
    "BulkDecisionResult": obj(
        ["decision", "decided", "failed", "items"],
        decision={"enum": ["approve", "reject"]},
        decided=INT,
        failed=INT,
        items={
            "type": "array",
            "items": obj(
                ["id", "status", "result", "error"],
                id=INT,
                status=INT,
                result=nullable(ref("DecisionResult")),
                error=nullable(obj(["code", "message"], code=STR, message=STR)),
            ),
        },
    ),
    "QueueStats": obj(
        ["size", "oldest_created_at", "oldest_minutes", "hours", "minutes"],
        size=INT,
        oldest_created_at=nullable(TIME),
        oldest_minutes=nullable(INT),
        hours={"type": "array", "items": BUCKET},
        minutes={"type": "array", "items": BUCKET},
    ),
    "AuditEntry": obj(
        ["id", "actor", "action", "target", "board", "before", "after", "reason", "created_at"],
        id=INT,
        actor=nullable(STR),
        action=STR,
        target=obj(["type", "id", "label"], type=STR, id=nullable(INT), label=STR),
        board=nullable(STR),
        admin_only=BOOL,
        before=ANY_OBJECT,
        after=ANY_OBJECT,
        reason=STR,
        created_at=TIME,
    ),
    "AuditLog": list_of("AuditEntry"),
    "RuleSettings": inputs.RULE_SETTINGS.schema(),
    "WatchedWordInput": inputs.WATCHED_WORD.schema(),
    "WatchedWord": obj(["id", "word", "action"], id=INT, word=STR, action=STR),
    "TemplateInput": inputs.TEMPLATE.schema(),
    "Template": obj(["id", "text"], id=INT, text=STR),
    "TemplateList": list_of("Template"),
    "Rules": obj(
        ["settings", "watched_words", "reject_templates"],
        settings=ref("RuleSettings"),
        watched_words={"type": "array", "items": ref("WatchedWord")},
        reject_templates={"type": "array", "items": ref("Template")},
    ),
    "SanctionInput": inputs.SANCTION.schema(),
    "Sanction": obj(
        ["username", "kind", "until", "changed"],
        username=STR,
        kind=STR,
        until=nullable(TIME),
        changed=BOOL,
    ),
    "ThreadActionInput": inputs.THREAD_ACTION.schema(),
    "ThreadMoveInput": inputs.THREAD_MOVE.schema(),
    "ThreadChange": obj(
        ["thread_id", "action", "changed"], thread_id=INT, action=STR, changed=BOOL
    ),
    "FlagInput": inputs.FLAG.schema(),
    "FlagResult": obj(
        ["post_id", "reason", "flags", "hidden"], post_id=INT, reason=STR, flags=INT, hidden=BOOL
    ),
}

MOD = "moderators of the item's board"
OPERATIONS: list[Operation] = [
    ("get", "/moderation/queue", "Open queue items, oldest first", None, 200, "QueueItemList", "moderators", False),
    ("get", "/moderation/stats", "Queue size, oldest item, the last 24 hours by the hour and the last hour by the minute", None, 200, "QueueStats", "moderators", False),
    ("post", "/moderation/items/bulk", "Approve or reject a selection; each item its own transaction and status (409 stale_version per item); an item the caller cannot moderate refuses all (404)", "BulkDecisionInput", 200, "BulkDecisionResult", MOD, False),
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

OPENAPI = Part(OPERATIONS, SCHEMAS, QUERY)
