"""Helpers of the sessions' tests: a board with a moderator, sessions made through the API,
and a clock the tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from tests.conftest import Member
from tests.moderation.support import board_staff, new_board

__all__ = ["T0", "FakeClock", "new_session", "setup_board"]

T0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 13:00 in Tokyo


@dataclass
class FakeClock:
    now: datetime = field(default=T0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def setup_board(client: httpx2.AsyncClient, admin: Member, slug: str = "kankei") -> Member:
    """A public board and its moderator, who organises the sessions."""
    await new_board(client, admin, slug)
    return await board_staff(client, admin, slug, username=f"org-{slug}")


async def new_session(
    client: httpx2.AsyncClient,
    organiser: Member,
    *,
    board: str = "kankei",
    starts_at: datetime = T0,
    minutes: int = 90,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "title": "分科会A 関係人口と地域の担い手",
        "kind": "breakout",
        "board": board,
        "description": "登壇者と**参加者**の質疑応答です。",
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=minutes)).isoformat(),
        **extra,
    }
    response = await client.post("/api/v1/sessions", json=body, headers=organiser.headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]
