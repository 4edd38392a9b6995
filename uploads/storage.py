"""One small interface in front of where files are kept, chosen by URL like the broker.

``file://DIRECTORY`` keeps them on this host's disk (the embedded default);
``s3://BUCKET[/PREFIX]?endpoint=URL&region=NAME`` in any S3-compatible object store, so that
several app hosts serve the same files. Backends are imported lazily: boto3 is only needed
where S3 is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import IO, Protocol
from urllib.parse import urlsplit

__all__ = ["CHUNK", "Storage", "StoredFileMissing", "create_storage"]

# Files move in pieces of this size, never whole: a 50 MB upload costs ~1 MB of memory.
CHUNK = 256 * 1024


class StoredFileMissing(LookupError):
    """The store has nothing under this key."""


class Storage(Protocol):
    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        """Store the bytes of ``source`` (read from its start, in chunks) under ``key``."""

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks; ``StoredFileMissing`` if there are none."""

    async def delete(self, keys: list[str]) -> None:
        """Remove these keys; a key already gone is not an error."""

    async def close(self) -> None: ...


def create_storage(url: str) -> Storage:
    """``file://var/uploads`` (a directory, relative or absolute) or ``s3://bucket``."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        from uploads.files import FileStorage

        return FileStorage(url.removeprefix("file://").partition("?")[0])
    if parts.scheme == "s3":
        from uploads.s3 import S3Storage

        return S3Storage.from_url(url)
    raise ValueError(f"unsupported uploads URL scheme {parts.scheme!r}: use file:// or s3://")
