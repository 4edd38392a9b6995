"""Who may see and do what: pure functions of an actor and the objects concerned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from forum.models import Board, BoardRole, Post, PostStatus, Role, Thread, User

__all__ = [
    "ANONYMOUS",
    "Actor",
    "Login",
    "can_create_board",
    "can_edit_post",
    "can_moderate",
    "can_post_in",
    "can_read_board",
    "can_retitle",
    "can_see_author",
    "can_see_post",
    "can_start_thread",
]

STAFF_ROLES = frozenset({BoardRole.EXPERT, BoardRole.MODERATOR})


@dataclass(frozen=True, slots=True)
class Login:
    """How an actor signed in: a login session (``key`` its stored id) or an API token
    (``key`` its stored hash). An open socket keeps it, to be checked again when the
    user's access changes."""

    kind: str  # "session" or "token"
    key: str


@dataclass(frozen=True, slots=True)
class Actor:
    """The user behind a request, with their standing on each board, loaded once."""

    user: User | None = None
    board_roles: Mapping[int, BoardRole] = field(default_factory=dict)
    login: Login | None = None

    @property
    def id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def role(self) -> Role | None:
        return self.user.role if self.user else None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_site_moderator(self) -> bool:
        return self.role in (Role.ADMIN, Role.MODERATOR)

    def is_silenced(self, now: datetime | None = None) -> bool:
        until = self.user.silenced_until if self.user else None
        return until is not None and until > (now or datetime.now(UTC))


ANONYMOUS = Actor()


def can_read_board(actor: Actor, board: Board) -> bool:
    if not board.private:
        return True
    return actor.is_site_moderator or board.id in actor.board_roles


def can_moderate(actor: Actor, board_id: int) -> bool:
    """Site moderators and admins moderate every board; experts and moderators their own."""
    return actor.is_site_moderator or actor.board_roles.get(board_id) in STAFF_ROLES


def can_create_board(actor: Actor) -> bool:
    return actor.is_admin


def can_start_thread(actor: Actor, board: Board) -> bool:
    return actor.user is not None and not actor.is_silenced() and can_read_board(actor, board)


def can_post_in(actor: Actor, thread: Thread, board: Board) -> bool:
    if actor.user is None or actor.is_silenced() or not can_read_board(actor, board):
        return False
    if thread.deleted:
        return False
    return not thread.locked or can_moderate(actor, board.id)


def can_see_post(actor: Actor, post: Post, board_id: int) -> bool:
    if post.status is PostStatus.PUBLISHED:
        return True
    if post.status is PostStatus.DELETED:
        return False
    return (actor.id is not None and post.author_id == actor.id) or can_moderate(  # type: ignore[attr-defined]
        actor, board_id
    )


def can_edit_post(actor: Actor, post: Post, board_id: int) -> bool:
    if actor.user is None or post.status is PostStatus.DELETED:
        return False
    if can_moderate(actor, board_id):
        return True
    return post.author_id == actor.id and not actor.is_silenced()  # type: ignore[attr-defined]


def can_retitle(actor: Actor, thread: Thread, board_id: int) -> bool:
    """Moderators retitle any thread; its author an unlocked one, unless silenced."""
    if actor.user is None or thread.deleted:
        return False
    if can_moderate(actor, board_id):
        return True
    author_id = thread.author_id  # type: ignore[attr-defined]
    return author_id == actor.id and not thread.locked and not actor.is_silenced()


def can_see_author(actor: Actor, post: Post, board_id: int, *, moderating: bool = False) -> bool:
    """An anonymous question names its author only where moderation needs it.

    On the thread, the question board, the expert console and the presenter view everyone
    sees 匿名, its author and the board's moderators included: those screens are read out
    on stage and shared in the hall. ``moderating`` is for the queue and the moderation
    tools, which show the name to the board's moderators beside a 匿名 marker.
    """
    if not post.anonymous:
        return True
    return moderating and can_moderate(actor, board_id)


def board_roles_of(rows: Mapping[int, str]) -> dict[int, BoardRole]:
    return {board_id: BoardRole(role) for board_id, role in rows.items()}
