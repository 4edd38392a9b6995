"""Merging a duplicate question into another of the same live session.

The duplicate leaves view (``post.deleted`` with reason ``merged``), its votes move to the
target once per person (someone who voted for both counts once; the target's own asker
cannot vote for it), the questions merged into the duplicate before now point at the
target, and the target counts them all in ``similar_count`` (同様の質問 N件). Whoever
asked a merged question hears of the merge, and from then on of every answer state of the
target (``answers.tell_askers``): they follow the target as they followed their own. The
thread's followers (``forum.follows``) need no carrying: a merge stays within one thread.

One transaction: both rows are touched in id order first (two merges of the same pair in
opposite directions queue behind each other instead of deadlocking on PostgreSQL), then the
duplicate is withdrawn with a conditional update, so a second merge of it gets a 409 —
unless it asks for the same target again, which answers as the first did.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import F

from forum import events, lifecycle, outbox
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.events import Withdrawal
from forum.i18n import gettext as _
from forum.models import Post, PostKind, PostStatus, User, Vote
from forum.permissions import Actor
from live.answers import Desk, load_desk, notify_askers
from live.models import LiveSession, SessionStaff
from live.sessions import can_run

__all__ = ["merge_question"]

_MOVE_VOTES = (
    "INSERT INTO votes (post_id, user_id) SELECT {0}, user_id FROM votes "
    "WHERE post_id = {1} AND user_id <> {2} ON CONFLICT (post_id, user_id) DO NOTHING"
)


def _invalid(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(_("入力内容を確認してください。"), code=code, fields={"into": message})


async def _merged_before(actor: Actor, post_id: int, into: int) -> Post | None:
    """A repeat of a merge already made answers with its target; a merge of a question
    already merged elsewhere is a 409. None when the question was not merged."""
    post = await Post.get_or_none(id=post_id).select_related("thread", "thread__board")
    target_id: int | None = post.merged_into_id if post else None  # type: ignore[attr-defined]
    if post is None or target_id is None:
        return None
    session = await LiveSession.get_or_none(thread_id=post.thread.id)
    staff = await SessionStaff.filter(session_id=session.id) if session else []
    if session is None or not can_run(actor, session, staff):
        raise NotFound(_("投稿が見つかりません。"))
    if target_id != into:
        raise Conflict(_("この質問はすでに別の質問にまとめられています。"), code="already_merged")
    target = await Post.get(id=into).select_related("author", "assigned_to")
    return target


async def merge_question(actor: Actor, post_id: int, into: int) -> Post:
    """Merge question ``post_id`` into question ``into``; returns the target, with its
    assignee loaded."""
    if actor.user is None:
        raise Forbidden(_("ログインしてください。"), code="login_required")
    earlier = await _merged_before(actor, post_id, into)
    if earlier is not None:
        return earlier
    duplicate = await load_desk(actor, post_id)
    if not duplicate.runs(actor):
        raise Forbidden(
            _("質問をまとめられるのは、このイベントのモデレーターだけです。"),
            code="not_session_moderator",
        )
    if into == post_id:
        raise _invalid(_("自分自身にはまとめられません。"), "merge_into_itself")
    target = await Post.get_or_none(id=into, thread_id=duplicate.thread.id).select_related(
        "author", "assigned_to"
    )
    if target is None or target.kind is not PostKind.QUESTION:
        raise _invalid(_("同じイベントの質問を指定してください。"), "invalid_merge_target")
    if target.status is not PostStatus.PUBLISHED:
        raise _invalid(_("まとめ先の質問は公開されていません。"), "invalid_merge_target")
    return await _merge(duplicate, target)


async def _merge(desk: Desk, target: Post) -> Post:
    duplicate, thread = desk.post, desk.thread
    gained = 1 + duplicate.similar_count
    target_author: int = target.author_id  # type: ignore[attr-defined]
    async with outbox.atomic() as tx:
        for post_id in sorted((duplicate.id, target.id)):
            await Post.filter(id=post_id).using_db(tx.conn).update(similar_count=F("similar_count"))
        if not await lifecycle.withdraw(tx, duplicate, thread, Withdrawal.MERGED):
            raise Conflict(
                _("この質問はすでにまとめられたか、削除されました。"), code="already_merged"
            )
        counted = (
            await Post.filter(id=target.id, status=PostStatus.PUBLISHED)
            .using_db(tx.conn)
            .update(similar_count=F("similar_count") + gained)
        )
        if counted != 1:
            raise Conflict(
                _("まとめ先の質問が変わりました。最新の状態を読み込んでください。"),
                code="merge_target_changed",
            )
        await Post.filter(id=duplicate.id).using_db(tx.conn).update(merged_into_id=target.id)
        earlier: list[Any] = list(
            await Post.filter(merged_into_id=duplicate.id)
            .using_db(tx.conn)
            .values_list("author_id", flat=True)
        )
        duplicate_author: int = duplicate.author_id  # type: ignore[attr-defined]
        askers = {int(a) for a in earlier} | {duplicate_author}
        askers.discard(target_author)
        await (
            Post.filter(merged_into_id=duplicate.id)
            .using_db(tx.conn)
            .update(merged_into_id=target.id)
        )
        mark = "$" if tx.conn.capabilities.dialect == "postgres" else "?"
        marks = [f"${n}" for n in (1, 2, 3)] if mark == "$" else ["?"] * 3
        await tx.conn.execute_query(
            _MOVE_VOTES.format(*marks), [target.id, duplicate.id, target_author]
        )
        await Vote.filter(post_id=duplicate.id).using_db(tx.conn).delete()
        votes = await Vote.filter(post_id=target.id).using_db(tx.conn).count()
        await Post.filter(id=target.id).using_db(tx.conn).update(votes=votes)
        target.votes = votes
        target.similar_count += gained
        assignee = target.assigned_to if isinstance(target.assigned_to, User) else None
        tx.emit(events.question_updated(target, assignee))
        # The merged askers (the duplicate's, and those merged into it) hear of it once.
        await notify_askers(
            tx, target, thread, askers, reason=_("あなたの質問は同様の質問にまとめられました。")
        )
    return target
