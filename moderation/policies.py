"""Does this post need approval? A pure function of user, board and thread, and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from forum.models import BoardRole, ModerationPolicy, PostKind, Role

__all__ = ["RuleSettings", "is_staff", "needs_approval"]

STAFF_BOARD_ROLES = frozenset({BoardRole.EXPERT, BoardRole.MODERATOR})
STAFF_SITE_ROLES = frozenset({Role.MODERATOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds of the policies and auto-hold rules; zero turns a rule off."""

    first_posts: int = 3
    link_account_days: int = 3
    duplicate_minutes: int = 60
    burst_posts: int = 5
    burst_seconds: int = 60
    flag_threshold: int = 3


def is_staff(role: Role | None, board_role: BoardRole | None) -> bool:
    """Site moderators and admins everywhere, a board's experts and moderators on their board."""
    return role in STAFF_SITE_ROLES or board_role in STAFF_BOARD_ROLES


def needs_approval(
    role: Role | None,
    board_role: BoardRole | None,
    board_policy: ModerationPolicy,
    thread_policy: ModerationPolicy | None,
    published_count: int,
    settings: RuleSettings,
    *,
    live: bool = False,
    kind: str | None = PostKind.POST.value,
) -> tuple[str, ...]:
    """The reasons a post must wait for a moderator; empty when it goes out at once.

    A thread's own policy overrides its board's. In a live thread questions wait, so the
    moderators pick what reaches the experts, unless the thread's own policy is ``open``:
    an organiser turned pre-moderation off. ``kind=None`` (not known) counts as a question.
    """
    if is_staff(role, board_role):
        return ()
    reasons: list[str] = []
    policy = thread_policy or board_policy
    if policy is ModerationPolicy.PREMODERATED:
        reasons.append("premoderated")
    elif policy is ModerationPolicy.FIRST_POSTS and published_count < settings.first_posts:
        reasons.append("first_posts")
    live_open = thread_policy is ModerationPolicy.OPEN
    if live and not live_open and kind in (None, PostKind.QUESTION.value):
        reasons.append("live_question")
    return tuple(reasons)
