"""Answer states of a live session's questions: who takes a question, who is answering now,
and how it ended (answered on stage, answered in writing, deferred).

    open ─▶ assigned ─▶ answering ─▶ answered_live | answered_written | deferred
      ▲________│____________│______________________________│  (back to open, or reassigned)

Every move is one conditional ``UPDATE … WHERE answer_state = <seen> AND assigned_to_id
<seen>`` (``select_for_update`` is a no-op on SQLite), so of two experts taking the same
question at once one gets it and the other a 409. An expert answers one question at a time:
"answering" on a new question puts the one they were answering back to ``assigned`` (the
stage moved on without closing it; it stays theirs), in the same transaction, serialised
per expert by first touching the expert's own staff row.

The session's experts move their own questions and free ones; the session's runners (its
organiser and moderators, the board's moderators, see ``sessions.can_run``) move any and
route a question to a named expert. Each change emits ``question.updated`` on the thread's
channel and tells the asker, in the transaction of the change; neither names the asker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forum import events, notifications, outbox, posts
from forum.errors import Conflict, Forbidden, ValidationFailed
from forum.i18n import gettext as _
from forum.models import (
    AnswerState,
    Board,
    NotificationKind,
    Post,
    PostKind,
    PostStatus,
    Thread,
    User,
)
from forum.permissions import Actor
from live.models import LiveSession, SessionStaff, StaffRole
from live.sessions import can_run

__all__ = [
    "ENDED",
    "HELD",
    "Desk",
    "check_answerer",
    "load_desk",
    "notify_askers",
    "record_written_answer",
    "set_answer_state",
    "state_of",
    "tell_askers",
]

# States in which a question belongs to an expert.
HELD = frozenset({AnswerState.ASSIGNED, AnswerState.ANSWERING})
ENDED = frozenset({AnswerState.ANSWERED_LIVE, AnswerState.ANSWERED_WRITTEN, AnswerState.DEFERRED})


def _reason(state: AnswerState) -> str:
    """Said to the asker, in their notice, when their question moves."""
    if state is AnswerState.OPEN:
        return _("質問は回答待ちに戻りました。")
    if state is AnswerState.ASSIGNED:
        return _("有識者が質問を担当することになりました。")
    if state is AnswerState.ANSWERING:
        return _("いま有識者が質問に回答しています。")
    if state is AnswerState.ANSWERED_LIVE:
        return _("質問は会場で回答されました。")
    if state is AnswerState.ANSWERED_WRITTEN:
        return _("有識者が質問に文章で回答しました。")
    return _("質問への回答は後日となりました。")


def state_of(post: Post) -> AnswerState:
    """A question's state; questions written before states existed are open."""
    return post.answer_state or AnswerState.OPEN


@dataclass(frozen=True, slots=True)
class Desk:
    """A question of a live session with what deciding on it needs: who runs the session
    and who answers in it."""

    post: Post
    thread: Thread
    board: Board
    session: LiveSession
    staff: list[SessionStaff]

    def is_expert(self, user_id: int | None) -> bool:
        return user_id is not None and any(
            s.user_id == user_id and s.role is StaffRole.EXPERT  # type: ignore[attr-defined]
            for s in self.staff
        )

    def runs(self, actor: Actor) -> bool:
        return can_run(actor, self.session, self.staff)


async def load_desk(actor: Actor, post_id: int) -> Desk:
    """The question ``post_id`` as ``actor`` may see it (404 otherwise: a merged question
    is deleted), of a live session's thread (422 otherwise) and published (409 otherwise)."""
    post, thread, board = await posts.get_post(actor, post_id)
    if post.kind is not PostKind.QUESTION:
        raise ValidationFailed(_("回答の状態を変えられるのは質問だけです。"), code="not_a_question")
    session = await LiveSession.get_or_none(thread_id=thread.id)
    if session is None:
        raise ValidationFailed(
            _("ライブ中のイベントの質問ではありません。"), code="not_a_live_question"
        )
    if post.status is not PostStatus.PUBLISHED:
        raise Conflict(_("この質問はまだ公開されていません。"), code="not_published")
    staff = await SessionStaff.filter(session_id=session.id)
    return Desk(post, thread, board, session, staff)


async def _named_expert(desk: Desk, username: str) -> User:
    user = await User.get_or_none(username=username.strip().lower())
    if user is None or not desk.is_expert(user.id):
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            code="not_an_expert",
            fields={"expert": _("このイベントの有識者を指定してください。")},
        )
    return user


async def _holder(post: Post) -> User:
    """The expert holding the question: loaded with it by ``posts.get_post``."""
    loaded = post.assigned_to
    if isinstance(loaded, User):
        return loaded
    return await User.get(id=post.assigned_to_id)  # type: ignore[attr-defined]


async def _assignee(
    actor: Actor, desk: Desk, state: AnswerState, expert: str | None
) -> User | None:
    """Who holds the question after the move, checking that the actor may make it."""
    post = desk.post
    current: int | None = post.assigned_to_id  # type: ignore[attr-defined]
    runs = desk.runs(actor)
    expert_self = desk.is_expert(actor.id)
    if not runs and not expert_self:
        raise Forbidden(
            _("質問の状態を変えられるのは、このイベントの有識者とモデレーターだけです。"),
            code="not_session_staff",
        )
    if not runs and current not in (None, actor.id):
        # Another expert's question: only the session's moderators take it from them.
        raise Conflict(_("この質問はほかの有識者が担当しています。"), code="assigned_to_other")
    if expert is not None:
        named = await _named_expert(desk, expert)
        if not runs and named.id != actor.id:
            raise Forbidden(
                _("ほかの有識者に割り当てられるのはモデレーターだけです。"),
                code="route_forbidden",
            )
        if state is AnswerState.OPEN:
            raise ValidationFailed(
                _("回答待ちの質問には担当者を指定できません。"), code="expert_not_allowed"
            )
        return named
    if state is AnswerState.OPEN:
        return None
    if state in HELD:
        if current is not None and (runs or current == actor.id):
            return await _holder(post)
        if expert_self:
            assert actor.user is not None
            return actor.user
        raise ValidationFailed(
            _("担当する有識者を指定してください。"),
            code="expert_required",
            fields={"expert": _("このイベントの有識者を指定してください。")},
        )
    # Answered or deferred: it stays with whoever held it (or the expert who closed it).
    if current is not None:
        return await _holder(post)
    if expert_self:
        assert actor.user is not None
        return actor.user
    return None


async def set_answer_state(
    actor: Actor, post_id: int, state: AnswerState, *, expert: str | None = None
) -> Post:
    """Move a question to ``state`` (``expert`` routes it to a named expert); returns the
    question with its assignee loaded. The same state and assignee again changes nothing."""
    if actor.user is None:
        raise Forbidden(_("ログインしてください。"), code="login_required")
    desk = await load_desk(actor, post_id)
    post = desk.post
    assignee = await _assignee(actor, desk, state, expert)
    seen_state = post.answer_state
    seen_assignee: int | None = post.assigned_to_id  # type: ignore[attr-defined]
    new_assignee = assignee.id if assignee is not None else None
    if state_of(post) is state and seen_assignee == new_assignee:
        post.assigned_to = assignee  # type: ignore[assignment]
        return post
    async with outbox.atomic() as tx:
        demoted: list[Post] = []
        if state is AnswerState.ANSWERING and assignee is not None:
            demoted = await _pause_others(tx, desk, assignee, post.id)
        changed = (
            await Post.filter(
                id=post.id,
                answer_state=seen_state,
                assigned_to_id=seen_assignee,
                status=PostStatus.PUBLISHED,
            )
            .using_db(tx.conn)
            .update(answer_state=state, assigned_to_id=new_assignee)
        )
        if changed != 1:
            raise Conflict(
                _("ほかの人が先にこの質問の状態を変えました。最新の状態を読み込んでください。"),
                code="answer_state_changed",
            )
        post.answer_state = state
        post.assigned_to = assignee  # type: ignore[assignment]
        # The paused question stays with its expert: its asker is not told again.
        tx.emit(*(events.question_updated(other, assignee) for other in demoted))
        tx.emit(events.question_updated(post, assignee))
        await tell_askers(tx, post, desk.thread, reason=_reason(state))
    return post


async def _pause_others(tx: outbox.Tx, desk: Desk, expert: User, keep: int) -> list[Post]:
    """Put the question the expert was answering back to ``assigned``: one at a time.

    The no-op update of the expert's staff row comes first and takes that row's lock on
    PostgreSQL (SQLite's write lock covers it), so two "answering" moves for one expert at
    once run one after the other and the second sees the first's question.
    """
    await (
        SessionStaff.filter(session_id=desk.session.id, user_id=expert.id)
        .using_db(tx.conn)
        .update(role=StaffRole.EXPERT)
    )
    rows = await Post.filter(
        thread_id=desk.thread.id,
        assigned_to_id=expert.id,
        answer_state=AnswerState.ANSWERING,
    ).using_db(tx.conn)
    rows = [p for p in rows if p.id != keep]
    if rows:
        await (
            Post.filter(id__in=[p.id for p in rows], answer_state=AnswerState.ANSWERING)
            .using_db(tx.conn)
            .update(answer_state=AnswerState.ASSIGNED)
        )
    for row in rows:
        row.answer_state = AnswerState.ASSIGNED
    return rows


async def tell_askers(
    tx: outbox.Tx, post: Post, thread: Thread, *, reason: str, author: bool = True
) -> None:
    """The asker hears what became of their question, and so do the askers of the questions
    merged into it (each once); the notice names nobody."""
    merged: list[Any] = list(
        await Post.filter(merged_into_id=post.id)
        .using_db(tx.conn)
        .values_list("author_id", flat=True)
    )
    author_id: int = post.author_id  # type: ignore[attr-defined]
    askers = {int(a) for a in merged}
    if author:
        askers.add(author_id)
    else:
        askers.discard(author_id)
    await notify_askers(tx, post, thread, askers, reason=reason)


async def notify_askers(
    tx: outbox.Tx, post: Post, thread: Thread, askers: set[int], *, reason: str
) -> None:
    """A notice about ``post`` to each of ``askers``, once; it names nobody."""
    for user_id in sorted(askers):
        await notifications.notify(
            tx,
            user_id=user_id,
            kind=NotificationKind.ANSWER_STATE,
            post=post,
            thread=thread,
            reason=reason,
            url=f"/t/{thread.id}#post-{post.id}",
        )


async def check_answerer(actor: Actor, thread: Thread) -> None:
    """Written answers come from the session's experts only."""
    session = await LiveSession.get_or_none(thread_id=thread.id)
    if session is None:
        raise ValidationFailed(
            _("有識者の回答はイベントのスレッドにだけ書けます。"),
            code="not_a_live_thread",
        )
    is_expert = actor.id is not None and await SessionStaff.exists(
        session_id=session.id, user_id=actor.id, role=StaffRole.EXPERT
    )
    if not is_expert:
        raise Forbidden(
            _("有識者の回答を書けるのは、このイベントの有識者だけです。"),
            code="not_session_expert",
        )


async def record_written_answer(tx: outbox.Tx, actor: Actor, answer: Post) -> None:
    """In the posting transaction: the question the answer replies to is answered in
    writing, by the answering expert unless another expert held it. Its asker hears of the
    answer itself (a notice of kind ``answered``, sent with the post's other notices)."""
    question_id: int | None = answer.reply_to_id  # type: ignore[attr-defined]
    if question_id is None or actor.user is None:
        return
    question = await Post.get_or_none(id=question_id, using_db=tx.conn)
    if question is None or question.kind is not PostKind.QUESTION:
        return
    holder: int | None = question.assigned_to_id  # type: ignore[attr-defined]
    new_holder = holder if holder is not None else actor.user.id
    changed = (
        await Post.filter(
            id=question.id,
            answer_state=question.answer_state,
            assigned_to_id=holder,
        )
        .using_db(tx.conn)
        .update(answer_state=AnswerState.ANSWERED_WRITTEN, assigned_to_id=new_holder)
    )
    if changed != 1:
        raise Conflict(
            _("ほかの人が先にこの質問の状態を変えました。最新の状態を読み込んでください。"),
            code="answer_state_changed",
        )
    question.answer_state = AnswerState.ANSWERED_WRITTEN
    assignee = actor.user if new_holder == actor.user.id else await User.get(id=new_holder)
    tx.emit(events.question_updated(question, assignee))
    thread = await Thread.get(id=question.thread_id).using_db(tx.conn)  # type: ignore[attr-defined]
    # Its own asker is told of the answer with the reply's notices (``answered``).
    await tell_askers(tx, question, thread, reason=_reason(question.answer_state), author=False)
