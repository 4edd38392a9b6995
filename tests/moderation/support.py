"""Helpers of the moderation tests: boards with staff, posts through the API, events read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from forum.models import OutboxEvent, Role, User
from tests.conftest import Member, make_member


async def new_board(
    client: httpx2.AsyncClient, admin: Member, slug: str = "kankei", **extra: Any
) -> dict[str, Any]:
    body = {"slug": slug, "title": f"掲示板 {slug}", "description": "説明", **extra}
    response = await client.post("/api/v1/boards", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    board: dict[str, Any] = response.json()
    return board


async def board_staff(
    client: httpx2.AsyncClient, admin: Member, slug: str, *, username: str, role: str = "moderator"
) -> Member:
    member = await make_member(username=username)
    response = await client.put(
        f"/api/v1/boards/{slug}/moderators/{username}", json={"role": role}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return member


async def site_moderator(username: str = "mod-kato") -> Member:
    return await make_member(username=username, role=Role.MODERATOR)


async def new_thread(
    client: httpx2.AsyncClient,
    member: Member,
    slug: str = "kankei",
    *,
    title: str = "ふるさと納税の活用",
    body: str = "寄附者と継続的な関係をつくるには？",
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/boards/{slug}/threads",
        json={"title": title, "body": body},
        headers=member.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def reply(
    client: httpx2.AsyncClient, member: Member, thread_id: int, body: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": body, **extra}, headers=member.headers
    )
    assert response.status_code == 201, response.text
    post: dict[str, Any] = response.json()
    return post


async def age(member: Member, *, days: int) -> None:
    """Make an account look older than it is (the link rule looks at its age)."""
    stamp = datetime.now(UTC) - timedelta(days=days)
    await User.filter(id=member.user.id).update(created_at=stamp)
    member.user.created_at = stamp


async def queue(client: httpx2.AsyncClient, member: Member, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/moderation/queue", params=params, headers=member.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def decide(
    client: httpx2.AsyncClient, member: Member, item: dict[str, Any], action: str, **body: Any
) -> httpx2.Response:
    return await client.post(
        f"/api/v1/moderation/items/{item['id']}/{action}",
        json={"version": item["version"], **body},
        headers=member.headers,
    )


async def events(channel: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await OutboxEvent.filter(channel=channel).order_by("seq")
    return [(row.name, row.payload) for row in rows]


async def event_names(channel: str) -> list[str]:
    return [name for name, _data in await events(channel)]


def error_code(response: httpx2.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"]
    return str(body["error"]["code"])
