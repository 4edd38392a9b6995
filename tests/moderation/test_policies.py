"""needs_approval is a pure function: every policy path, without a database."""

from __future__ import annotations

import pytest

from forum.models import BoardRole, ModerationPolicy, Role
from moderation.policies import RuleSettings, is_staff, needs_approval

OPEN = ModerationPolicy.OPEN
PRE = ModerationPolicy.PREMODERATED
FIRST = ModerationPolicy.FIRST_POSTS
SETTINGS = RuleSettings(first_posts=3)


def test_an_open_board_publishes_a_participants_post_at_once() -> None:
    assert needs_approval(Role.PARTICIPANT, None, OPEN, None, 0, SETTINGS) == ()


def test_a_premoderated_board_holds_every_participant_post() -> None:
    assert needs_approval(Role.PARTICIPANT, None, PRE, None, 500, SETTINGS) == ("premoderated",)


def test_a_board_member_is_still_premoderated() -> None:
    assert needs_approval(Role.PARTICIPANT, BoardRole.MEMBER, PRE, None, 0, SETTINGS) == (
        "premoderated",
    )


@pytest.mark.parametrize(("published", "held"), [(0, True), (2, True), (3, False), (10, False)])
def test_first_posts_holds_a_new_accounts_first_n_posts(published: int, held: bool) -> None:
    reasons = needs_approval(Role.PARTICIPANT, None, FIRST, None, published, SETTINGS)
    assert reasons == (("first_posts",) if held else ())


def test_the_number_of_first_posts_is_configurable() -> None:
    five = RuleSettings(first_posts=5)
    assert needs_approval(Role.PARTICIPANT, None, FIRST, None, 4, five) == ("first_posts",)
    assert needs_approval(Role.PARTICIPANT, None, FIRST, None, 5, five) == ()
    assert needs_approval(Role.PARTICIPANT, None, FIRST, None, 0, RuleSettings(first_posts=0)) == ()


def test_a_threads_policy_overrides_its_boards_both_ways() -> None:
    assert needs_approval(Role.PARTICIPANT, None, OPEN, PRE, 0, SETTINGS) == ("premoderated",)
    assert needs_approval(Role.PARTICIPANT, None, PRE, OPEN, 0, SETTINGS) == ()
    assert needs_approval(Role.PARTICIPANT, None, PRE, FIRST, 3, SETTINGS) == ()


def test_a_live_thread_premoderates_questions_but_not_other_posts() -> None:
    question = needs_approval(
        Role.PARTICIPANT, None, OPEN, None, 10, SETTINGS, live=True, kind="question"
    )
    post = needs_approval(Role.PARTICIPANT, None, OPEN, None, 10, SETTINGS, live=True, kind="post")
    assert question == ("live_question",)
    assert post == ()


def test_a_live_thread_holds_a_post_of_unknown_kind_to_be_safe() -> None:
    reasons = needs_approval(Role.PARTICIPANT, None, OPEN, None, 10, SETTINGS, live=True, kind=None)
    assert reasons == ("live_question",)


def test_a_question_outside_a_live_thread_follows_the_board() -> None:
    assert needs_approval(Role.PARTICIPANT, None, OPEN, None, 0, SETTINGS, kind="question") == ()


def test_reasons_add_up_on_a_premoderated_live_thread() -> None:
    reasons = needs_approval(
        Role.PARTICIPANT, None, OPEN, PRE, 0, SETTINGS, live=True, kind="question"
    )
    assert reasons == ("premoderated", "live_question")


@pytest.mark.parametrize(
    ("role", "board_role"),
    [
        (Role.PARTICIPANT, BoardRole.EXPERT),
        (Role.PARTICIPANT, BoardRole.MODERATOR),
        (Role.MODERATOR, None),
        (Role.ADMIN, None),
    ],
)
def test_board_staff_site_moderators_and_admins_bypass_every_policy(
    role: Role, board_role: BoardRole | None
) -> None:
    assert is_staff(role, board_role)
    for policy in (OPEN, PRE, FIRST):
        assert needs_approval(role, board_role, policy, PRE, 0, SETTINGS, live=True) == ()


def test_a_site_expert_without_a_board_role_is_not_staff_there() -> None:
    assert not is_staff(Role.EXPERT, None)
    assert needs_approval(Role.EXPERT, None, PRE, None, 0, SETTINGS) == ("premoderated",)


def test_a_live_thread_whose_own_policy_is_open_lets_questions_through() -> None:
    reasons = needs_approval(
        Role.PARTICIPANT, None, PRE, OPEN, 0, SETTINGS, live=True, kind="question"
    )
    assert reasons == ()
