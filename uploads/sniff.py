"""What a file is, decided from its bytes, never from its name or the type the client sent.

Only what koryu serves is recognised: JPEG, PNG, GIF and WebP images; PDF; the Office Open
XML formats a 自治体 sends (docx, xlsx, pptx). Markup (HTML, SVG) is refused wherever it
shows, and a file that is two things at once (an image or PDF carrying a ZIP archive or
markup: a polyglot) is refused rather than served as either.
"""

from __future__ import annotations

import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

from forum.errors import ValidationFailed
from forum.i18n import gettext as _

__all__ = ["TYPES", "Sniffed", "clean_name", "sniff"]


@dataclass(frozen=True, slots=True)
class Sniffed:
    content_type: str
    extensions: tuple[str, ...]  # the first is the one a stored name gets
    image_format: str | None = None  # Pillow's format name, for images

    @property
    def is_image(self) -> bool:
        return self.image_format is not None


JPEG = Sniffed("image/jpeg", ("jpg", "jpeg"), "JPEG")
PNG = Sniffed("image/png", ("png",), "PNG")
GIF = Sniffed("image/gif", ("gif",), "GIF")
WEBP = Sniffed("image/webp", ("webp",), "WEBP")
PDF = Sniffed("application/pdf", ("pdf",))
DOCX = Sniffed("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",))
XLSX = Sniffed("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
PPTX = Sniffed(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)
)
TYPES = (JPEG, PNG, GIF, WEBP, PDF, DOCX, XLSX, PPTX)
_KNOWN_EXTENSIONS = {ext for kind in TYPES for ext in kind.extensions}

# Browsers sniff markup in a file's first 512 bytes; looking at 1024 covers the ones that
# look further, and the end of a file holds a ZIP's central directory.
HEAD = 1024
TAIL = 65_557
_MARKUP = (b"<html", b"<script", b"<svg", b"<!doctype", b"<body", b"<iframe", b"<?xml-stylesheet")
_ZIP_END = b"PK\x05\x06"
_OFFICE_PARTS = {
    "word/document.xml": DOCX,
    "xl/workbook.xml": XLSX,
    "ppt/presentation.xml": PPTX,
}
# An Office file unpacks to a few times its size; far more is a zip bomb.
_MAX_UNPACKED = 500_000_000
_MAX_RATIO = 200
_MAX_MEMBERS = 10_000


def _refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code)


def _unsupported() -> ValidationFailed:
    return _refuse(
        _("この種類のファイルは添付できません（JPEG・PNG・GIF・WebP・PDF・docx・xlsx・pptx）。"),
        "unsupported_type",
    )


def _polyglot() -> ValidationFailed:
    return _refuse(_("ファイルに別の形式のデータが含まれているため、添付できません。"), "polyglot")


def sniff(source: BinaryIO, size: int) -> Sniffed:
    """The type of the file's bytes, or a ``ValidationFailed`` naming why it is refused."""
    if size == 0:
        raise _refuse(_("空のファイルは添付できません。"), "empty_file")
    source.seek(0)
    head = source.read(HEAD)
    source.seek(max(0, size - TAIL))
    tail = source.read(TAIL)
    source.seek(0)
    kind = _signature(head)
    lowered = head.lower()
    if any(tag in lowered for tag in _MARKUP):
        raise _polyglot() if kind is not None else _unsupported()
    if kind is None:
        raise _unsupported()
    if kind in (DOCX, XLSX, PPTX):
        return _office(source, size)
    if _ZIP_END in tail:
        raise _polyglot()
    return kind


def _signature(head: bytes) -> Sniffed | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return DOCX  # which Office file, _office decides from its parts
    return None


def _office(source: BinaryIO, size: int) -> Sniffed:
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(_("ファイルが壊れているため、添付できません。"), "corrupt_file") from None
    finally:
        source.seek(0)
    names = {member.filename for member in members}
    if len(members) > _MAX_MEMBERS:
        raise _bomb()
    unpacked = sum(member.file_size for member in members)
    if unpacked > _MAX_UNPACKED or unpacked > _MAX_RATIO * size:
        raise _bomb()
    if "[Content_Types].xml" not in names:
        raise _unsupported()
    # Macros (docm, xlsm, pptm saved as x) are code: not a document to hand round.
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise _refuse(_("マクロを含むファイルは添付できません。"), "macro_document")
    for part, kind in _OFFICE_PARTS.items():
        if part in names:
            return kind
    raise _unsupported()


def _bomb() -> ValidationFailed:
    return _refuse(_("展開すると大きくなりすぎるファイルは添付できません。"), "decompression_bomb")


def clean_name(raw: str, kind: Sniffed) -> str:
    """The name shown and offered for download: the last part of what the client sent,
    NFKC-folded, with the extension of what the file is.

    A name is never a path here (storage keys are random), but a name that claims another
    accepted type (a PNG named .pdf) is refused: whoever opens it would be misled.
    """
    # A NUL (raw, or as clients escape it) cuts a name short wherever C code reads it.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw) or "%00" in raw:
        raise _refuse(_("ファイル名に使えない文字が含まれています。"), "bad_name")
    name = unicodedata.normalize("NFKC", raw)
    name = PureWindowsPath(PurePosixPath(name).name).name.strip().strip(".")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extension = extension.lower()
    if extension in _KNOWN_EXTENSIONS and extension not in kind.extensions:
        raise _refuse(
            _("ファイル名の拡張子（.{ext}）が中身と一致しません。").format(ext=extension),
            "type_mismatch",
        )
    if extension not in kind.extensions:
        stem = name
        extension = kind.extensions[0]
    stem = stem[:150].strip() or "file"
    return f"{stem}.{extension}"
