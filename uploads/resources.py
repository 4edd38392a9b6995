"""The JSON shape of an upload, and the one place that spells where a file is served."""

from __future__ import annotations

from typing import Any

from uploads.models import Upload, UploadKind

__all__ = ["FILES", "attachment_resource", "file_url", "thumbnail_url"]

# Served at /files/{key} (and /files/{key}/thumb): the key is 32 random bytes.
FILES = "/files"


def file_url(key: str) -> str:
    return f"{FILES}/{key}"


def thumbnail_url(key: str) -> str:
    return f"{FILES}/{key}/thumb"


def attachment_resource(upload: Upload) -> dict[str, Any]:
    """What an upload answers with, and what a post keeps of each of its attachments."""
    image = upload.kind is UploadKind.IMAGE
    return {
        "id": upload.id,
        "name": upload.name,
        "type": upload.content_type,
        "kind": upload.kind.value,
        "size": upload.size,
        "width": upload.width,
        "height": upload.height,
        "url": file_url(upload.key),
        "thumbnail_url": thumbnail_url(upload.key) if image and upload.thumbnail else None,
    }
