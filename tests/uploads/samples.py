"""Files of every kind the uploads take or refuse, made in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import ExifTags, Image

GPS = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (35.0, 41.0, 22.0)}


def image(fmt: str, size: tuple[int, int] = (640, 480), *, gps: bool = False) -> bytes:
    picture = Image.new("RGB", size, (200, 120, 40))
    for x in range(0, size[0], 7):
        picture.putpixel((x, x % size[1]), (0, 0, 255))
    out = io.BytesIO()
    options: dict[str, object] = {}
    if gps:
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "KoryuCam"
        exif[ExifTags.IFD.GPSInfo] = GPS
        options["exif"] = exif
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    return image("JPEG", gps=True)


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

_OFFICE_MAIN = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


def office(kind: str, *, macro: bool = False, bomb: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(_OFFICE_MAIN[kind], '<?xml version="1.0"?><document/>')
        if macro:
            archive.writestr("word/vbaProject.bin", b"\x00" * 64)
        if bomb:
            archive.writestr("word/media/huge.bin", b"\x00" * 40_000_000)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A PNG whose header claims 3.6 gigapixels, in a few hundred bytes."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + width // 8) * 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )


def truncated_png() -> bytes:
    whole = image("PNG", (800, 600))
    return whole[: len(whole) // 2]


def png_with_zip() -> bytes:
    """An image that is also an archive (GIFAR-style): appended after the image's end."""
    return image("PNG", (32, 32)) + office("docx")


def gif_with_script() -> bytes:
    return b"GIF89a/*<script>alert(1)</script>*/" + image("GIF", (16, 16))[6:]


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
