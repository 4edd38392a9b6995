"""The join link's QR code: an SVG drawn by segno, no image library needed."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg"]


def qr_svg(url: str, *, title: str) -> str:
    """An SVG with a title for screen readers, scaled by its viewBox to any size."""
    code = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        border=2,
        title=title,
        svgclass="qr",
        xmldecl=False,
        omitsize=True,
        light="#fff",
    )
    return out.getvalue().decode("utf-8")
