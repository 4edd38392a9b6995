"""Permissions are pure functions of an actor and objects: tested without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.models import Board, BoardRole, Post, PostStatus, Role, Thread, User
from forum.permissions import (
    ANONYMOUS,
    Actor,
    can_edit_post,
    can_moderate,
    can_post_in,
    can_read_board,
    can_see_author,
    can_see_post,
    can_start_thread,
)

BOARD_A = 1
BOARD_B = 2


def actor(
    *, user_id: int = 10, role: Role = Role.PARTICIPANT, boards: dict[int, BoardRole] | None = None
) -> Actor:
    return Actor(user=User(id=user_id, username=f"u{user_id}", role=role), board_roles=boards or {})


def board(*, board_id: int = BOARD_A, private: bool = False) -> Board:
    return Board(id=board_id, slug=f"b{board_id}", title="t", private=private)


def post(
    *, author_id: int = 10, status: PostStatus = PostStatus.PUBLISHED, anonymous: bool = False
) -> Post:
    instance = Post(id=1, status=status, anonymous=anonymous, body="", html="")
    instance.author_id = author_id  # type: ignore[attr-defined]  # set by Tortoise.init normally
    return instance


def test_public_boards_are_readable_by_everyone_private_ones_by_members_and_site_staff() -> None:
    assert can_read_board(ANONYMOUS, board())
    assert not can_read_board(ANONYMOUS, board(private=True))
    assert not can_read_board(actor(), board(private=True))
    assert can_read_board(actor(boards={BOARD_A: BoardRole.MEMBER}), board(private=True))
    assert not can_read_board(actor(boards={BOARD_B: BoardRole.MEMBER}), board(private=True))
    assert can_read_board(actor(role=Role.MODERATOR), board(private=True))


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (actor(), False),
        (actor(role=Role.EXPERT), False),
        (actor(boards={BOARD_A: BoardRole.MEMBER}), False),
        (actor(boards={BOARD_A: BoardRole.EXPERT}), True),
        (actor(boards={BOARD_A: BoardRole.MODERATOR}), True),
        (actor(boards={BOARD_B: BoardRole.MODERATOR}), False),
        (actor(role=Role.MODERATOR), True),
        (actor(role=Role.ADMIN), True),
        (ANONYMOUS, False),
    ],
)
def test_who_moderates_board_a(subject: Actor, expected: bool) -> None:
    assert can_moderate(subject, BOARD_A) is expected


def test_silenced_users_cannot_start_threads_or_post() -> None:
    silenced = actor()
    assert silenced.user is not None
    silenced.user.silenced_until = datetime.now(UTC) + timedelta(hours=1)
    thread = Thread(id=1, board_id=BOARD_A, title="t")
    assert not can_start_thread(silenced, board())
    assert not can_post_in(silenced, thread, board())
    assert can_post_in(actor(), thread, board())
    assert not can_post_in(ANONYMOUS, thread, board())


def test_locked_threads_take_posts_from_their_moderators_only() -> None:
    thread = Thread(id=1, board_id=BOARD_A, title="t", locked=True)
    assert not can_post_in(actor(), thread, board())
    assert can_post_in(actor(boards={BOARD_A: BoardRole.MODERATOR}), thread, board())


def test_a_pending_post_is_seen_by_its_author_and_moderators_only() -> None:
    pending = post(status=PostStatus.PENDING)
    assert can_see_post(actor(user_id=10), pending, BOARD_A)
    assert not can_see_post(actor(user_id=11), pending, BOARD_A)
    assert not can_see_post(ANONYMOUS, pending, BOARD_A)
    assert can_see_post(actor(user_id=11, boards={BOARD_A: BoardRole.EXPERT}), pending, BOARD_A)
    assert not can_see_post(actor(user_id=11, boards={BOARD_B: BoardRole.EXPERT}), pending, BOARD_A)
    assert not can_see_post(actor(user_id=10), post(status=PostStatus.DELETED), BOARD_A)


def test_authors_and_moderators_edit_posts() -> None:
    assert can_edit_post(actor(user_id=10), post(), BOARD_A)
    assert not can_edit_post(actor(user_id=11), post(), BOARD_A)
    assert can_edit_post(actor(user_id=11, role=Role.MODERATOR), post(), BOARD_A)
    assert not can_edit_post(ANONYMOUS, post(), BOARD_A)


def test_anonymous_questions_hide_their_author_from_everyone_outside_moderation() -> None:
    question = post(anonymous=True)
    moderator = actor(user_id=11, boards={BOARD_A: BoardRole.MODERATOR})
    assert not can_see_author(actor(user_id=10), question, BOARD_A)
    assert not can_see_author(actor(user_id=11), question, BOARD_A)
    assert not can_see_author(ANONYMOUS, question, BOARD_A)
    assert not can_see_author(moderator, question, BOARD_A)
    assert can_see_author(moderator, question, BOARD_A, moderating=True)
    assert not can_see_author(moderator, question, BOARD_B, moderating=True)
    assert not can_see_author(actor(user_id=10), question, BOARD_A, moderating=True)
    assert can_see_author(ANONYMOUS, post(), BOARD_A)
