"""Board actions: create, edit, list, staff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from forum import accounts, events, outbox
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.events import AccessReason
from forum.i18n import gettext as _
from forum.models import Board, BoardMember, BoardRole, ModerationPolicy, User
from forum.permissions import Actor, Login, can_read_board

__all__ = [
    "BoardFields",
    "add_staff",
    "create_board",
    "get_board",
    "list_boards",
    "list_members",
    "load_actor",
    "refresh_actor",
    "remove_staff",
    "update_board",
]

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")


async def load_actor(user: User | None, *, login: Login | None = None) -> Actor:
    if user is None:
        return Actor()
    rows = await BoardMember.filter(user_id=user.id).values_list("board_id", "role")
    return Actor(user=user, board_roles={int(b): BoardRole(r) for b, r in rows}, login=login)


@dataclass(frozen=True, slots=True)
class BoardFields:
    """A board's fields as a request gives them; None leaves a field as it is."""

    slug: str | None = None
    title: str | None = None
    description: str | None = None
    moderation: str | None = None
    private: bool | None = None
    position: int | None = None


def _check_fields(data: BoardFields, *, creating: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if creating or data.slug is not None:
        if data.slug is None or not SLUG_RE.fullmatch(data.slug):
            errors["slug"] = _(
                "URL名は半角の英小文字・数字・ハイフンで、40文字以内で入力してください。"
            )
        else:
            clean["slug"] = data.slug
    if creating or data.title is not None:
        if data.title is None or not 1 <= len(data.title.strip()) <= 100:
            errors["title"] = _("タイトルは1〜100文字で入力してください。")
        else:
            clean["title"] = data.title.strip()
    if data.description is not None:
        if len(data.description) > 2000:
            errors["description"] = _("説明は2,000文字以内で入力してください。")
        else:
            clean["description"] = data.description.strip()
    if data.moderation is not None:
        try:
            clean["moderation"] = ModerationPolicy(data.moderation)
        except ValueError:
            errors["moderation"] = _("承認の方式を一覧から選んでください。")
    if data.private is not None:
        clean["private"] = data.private
    if data.position is not None:
        clean["position"] = data.position
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    return clean


async def create_board(actor: Actor, data: BoardFields) -> Board:
    if not actor.is_admin:
        raise Forbidden(_("掲示板を作成できるのは管理者だけです。"))
    fields = _check_fields(data, creating=True)
    try:
        return await Board.create(**fields)
    except IntegrityError:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="slug_taken",
            fields={"slug": _("このURL名はすでに使われています。別のURL名を入力してください。")},
        ) from None


async def update_board(actor: Actor, board: Board, data: BoardFields) -> Board:
    if not actor.is_admin:
        raise Forbidden(_("掲示板を編集できるのは管理者だけです。"))
    fields = _check_fields(data, creating=False)
    fields.pop("slug", None)  # the slug is the board's address; it does not change
    if fields:
        async with outbox.atomic() as tx:
            board.update_from_dict(fields)
            await board.save(update_fields=list(fields), using_db=tx.conn)
            # Every process learns of a board made private from this event, and stops
            # sending the board's threads to viewers who may no longer read them.
            tx.emit(events.board_updated(board))
    return board


async def get_board(actor: Actor, slug: str) -> Board:
    board = await Board.get_or_none(slug=slug)
    if board is None or not can_read_board(actor, board):
        raise NotFound(_("掲示板が見つかりません。"))
    return board


async def list_boards(actor: Actor) -> list[Board]:
    boards = await Board.all().order_by("position", "id")
    return [b for b in boards if can_read_board(actor, b)]


async def list_members(board: Board) -> list[BoardMember]:
    """Everyone with a standing on the board (experts, moderators, members of a private one)."""
    return await BoardMember.filter(board_id=board.id).select_related("user").order_by("role", "id")


async def add_staff(actor: Actor, board: Board, username: str, role: str) -> BoardMember:
    if not actor.is_admin:
        raise Forbidden(_("担当者を設定できるのは管理者だけです。"))
    try:
        board_role = BoardRole(role)
    except ValueError:
        raise ValidationFailed(
            _("役割が正しくありません。"), fields={"role": _("役割を選んでください。")}
        ) from None
    user = await User.get_or_none(username=username)
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    async with outbox.atomic() as tx:
        member, created = await BoardMember.get_or_create(
            board=board, user=user, defaults={"role": board_role}, using_db=tx.conn
        )
        changed = created or member.role is not board_role
        if not created and changed:
            member.role = board_role
            await member.save(update_fields=["role"], using_db=tx.conn)
        if changed:
            # Open sockets take the new standing: a moderator made a member loses the
            # board's queue at once, a new expert may follow it without reconnecting.
            accounts.access_changed(tx, user.id, AccessReason.BOARD_ROLE)
    return member


async def remove_staff(actor: Actor, board: Board, username: str) -> bool:
    if not actor.is_admin:
        raise Forbidden(_("担当者を設定できるのは管理者だけです。"))
    user = await User.get_or_none(username=username)
    if user is None:
        raise NotFound(_("ユーザーが見つかりません。"))
    async with outbox.atomic() as tx:
        removed = (
            await BoardMember.filter(board_id=board.id, user_id=user.id).using_db(tx.conn).delete()
        )
        if removed:
            accounts.access_changed(tx, user.id, AccessReason.BOARD_ROLE)
    return bool(removed)


async def refresh_actor(actor: Actor) -> Actor | None:
    """The actor read afresh from the database, for a socket held open since its handshake:
    None when the login it was opened with has ended. Visitors stay visitors."""
    if actor.user is None:
        return actor
    if actor.login is None:
        return None
    user = await accounts.user_for_login(actor.login)
    if user is None or user.id != actor.user.id:
        return None
    return await load_actor(user, login=actor.login)
