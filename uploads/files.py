"""Files on this host's disk, under one directory (``file://var/uploads``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, BinaryIO

from uploads.storage import CHUNK, StoredFileMissing

__all__ = ["FileStorage"]

# Keys are made by uploads.intake from random tokens: nothing else may name a path here.
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}(/[a-z]{1,16})?")


class FileStorage:
    def __init__(self, directory: str | Path) -> None:
        self.root = Path(directory)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        await asyncio.to_thread(self._put, self._path(key), source)

    @staticmethod
    def _put(path: Path, source: IO[bytes]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        source.seek(0)
        # Written beside its place and renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise StoredFileMissing(key) from None
        return _chunks(handle)

    async def delete(self, keys: list[str]) -> None:
        await asyncio.to_thread(self._delete, [self._path(key) for key in keys])

    @staticmethod
    def _delete(paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # the key's folder, once its last variant is gone

    async def close(self) -> None:
        return None


async def _chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()
