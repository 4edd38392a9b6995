"""The stored file behind an attachment: who sent it, what it is, where it is attached."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

__all__ = ["Upload", "UploadKind"]


class UploadKind(StrEnum):
    IMAGE = "image"  # re-encoded, shown inline, with a thumbnail
    DOCUMENT = "document"  # served only as a download


class Upload(Model):
    id = fields.IntField(primary_key=True)
    # Random, 32 bytes: the only name a file has in URLs and in the store.
    key = fields.CharField(max_length=64, unique=True)
    owner: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "models.User", related_name="uploads", on_delete=fields.CASCADE
    )
    post: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.Post", related_name="uploads", null=True, on_delete=fields.SET_NULL
    )
    # Or a practice case's cover photo or report (cases are public, as their files).
    case: fields.ForeignKeyNullableRelation[Model] = fields.ForeignKeyField(
        "models.PracticeCase", related_name="uploads", null=True, on_delete=fields.SET_NULL
    )
    name = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=100)
    kind = fields.CharEnumField(UploadKind, max_length=16)
    # What is stored and served (for an image, its re-encoded display size).
    size = fields.BigIntField()
    # What was sent: the per-day allowance counts these bytes.
    received = fields.BigIntField()
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    thumbnail = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    attached_at = fields.DatetimeField(null=True)
    # Taken off a post by an edit: an orphan again, cleaned after the grace period.
    detached_at = fields.DatetimeField(null=True)
    # When cleanup first saw its post rejected or deleted; cleared if the post comes back.
    doomed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "uploads"
        indexes = (("owner_id", "created_at"), ("post_id",), ("case_id",))
