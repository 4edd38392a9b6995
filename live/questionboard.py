"""The read side of a live session's questions: the question board, the expert console and
the presenter view all show the same rows, loaded here in one query.

None of these screens names an anonymous asker, whoever looks (``can_see_author`` without
``moderating``): the console is read out on stage and the presenter view is on the hall's
screen. Only the moderation queue names them, to the board's moderators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from forum import events, outbox, posts
from forum.errors import Forbidden
from forum.i18n import gettext as _
from forum.models import AnswerState, Post, PostKind, PostStatus, User
from forum.permissions import Actor, can_moderate, can_see_author
from live.models import LiveSession, SessionStaff, StaffRole

__all__ = [
    "ANSWERED",
    "MAX_QUESTIONS",
    "STATES",
    "Answer",
    "Filter",
    "Question",
    "Sort",
    "can_console",
    "check_console",
    "feed",
    "is_session_expert",
    "load_answers",
    "load_questions",
    "state_of",
]

# A national forum gathers hundreds of questions; past this the board shows the top ones.
MAX_QUESTIONS = 500

ANSWERED = frozenset({AnswerState.ANSWERED_LIVE.value, AnswerState.ANSWERED_WRITTEN.value})


# Every answer state, in the order a question moves through them.
STATES = tuple(state.value for state in AnswerState)


class Sort(StrEnum):
    VOTES = "votes"
    NEW = "new"


class Filter(StrEnum):
    """What the board shows; ``ALL`` folds the answered questions away."""

    ALL = ""
    OPEN = "open"  # open or assigned: nobody is answering yet
    ANSWERING = "answering"
    ANSWERED = "answered"
    DEFERRED = "deferred"

    def shows(self, state: str) -> bool:
        if self is Filter.ALL:
            return True
        if self is Filter.OPEN:
            return state in (AnswerState.OPEN.value, AnswerState.ASSIGNED.value)
        if self is Filter.ANSWERED:
            return state in ANSWERED
        return state == self.value


@dataclass(frozen=True, slots=True)
class Question:
    """One published question as every screen of the session shows it."""

    id: int
    html: str
    votes: int
    state: str
    created_at: datetime
    asker: str | None  # a display name; None for an anonymous question, on every screen
    assigned_to: User | None
    similar_count: int
    voted: bool  # the viewer's own vote
    own: bool  # the viewer asked it (and may not vote for it)

    @property
    def answered(self) -> bool:
        return self.state in ANSWERED


async def feed(session: LiveSession) -> tuple[str, int]:
    """The channel the session's questions change on (its thread's) and its head, read
    before the rows so that a page is never older than the position it resumes from."""
    channel = events.thread_channel(session.thread_id)  # type: ignore[attr-defined]
    return channel, await outbox.head(channel)


@dataclass(frozen=True, slots=True)
class Answer:
    """An expert's written answer, shown under its question marked 有識者の回答."""

    id: int
    html: str
    expert: str  # the expert's display name: answers are never anonymous
    created_at: datetime


async def load_answers(questions: Sequence[Question]) -> dict[int, list[Answer]]:
    """The published written answers to ``questions``, by question, oldest first, in one query."""
    ids = [q.id for q in questions if q.state == AnswerState.ANSWERED_WRITTEN.value]
    if not ids:
        return {}
    rows = (
        await Post.filter(reply_to_id__in=ids, kind=PostKind.ANSWER, status=PostStatus.PUBLISHED)
        .order_by("id")
        .select_related("author")
    )
    found: dict[int, list[Answer]] = {}
    for post in rows:
        answer = Answer(post.id, post.html, post.author.display_name, post.created_at)
        found.setdefault(post.reply_to_id, []).append(answer)  # type: ignore[attr-defined]
    return found


def state_of(post: Post) -> str:
    return post.answer_state.value if post.answer_state else AnswerState.OPEN.value


async def load_questions(
    actor: Actor, session: LiveSession, *, sort: Sort = Sort.VOTES
) -> list[Question]:
    """The session's published questions (merged duplicates left out), in ``sort`` order.

    One query for the rows, their askers and assignees, and one for the viewer's votes.
    """
    thread_id = session.thread_id  # type: ignore[attr-defined]
    order = ("-votes", "id") if sort is Sort.VOTES else ("-id",)
    rows = (
        await Post.filter(
            thread_id=thread_id,
            kind=PostKind.QUESTION,
            status=PostStatus.PUBLISHED,
            merged_into_id__isnull=True,
        )
        .order_by(*order)
        .limit(MAX_QUESTIONS)
        .select_related("author", "assigned_to")
    )
    voted = await posts.voted_questions(actor, rows)
    board_id = session.board_id  # type: ignore[attr-defined]
    return [
        Question(
            id=post.id,
            html=post.html,
            votes=post.votes,
            state=state_of(post),
            created_at=post.created_at,
            asker=post.author.display_name if can_see_author(actor, post, board_id) else None,
            assigned_to=post.assigned_to,
            similar_count=post.similar_count,
            voted=post.id in voted,
            own=actor.id is not None and post.author_id == actor.id,  # type: ignore[attr-defined]
        )
        for post in rows
    ]


def can_console(actor: Actor, session: LiveSession, staff: Sequence[SessionStaff]) -> bool:
    """The expert console: the session's experts and moderators, its organiser, and the
    board's staff (its experts and moderators, and site moderators)."""
    if actor.id is None:
        return False
    if actor.id == session.organiser_id or can_moderate(actor, session.board_id):  # type: ignore[attr-defined]
        return True
    return any(s.user_id == actor.id for s in staff)  # type: ignore[attr-defined]


def check_console(actor: Actor, session: LiveSession, staff: Sequence[SessionStaff]) -> None:
    if not can_console(actor, session, staff):
        raise Forbidden(_("有識者の回答画面は、このイベントの有識者とモデレーターが使えます。"))


def is_session_expert(actor: Actor, staff: Sequence[SessionStaff]) -> bool:
    return any(
        s.user_id == actor.id and s.role is StaffRole.EXPERT  # type: ignore[attr-defined]
        for s in staff
    )
