"""The uploads part of the OpenAPI document; forum.app adds it to the others."""

from __future__ import annotations

from forum.web.openapi import Operation, Part, Schema

__all__ = ["OPENAPI"]

SCHEMAS: dict[str, Schema] = {
    "UploadForm": {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream"}},
        "additionalProperties": False,
    },
}

OPERATIONS: list[Operation] = [
    (
        "post",
        "/uploads",
        "Upload one file (multipart field `file`): JPEG, PNG, GIF, WebP, PDF, docx, xlsx, "
        "pptx. Images are re-encoded (EXIF removed). 413 file_too_large / daily_bytes_reached; "
        "422 unsupported_type, type_mismatch, polyglot, decompression_bomb, corrupt_file, "
        "empty_file, bad_name, daily_count_reached. Attach it with `attachments: [id]` on a post.",
        "UploadForm",
        201,
        "Attachment",
        "user",
        False,
    ),
]

OPENAPI = Part(OPERATIONS, SCHEMAS, media={"UploadForm": "multipart/form-data"})
