"""Which boards an actor moderates, as a query scope, and who may use the moderation tools."""

from __future__ import annotations

from forum.errors import Forbidden, NotAuthenticated
from forum.i18n import gettext as _
from forum.models import Board
from forum.permissions import Actor, can_moderate
from moderation.policies import STAFF_BOARD_ROLES

__all__ = [
    "check_admin",
    "check_moderator",
    "check_site_moderator",
    "list_moderated_boards",
    "moderated_boards",
]


def moderated_boards(actor: Actor) -> frozenset[int] | None:
    """The ids of the boards the actor moderates; None means every board."""
    if actor.is_site_moderator:
        return None
    return frozenset(b for b, role in actor.board_roles.items() if role in STAFF_BOARD_ROLES)


def check_moderator(actor: Actor, board_id: int | None = None) -> None:
    """Refuse anyone who moderates no board (or not the given one)."""
    if actor.user is None:
        raise NotAuthenticated(_("ログインしてください。"))
    if board_id is not None:
        allowed = can_moderate(actor, board_id)
    else:
        boards = moderated_boards(actor)
        allowed = boards is None or bool(boards)
    if not allowed:
        raise Forbidden(_("この操作はモデレーターだけができます。"))


def check_site_moderator(actor: Actor) -> None:
    if actor.user is None:
        raise NotAuthenticated(_("ログインしてください。"))
    if not actor.is_site_moderator:
        raise Forbidden(_("この操作はサイトのモデレーターと管理者だけができます。"))


def check_admin(actor: Actor) -> None:
    if actor.user is None:
        raise NotAuthenticated(_("ログインしてください。"))
    if not actor.is_admin:
        raise Forbidden(_("この操作は管理者だけができます。"))


async def list_moderated_boards(actor: Actor) -> list[Board]:
    """The boards the actor moderates (every board for site moderators), in display order."""
    scope = moderated_boards(actor)
    query = Board.all() if scope is None else Board.filter(id__in=sorted(scope))
    return await query.order_by("position", "id")
