"""POST /api/v1/uploads and the files themselves (/files/{key}): parse, call, answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from forum.errors import BadRequest, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.web.common import actor_of, api_route, require_user
from forum.web.params import path_token
from forum.web.responses import JSON
from uploads import intake
from uploads.access import readable_upload
from uploads.models import Upload, UploadKind
from uploads.resources import FILES, attachment_resource
from uploads.storage import Storage, StoredFileMissing

__all__ = ["api_routes", "file_routes", "receive_form_file", "storage_of"]

# What a file served here may do if a browser opens it anyway: nothing. No script, no
# plugin, no form, not framed; a document is a download, never a page of this site.
FILE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'none'; sandbox; frame-ancestors 'none'"
)


def storage_of(request: Request) -> Storage:
    storage: Storage = request.app.state.uploads
    return storage


def limits_of(request: Request) -> intake.Limits:
    limits: intake.Limits = request.app.state.upload_limits
    return limits


async def receive_form_file(request: Request, file: UploadFile) -> dict[str, Any]:
    """One file of a posted form, spooled to disk by the form parser, received."""
    upload = await intake.receive(
        actor_of(request),
        storage_of(request),
        limits_of(request),
        name=file.filename or "",
        source=file.file,
        size=file.size or 0,
    )
    return attachment_resource(upload)


async def create_upload(request: Request) -> Response:
    require_user(request)
    actor = actor_of(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        raise BadRequest(
            _("Content-Type は multipart/form-data にしてください。"), code="bad_media_type"
        )
    # Refused before a byte of the body is read: a silenced sender, a spent allowance.
    await intake.check_allowance(actor, limits_of(request), 0)
    # Starlette's parser spools each file part to a temporary file past 1 MB, so the body
    # goes to disk in chunks as it arrives; the body limit stops it at the file limit.
    async with request.form(max_files=1, max_fields=1) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ValidationFailed(
                _("ファイルを選んでください。"),
                code="missing_file",
                fields={"file": _("必須の項目です。")},
            )
        resource = await receive_form_file(request, file)
    return JSON(resource, status_code=201)


def _disposition(upload: Upload, *, inline: bool) -> str:
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in upload.name
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(upload.name, safe='')}"


async def _serve(request: Request, *, thumbnail: bool) -> Response:
    key = path_token(request)
    upload = await readable_upload(actor_of(request), key)
    if thumbnail and not upload.thumbnail:
        raise NotFound(_("ファイルが見つかりません。"))
    stored = intake.thumb_key(key) if thumbnail else intake.file_key(key)
    try:
        chunks = await storage_of(request).open(stored)
    except StoredFileMissing:
        raise NotFound(_("ファイルが見つかりません。")) from None
    # Only images koryu re-encoded itself are shown in the page; everything else downloads.
    image = upload.kind is UploadKind.IMAGE
    headers = {
        "Content-Disposition": _disposition(upload, inline=image),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_POLICY,
        "Cross-Origin-Resource-Policy": "same-origin",
        # Who may see it can change (a post hidden, a board made private): no shared caches.
        "Cache-Control": "private, max-age=300",
    }
    if not thumbnail:
        headers["Content-Length"] = str(upload.size)
    return StreamingResponse(chunks, media_type=upload.content_type, headers=headers)


async def serve_file(request: Request) -> Response:
    return await _serve(request, thumbnail=False)


async def serve_thumbnail(request: Request) -> Response:
    return await _serve(request, thumbnail=True)


def api_routes() -> list[BaseRoute]:
    """Mounted under /api/v1."""
    return [api_route("/uploads", create_upload, ["POST"])]


def file_routes() -> list[BaseRoute]:
    return [
        Route(FILES + "/{key}", serve_file, methods=["GET"]),
        Route(FILES + "/{key}/thumb", serve_thumbnail, methods=["GET"]),
    ]
