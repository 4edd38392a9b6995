"""Any S3-compatible object store (``s3://BUCKET[/PREFIX]``), through boto3 on worker threads.

The URL may carry the endpoint and region as query parameters and the credentials as its
user part (``s3://KEY:SECRET@bucket?endpoint=http://127.0.0.1:9000&region=ap-northeast-1``);
without them boto3 looks in its usual places (environment, instance role).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from uploads.storage import CHUNK, StoredFileMissing

__all__ = ["S3Storage"]


@dataclass(frozen=True, slots=True)
class _Location:
    bucket: str
    prefix: str
    endpoint: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None


def _location(url: str) -> _Location:
    parts = urlsplit(url)
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    bucket = parts.hostname or ""
    if not bucket:
        raise ValueError("an s3:// URL names its bucket: s3://BUCKET[/PREFIX]")
    prefix = parts.path.strip("/")
    return _Location(
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        endpoint=query.get("endpoint"),
        region=query.get("region"),
        access_key=unquote(parts.username) if parts.username else None,
        secret_key=unquote(parts.password) if parts.password else None,
    )


class S3Storage:
    def __init__(self, location: _Location) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = location.bucket
        self.prefix = location.prefix
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=location.endpoint,
            region_name=location.region,
            aws_access_key_id=location.access_key,
            aws_secret_access_key=location.secret_key,
            config=Config(retries={"max_attempts": 3}, s3={"addressing_style": "path"}),
        )

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        return cls(_location(url))

    async def put(self, key: str, source: IO[bytes], content_type: str) -> None:
        source.seek(0)
        # One PUT with the file itself as the body: botocore sends and checksums it in small
        # blocks. (upload_fileobj would read multipart parts of 8 MB, ten at once, into memory.)
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=source,
            ContentType=content_type,
        )

    async def open(self, key: str) -> AsyncIterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            answer = await asyncio.to_thread(
                self.client.get_object, Bucket=self.bucket, Key=self.prefix + key
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise StoredFileMissing(key) from None
            raise
        return _chunks(answer["Body"])

    async def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # the most one DeleteObjects takes
            batch = [{"Key": self.prefix + key} for key in keys[start : start + 1000]]
            await asyncio.to_thread(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)


async def _chunks(body: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(body.read, CHUNK):
            yield chunk
    finally:
        body.close()
