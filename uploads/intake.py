"""Receiving a file: within the sender's allowances, of a type it really is, stored safely.

The caller hands over a file already on disk (or spooled), so nothing here holds a whole
upload in memory: sniffing reads its head and tail, Pillow decodes only images (bounded by
``images.MAX_PIXELS``), and the store copies it in chunks.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, BinaryIO

from forum.errors import Forbidden, PayloadTooLarge, ValidationFailed
from forum.i18n import gettext as _
from forum.permissions import Actor
from uploads.images import reencode
from uploads.models import Upload, UploadKind
from uploads.sniff import clean_name, sniff
from uploads.storage import Storage

__all__ = ["Limits", "file_key", "receive", "thumb_key"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 20_000_000
    per_post: int = 10
    per_day: int = 100
    bytes_per_day: int = 200_000_000


def file_key(key: str) -> str:
    return f"{key}/file"


def thumb_key(key: str) -> str:
    return f"{key}/thumb"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        _("ファイルが大きすぎます（{mb} MB まで）。").format(mb=round(limit / 1_000_000, 1)),
        code="file_too_large",
    )


async def check_allowance(actor: Actor, limits: Limits, size: int) -> None:
    """The sender may upload, and today's allowance holds this file too."""
    if actor.user is None:
        raise Forbidden(_("ファイルを添付するにはログインしてください。"), code="login_required")
    if actor.is_silenced():
        raise Forbidden(_("現在、ファイルを添付できません。"), code="silenced")
    if size > limits.max_bytes:
        raise too_large(limits.max_bytes)
    since = datetime.now(UTC) - timedelta(days=1)
    sent: list[Any] = list(
        await Upload.filter(owner_id=actor.user.id, created_at__gte=since).values_list(
            "received", flat=True
        )
    )
    if len(sent) >= limits.per_day:
        raise ValidationFailed(
            _("24時間に添付できるファイルは{n}件までです。").format(n=limits.per_day),
            code="daily_count_reached",
        )
    if sum(int(n) for n in sent) + size > limits.bytes_per_day:
        raise PayloadTooLarge(
            _("24時間に添付できる容量（{mb} MB）を超えます。").format(
                mb=round(limits.bytes_per_day / 1_000_000)
            ),
            code="daily_bytes_reached",
        )


async def receive(
    actor: Actor, storage: Storage, limits: Limits, *, name: str, source: BinaryIO, size: int
) -> Upload:
    """Check, sniff, re-encode an image, store, and record the upload (not yet attached)."""
    await check_allowance(actor, limits, size)
    assert actor.user is not None
    kind = await asyncio.to_thread(sniff, source, size)
    display_name = clean_name(name, kind)
    key = secrets.token_urlsafe(32)
    if kind.is_image:
        rendition = await asyncio.to_thread(reencode, source, kind)
        try:
            stored = _length(rendition.display)  # before the store, which may close it
            await storage.put(file_key(key), rendition.display, kind.content_type)
            await storage.put(thumb_key(key), rendition.thumbnail, kind.content_type)
        finally:
            rendition.close()
        width, height = rendition.width, rendition.height
    else:
        await storage.put(file_key(key), source, kind.content_type)
        stored, width, height = size, None, None
    try:
        return await Upload.create(
            key=key,
            owner_id=actor.user.id,
            name=display_name,
            content_type=kind.content_type,
            kind=UploadKind.IMAGE if kind.is_image else UploadKind.DOCUMENT,
            size=stored,
            received=size,
            width=width,
            height=height,
            thumbnail=kind.is_image,
        )
    except BaseException:
        await storage.delete([file_key(key), thumb_key(key)])
        raise


def _length(file: IO[bytes]) -> int:
    file.seek(0, 2)
    length = file.tell()
    file.seek(0)
    return length
