"""Helpers of the uploads' tests: send a file as a member would."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.conftest import Member


async def upload(
    client: httpx2.AsyncClient,
    member: Member,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> httpx2.Response:
    return await client.post(
        "/api/v1/uploads", files={"file": (name, data, content_type)}, headers=member.headers
    )


async def uploaded(
    client: httpx2.AsyncClient, member: Member, name: str, data: bytes
) -> dict[str, Any]:
    response = await upload(client, member, name, data)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
