"""Which boards a moderator works in: their own boards only, every board for site moderators."""

from __future__ import annotations

import httpx2
import pytest

from forum.boards import load_actor
from moderation.access import list_moderated_boards
from tests.conftest import Member
from tests.moderation.support import board_staff, new_board, site_moderator

pytestmark = pytest.mark.asyncio


async def test_a_board_moderator_lists_only_the_boards_they_moderate_in_display_order(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await new_board(client, admin, "board-c", position=3)
    await new_board(client, admin, "board-a", position=1)
    await new_board(client, admin, "board-b", position=2)
    moderator = await board_staff(client, admin, "board-c", username="mod-c")
    response = await client.put(
        "/api/v1/boards/board-a/moderators/mod-c", json={"role": "moderator"}, headers=admin.headers
    )
    assert response.status_code == 200
    expert = await board_staff(client, admin, "board-b", username="expert-b", role="expert")

    mine = await list_moderated_boards(await load_actor(moderator.user))
    theirs = await list_moderated_boards(await load_actor(expert.user))

    assert [b.slug for b in mine] == ["board-a", "board-c"]
    assert [b.slug for b in theirs] == ["board-b"]


async def test_a_site_moderator_lists_every_board(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, "board-b", position=2)
    await new_board(client, admin, "board-a", position=1)

    everything = await list_moderated_boards(await load_actor((await site_moderator()).user))
    nothing = await list_moderated_boards(await load_actor(alice.user))

    assert [b.slug for b in everything] == ["board-a", "board-b"]
    assert nothing == []
