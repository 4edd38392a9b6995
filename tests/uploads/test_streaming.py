"""A 50 MB upload goes to the store in chunks: the server's memory stays flat."""

from __future__ import annotations

import dataclasses
import tracemalloc
from collections.abc import AsyncIterator

import httpx2
import pytest

from forum.config import Settings
from tests.conftest import Member

SIZE = 50 * 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, upload_max_bytes=SIZE + 1_000_000)


async def _body(boundary: str) -> AsyncIterator[bytes]:
    yield (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    yield b"%PDF-1.7\n"
    sent = 9
    block = b"0" * CHUNK
    while sent < SIZE:
        piece = block[: min(CHUNK, SIZE - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


async def test_a_50_mb_upload_keeps_the_servers_memory_flat(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    boundary = "koryu-stream"
    tracemalloc.start()
    try:
        response = await client.post(
            "/api/v1/uploads",
            content=_body(boundary),
            headers={**alice.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()["size"] == SIZE
    # Everything the request allocated at once, the test client's side included: a few MB
    # (the spool, chunks in flight), never the 50 MB file.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    served = await client.get(response.json()["url"], headers=alice.headers)
    assert len(served.content) == SIZE
