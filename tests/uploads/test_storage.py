"""The store is chosen by URL, as the broker is; a URL that cannot work is refused at start."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from forum.config import ConfigError, Settings
from uploads.files import FileStorage
from uploads.s3 import S3Storage
from uploads.storage import StoredFileMissing, create_storage


def test_the_uploads_url_picks_the_backend() -> None:
    assert isinstance(create_storage("file://var/uploads"), FileStorage)
    s3 = create_storage("s3://k:s@bucket/prefix?endpoint=http://127.0.0.1:9&region=ap-northeast-1")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "prefix/")
    with pytest.raises(ValueError, match="unsupported uploads URL scheme"):
        create_storage("ftp://files")


@pytest.mark.parametrize("url", ["s3://", "file://", "http://example.jp/x", "var/uploads"])
def test_a_malformed_uploads_url_is_refused_with_its_name(url: str) -> None:
    with pytest.raises(ConfigError, match="KORYU_UPLOADS_URL"):
        Settings.from_env({"KORYU_UPLOADS_URL": url, "KORYU_SECRET_KEY": "x"})


def test_upload_limits_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "KORYU_SECRET_KEY": "x",
            "KORYU_UPLOAD_MAX_BYTES": "5000000",
            "KORYU_UPLOADS_PER_POST": "3",
        }
    )
    assert (settings.upload_max_bytes, settings.uploads_per_post) == (5_000_000, 3)
    with pytest.raises(ConfigError, match="KORYU_UPLOADS_PER_DAY"):
        Settings.from_env({"KORYU_SECRET_KEY": "x", "KORYU_UPLOADS_PER_DAY": "0"})


async def test_the_disk_store_refuses_keys_it_did_not_make(tmp_path: Path) -> None:
    store = FileStorage(tmp_path)
    with pytest.raises(ValueError, match="not a storage key"):
        await store.put("../../etc/passwd", io.BytesIO(b"x"), "text/plain")
    key = "A" * 43 + "/file"
    await store.put(key, io.BytesIO(b"hello"), "text/plain")
    chunks = [chunk async for chunk in await store.open(key)]
    assert b"".join(chunks) == b"hello"
    await store.delete([key])
    with pytest.raises(StoredFileMissing):
        await store.open(key)
    assert not (tmp_path / ("A" * 43)).exists()
