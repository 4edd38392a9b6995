"""Images re-encoded by Pillow: only pixels survive, so EXIF (GPS position included), XMP,
comments and anything smuggled after the image are gone.

What is kept is a display size (at most ``DISPLAY`` pixels along the longer side) and a
thumbnail; the original bytes are never stored. Decompression bombs are refused from the
header, before any pixel is decoded, and a truncated file fails its full decode.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from typing import IO, BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from uploads.sniff import Sniffed

__all__ = ["DISPLAY", "MAX_PIXELS", "THUMBNAIL", "Rendition", "reencode"]

DISPLAY = 1600
THUMBNAIL = 320
# 24-megapixel photos pass; a 1 kB PNG claiming 50000×50000 does not get decoded.
MAX_PIXELS = 40_000_000
MAX_FRAMES = 500
_SPOOL = 1024 * 1024

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True, slots=True)
class Rendition:
    """A re-encoded image: the display size and its thumbnail, each in a temporary file."""

    display: IO[bytes]
    thumbnail: IO[bytes]
    width: int
    height: int
    content_type: str

    def close(self) -> None:
        self.display.close()
        self.thumbnail.close()


def _bomb() -> ValidationFailed:
    return ValidationFailed(
        _("画像が大きすぎます（{limit}万画素まで）。").format(limit=MAX_PIXELS // 10_000),
        code="decompression_bomb",
    )


def _corrupt() -> ValidationFailed:
    return ValidationFailed(
        _("画像が壊れているか途中で切れているため、添付できません。"), code="corrupt_file"
    )


def reencode(source: BinaryIO, kind: Sniffed) -> Rendition:
    """CPU work: call it on a worker thread."""
    assert kind.image_format is not None
    source.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(source, formats=[kind.image_format])
            width, height = image.size
            frames = getattr(image, "n_frames", 1)
            if width * height > MAX_PIXELS or width * height * min(frames, MAX_FRAMES) > (
                4 * MAX_PIXELS
            ):
                raise _bomb()
            if frames > MAX_FRAMES:
                raise _bomb()
            image.draft("RGB", (DISPLAY, DISPLAY))  # JPEG decodes at a smaller scale
            image.load()
        except ValidationFailed:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise _corrupt() from None
    try:
        # The camera's orientation applied to the pixels, then every tag left behind.
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError):
        upright = image
    pixels = _plain(upright, kind.image_format)
    pixels.thumbnail((DISPLAY, DISPLAY), Image.Resampling.LANCZOS)
    display = _save(pixels, kind.image_format)
    small = pixels.copy()
    small.thumbnail((THUMBNAIL, THUMBNAIL), Image.Resampling.LANCZOS)
    thumbnail = _save(small, kind.image_format)
    return Rendition(display, thumbnail, pixels.width, pixels.height, kind.content_type)


def _plain(image: Image.Image, fmt: str) -> Image.Image:
    """A fresh image holding only pixels, in a mode the format can write."""
    if fmt == "JPEG":
        mode = "RGB"
    elif fmt == "GIF":
        mode = "P"
    elif image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        mode = "RGBA"
    else:
        mode = "RGB" if image.mode not in ("L", "RGB") else image.mode
    if fmt == "GIF":
        converted = image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    else:
        converted = image.convert(mode)
    fresh = Image.new(converted.mode, converted.size)
    if converted.mode == "P":
        palette = converted.getpalette()
        if palette is not None:
            fresh.putpalette(palette)
    fresh.paste(converted)
    fresh.info = {}
    return fresh


def _save(image: Image.Image, fmt: str) -> IO[bytes]:
    out = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 (the caller closes it)
    options: dict[str, object] = {}
    if fmt == "JPEG":
        options = {"quality": 85, "optimize": True, "progressive": True}
    elif fmt == "WEBP":
        options = {"quality": 85, "method": 4}
    elif fmt == "PNG":
        options = {"optimize": False}
    image.save(out, format=fmt, **options)
    out.seek(0)
    return out
