"""The site always keeps an administrator: the last one can be neither demoted nor suspended."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx2
import pytest

from forum import accounts
from forum.config import Settings
from forum.errors import Conflict, ForumError
from forum.models import Role, User
from forum.permissions import Actor
from moderation import sanctions
from tests.conftest import Member, make_member, make_user
from tests.forum.support import log_in, token_for


async def test_the_only_admin_cannot_demote_themselves_and_keeps_the_role(db: None) -> None:
    await make_user(username="admin-sato", role=Role.ADMIN)
    with pytest.raises(Conflict) as refused:
        await accounts.change_role("admin-sato", "participant")
    assert refused.value.code == "last_admin"
    assert (await User.get(username="admin-sato")).role is Role.ADMIN


async def test_an_admin_may_be_demoted_while_another_admin_remains(db: None) -> None:
    await make_user(username="admin-sato", role=Role.ADMIN)
    await make_user(username="admin-kato", role=Role.ADMIN)
    assert (await accounts.change_role("admin-kato", "moderator")).role is Role.MODERATOR
    with pytest.raises(Conflict):
        await accounts.change_role("admin-sato", "moderator")


async def test_a_suspended_admin_does_not_count_as_the_remaining_admin(db: None) -> None:
    await make_user(username="admin-sato", role=Role.ADMIN)
    kato = await make_user(username="admin-kato", role=Role.ADMIN)
    kato.suspended_until = datetime.now(UTC) + timedelta(days=1)
    await kato.save(update_fields=["suspended_until"])
    with pytest.raises(Conflict):
        await accounts.change_role("admin-sato", "participant")
    assert (await User.get(username="admin-sato")).role is Role.ADMIN


async def test_two_admins_demoting_each_other_at_once_leave_exactly_one_admin(db: None) -> None:
    await make_user(username="admin-sato", role=Role.ADMIN)
    await make_user(username="admin-kato", role=Role.ADMIN)
    outcomes = await asyncio.gather(
        accounts.change_role("admin-sato", "participant"),
        accounts.change_role("admin-kato", "participant"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, ForumError)]
    assert len(refused) == 1 and refused[0].code == "last_admin"
    assert await User.filter(role=Role.ADMIN).count() == 1


async def test_on_postgresql_a_demotion_waits_for_one_in_flight_and_then_counts_it(
    db: None, settings: Settings
) -> None:
    """Two transactions each see the other admin: without the row locks both would commit."""
    if not settings.database_url.startswith("postgres"):
        pytest.skip("SQLite runs one writer at a time; the lock is PostgreSQL's")
    await make_user(username="admin-sato", role=Role.ADMIN)
    await make_user(username="admin-kato", role=Role.ADMIN)
    other = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://", 1))
    try:
        # What change_role does in another process, held open before its commit.
        await other.execute("BEGIN")
        await other.execute("SELECT id FROM users WHERE role = 'admin' FOR UPDATE")
        await other.execute("UPDATE users SET role = 'participant' WHERE username = 'admin-sato'")
        second = asyncio.create_task(accounts.change_role("admin-kato", "participant"))
        await asyncio.sleep(0.5)
        assert not second.done(), "the second demotion went ahead without waiting"
        await other.execute("COMMIT")
        with pytest.raises(Conflict):
            await second
    finally:
        await other.close()
    admins = await User.filter(role=Role.ADMIN)
    assert [u.username for u in admins] == ["admin-kato"]


async def test_the_last_admin_cannot_be_suspended_by_a_site_moderator(db: None) -> None:
    admin = await make_user(username="admin-sato", role=Role.ADMIN)
    moderator = await make_user(username="mod-kato", role=Role.MODERATOR)
    order = sanctions.SanctionOrder(kind="suspend", hours=24)
    with pytest.raises(ForumError) as refused:
        await sanctions.sanction(Actor(user=moderator), "admin-sato", order)
    assert refused.value.status == 403
    assert (await User.get(id=admin.id)).suspended_until is None


async def test_the_api_answers_409_last_admin_when_the_only_admin_demotes_themselves(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    response = await client.put(
        "/api/v1/users/admin-sato/role", json={"role": "participant"}, headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "last_admin"
    assert (await User.get(id=admin.user.id)).role is Role.ADMIN


async def test_an_admin_changing_their_own_role_on_the_page_is_asked_to_confirm_first(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await make_member(username="admin-kato", role=Role.ADMIN)
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    form = {"username": "admin-sato", "role": "moderator", "expert_field": "", "csrf_token": token}
    asked = await client.post("/admin/users/role", data=form)
    assert asked.status_code == 200
    assert 'name="confirm" value="1"' in asked.text
    assert (await User.get(id=admin.user.id)).role is Role.ADMIN

    done = await client.post("/admin/users/role", data={**form, "confirm": "1"})
    assert done.status_code == 303
    assert (await User.get(id=admin.user.id)).role is Role.MODERATOR


async def test_the_last_admin_confirming_their_own_demotion_on_the_page_gets_409(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    form = {"username": "admin-sato", "role": "participant", "confirm": "1", "csrf_token": token}
    response = await client.post("/admin/users/role", data=form)
    assert response.status_code == 409
    assert "最後の管理者" in response.text
    assert (await User.get(id=admin.user.id)).role is Role.ADMIN


async def test_an_admin_changing_another_users_role_is_not_asked_to_confirm(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    form = {"username": "alice", "role": "moderator", "csrf_token": token}
    assert (await client.post("/admin/users/role", data=form)).status_code == 303
    assert (await User.get(id=alice.user.id)).role is Role.MODERATOR
