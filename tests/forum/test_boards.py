"""Board actions without HTTP: who may create and edit boards, field rules, staff, visibility."""

from __future__ import annotations

from typing import Any

import pytest

from forum import boards
from forum.boards import BoardFields
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.models import Board, BoardRole, ModerationPolicy, OutboxEvent, Role, User
from forum.permissions import ANONYMOUS, Actor
from forum.web.inputs import board_fields
from tests.conftest import make_user


async def actor(username: str, role: Role = Role.PARTICIPANT) -> Actor:
    return await boards.load_actor(await make_user(username=username, role=role))


async def board(admin: Actor, slug: str = "kankei", **fields: Any) -> Board:
    return await boards.create_board(
        admin, board_fields({"slug": slug, "title": "関係人口", **fields})
    )


def field_errors(error: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return set(error.value.fields)


# --- create and update ----------------------------------------------------------------------


async def test_an_admin_creates_a_board_with_cleaned_fields_and_defaults(db: None) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    created = await boards.create_board(
        admin, BoardFields(slug="iju-2", title="  移住・定住  ", description=" 説明 \n")
    )
    saved = await Board.get(id=created.id)
    assert (saved.slug, saved.title, saved.description) == ("iju-2", "移住・定住", "説明")
    assert saved.moderation is ModerationPolicy.OPEN
    assert (saved.private, saved.position) == (False, 0)


@pytest.mark.parametrize("role", [Role.PARTICIPANT, Role.EXPERT, Role.MODERATOR])
async def test_only_admins_create_or_edit_boards(db: None, role: Role) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    existing = await board(admin)
    someone = await actor("someone", role)
    with pytest.raises(Forbidden):
        await board(someone, "other")
    with pytest.raises(Forbidden):
        await boards.update_board(someone, existing, BoardFields(title="乗っ取り"))
    with pytest.raises(Forbidden):
        await board(ANONYMOUS, "other")
    assert await Board.filter(slug="other").count() == 0
    assert (await Board.get(id=existing.id)).title == "関係人口"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, {"slug", "title"}),
        ({"slug": "Kankei", "title": "t"}, {"slug"}),
        ({"slug": "-kankei", "title": "t"}, {"slug"}),
        ({"slug": "k" * 41, "title": "t"}, {"slug"}),
        ({"slug": 7, "title": "t"}, {"slug"}),
        ({"slug": "kankei", "title": "   "}, {"title"}),
        ({"slug": "kankei", "title": "t" * 101}, {"title"}),
        ({"slug": "kankei", "title": "t", "description": "d" * 2001}, {"description"}),
        ({"slug": "kankei", "title": "t", "moderation": "strict"}, {"moderation"}),
        ({"slug": "kankei", "title": "t", "private": "yes"}, {"private"}),
        ({"slug": "kankei", "title": "t", "position": True}, {"position"}),
        ({"slug": "kankei", "title": "t", "position": "1"}, {"position"}),
    ],
)
async def test_bad_board_fields_are_named_and_nothing_is_created(
    db: None, data: dict[str, Any], fields: set[str]
) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    with pytest.raises(ValidationFailed) as refused:
        await boards.create_board(admin, board_fields(data))
    assert field_errors(refused) == fields
    assert await Board.all().count() == 0


async def test_a_taken_slug_is_refused_with_its_own_code(db: None) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    await board(admin)
    with pytest.raises(ValidationFailed) as taken:
        await board(admin)
    assert taken.value.code == "slug_taken"
    assert field_errors(taken) == {"slug"}


async def test_an_update_changes_the_fields_given_keeps_the_slug_and_emits_one_event(
    db: None,
) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    existing = await board(admin)
    await boards.update_board(
        admin, existing, BoardFields(slug="moved", title="新しい名前", private=True, position=3)
    )
    saved = await Board.get(id=existing.id)
    assert (saved.slug, saved.title, saved.private, saved.position) == (
        "kankei",
        "新しい名前",
        True,
        3,
    )
    assert saved.description == ""
    events = await OutboxEvent.filter(channel="board:kankei")
    assert [(e.name, e.payload["private"], e.payload["title"]) for e in events] == [
        ("board.updated", True, "新しい名前")
    ]


async def test_an_update_with_nothing_to_change_emits_nothing(db: None) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    existing = await board(admin)
    await boards.update_board(admin, existing, BoardFields(slug="ignored"))
    assert await OutboxEvent.filter(channel="board:kankei").count() == 0
    with pytest.raises(ValidationFailed):
        await boards.update_board(admin, existing, BoardFields(title=""))
    assert (await Board.get(id=existing.id)).title == "関係人口"


# --- visibility -----------------------------------------------------------------------------


async def test_private_boards_are_listed_and_found_only_for_members_and_site_staff(
    db: None,
) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    await board(admin, "open", position=2)
    hidden = await board(admin, "closed", private=True, position=1)
    insider = await make_user(username="insider")
    await boards.add_staff(admin, hidden, "insider", BoardRole.MEMBER.value)
    member, outsider = await boards.load_actor(insider), await actor("outsider")
    moderator = await actor("mod-kato", Role.MODERATOR)

    for reader in (admin, member, moderator):
        assert [b.slug for b in await boards.list_boards(reader)] == ["closed", "open"]
        assert (await boards.get_board(reader, "closed")).id == hidden.id
    for stranger in (outsider, ANONYMOUS):
        assert [b.slug for b in await boards.list_boards(stranger)] == ["open"]
        with pytest.raises(NotFound):
            await boards.get_board(stranger, "closed")
    with pytest.raises(NotFound):
        await boards.get_board(admin, "nowhere")


# --- staff ----------------------------------------------------------------------------------


async def test_staff_are_added_changed_and_removed_by_admins_only(db: None) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    kankei = await board(admin)
    await make_user(username="tanaka")
    added = await boards.add_staff(admin, kankei, "tanaka", "expert")
    changed = await boards.add_staff(admin, kankei, "tanaka", "moderator")
    assert changed.id == added.id and changed.role is BoardRole.MODERATOR
    tanaka = await boards.load_actor(await User.get(username="tanaka"))
    assert tanaka.board_roles == {kankei.id: BoardRole.MODERATOR}
    assert [m.user.username for m in await boards.list_members(kankei)] == ["tanaka"]

    participant = await actor("suzuki")
    with pytest.raises(Forbidden):
        await boards.add_staff(participant, kankei, "suzuki", "moderator")
    with pytest.raises(Forbidden):
        await boards.remove_staff(participant, kankei, "tanaka")
    with pytest.raises(ValidationFailed) as bad_role:
        await boards.add_staff(admin, kankei, "tanaka", "owner")
    assert field_errors(bad_role) == {"role"}
    with pytest.raises(NotFound):
        await boards.add_staff(admin, kankei, "nobody", "expert")

    assert await boards.remove_staff(admin, kankei, "tanaka") is True
    assert await boards.remove_staff(admin, kankei, "tanaka") is False
    assert await boards.list_members(kankei) == []
    with pytest.raises(NotFound):
        await boards.remove_staff(admin, kankei, "nobody")


async def test_an_actor_carries_its_role_on_each_board(db: None) -> None:
    admin = await actor("admin-sato", Role.ADMIN)
    first, second = await board(admin, "first"), await board(admin, "second")
    user = await make_user(username="tanaka")
    await boards.add_staff(admin, first, "tanaka", "expert")
    await boards.add_staff(admin, second, "tanaka", "member")
    loaded = await boards.load_actor(user)
    assert loaded.user == user
    assert loaded.board_roles == {first.id: BoardRole.EXPERT, second.id: BoardRole.MEMBER}
    assert await boards.load_actor(None) == ANONYMOUS
