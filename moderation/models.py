"""Tortoise models of moderation: queue items, flags, the audit log and the editable rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from forum.models import Board, Post, Thread, User

__all__ = [
    "AuditEntry",
    "Decision",
    "Flag",
    "FlagReason",
    "ItemKind",
    "ItemState",
    "ModerationConfig",
    "QueueItem",
    "RejectTemplate",
    "WatchedWord",
    "WordAction",
]


class ItemKind(StrEnum):
    PENDING = "pending"
    FLAGGED = "flagged"
    EDIT = "edit"


class ItemState(StrEnum):
    OPEN = "open"
    REVISION = "revision"
    CLOSED = "closed"


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISION = "revision"


class FlagReason(StrEnum):
    SPAM = "spam"
    OFFTOPIC = "offtopic"
    INAPPROPRIATE = "inappropriate"
    OTHER = "other"


class WordAction(StrEnum):
    HOLD = "hold"
    BLOCK = "block"


class QueueItem(Model):
    """A post a moderator must look at: held before it was published, or flagged after.

    ``active_post_id`` is the post's id while the item is open or awaiting a revision and
    NULL once decided: its unique index keeps one live item per post, even under races.
    Every change bumps ``version``, and decisions update only the version they were shown.
    """

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="queue_items", on_delete=fields.CASCADE
    )
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="queue_items", on_delete=fields.CASCADE
    )
    thread: fields.ForeignKeyRelation[Thread] = fields.ForeignKeyField(
        "models.Thread", related_name="queue_items", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(ItemKind, max_length=16)
    state = fields.CharEnumField(ItemState, max_length=16, default=ItemState.OPEN)
    reasons: list[dict[str, str]] = fields.JSONField(default=list)
    reason_codes = fields.CharField(max_length=255, default="")
    active_post_id = fields.IntField(null=True, unique=True)
    version = fields.IntField(default=1)
    claimed_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="claimed_items", null=True, on_delete=fields.SET_NULL
    )
    claimed_at = fields.DatetimeField(null=True)
    decided_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="decided_items", null=True, on_delete=fields.SET_NULL
    )
    decided_at = fields.DatetimeField(null=True)
    decision = fields.CharEnumField(Decision, max_length=16, null=True)
    decision_reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_items"
        indexes = (("state", "board_id", "id"),)


class Flag(Model):
    """One user's report of one post, kept after the review as its history."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="flags", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="flags", on_delete=fields.CASCADE
    )
    item: fields.ForeignKeyNullableRelation[QueueItem] = fields.ForeignKeyField(
        "models.QueueItem", related_name="flags", null=True, on_delete=fields.SET_NULL
    )
    reason = fields.CharEnumField(FlagReason, max_length=16)
    note = fields.CharField(max_length=500, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_flags"
        unique_together = (("post", "user"),)


class AuditEntry(Model):
    """One moderation action: who did what to which target, the state before and after, why."""

    id = fields.IntField(primary_key=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=40)
    target_type = fields.CharField(max_length=16)
    target_id = fields.IntField(null=True)
    target_label = fields.CharField(max_length=200, default="")
    board: fields.ForeignKeyNullableRelation[Board] = fields.ForeignKeyField(
        "models.Board", related_name="audit_entries", null=True, on_delete=fields.SET_NULL
    )
    admin_only = fields.BooleanField(default=False)
    before: dict[str, Any] = fields.JSONField(default=dict)
    after: dict[str, Any] = fields.JSONField(default=dict)
    reason = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_log"
        indexes = (("board_id", "id"),)


class WatchedWord(Model):
    """A word that holds or blocks a post, compared in its NFKC case-folded form."""

    id = fields.IntField(primary_key=True)
    word = fields.CharField(max_length=100)
    normalized = fields.CharField(max_length=100, unique=True)
    action = fields.CharEnumField(WordAction, max_length=8, default=WordAction.HOLD)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "moderation_watched_words"


class RejectTemplate(Model):
    """A reason a moderator can pick when rejecting a post or asking for a revision."""

    id = fields.IntField(primary_key=True)
    text = fields.CharField(max_length=200)
    position = fields.IntField(default=0)

    class Meta:
        table = "moderation_reject_templates"


class ModerationConfig(Model):
    """The site's auto-hold thresholds, one row with id 1, edited by administrators."""

    id = fields.IntField(primary_key=True)
    first_posts = fields.IntField(default=3)
    link_account_days = fields.IntField(default=3)
    duplicate_minutes = fields.IntField(default=60)
    burst_posts = fields.IntField(default=5)
    burst_seconds = fields.IntField(default=60)
    flag_threshold = fields.IntField(default=3)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "moderation_config"
