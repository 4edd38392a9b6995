"""Decisions on queue items: claim, approve (optionally edited), reject, ask for a revision.

Each action validates first, then executes in one transaction that takes the item with an
atomic ``UPDATE … WHERE id = ? AND version = ?`` (row locks are no-ops on SQLite), changes
the post, writes the audit entry and the author's notice, and queues the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F, Q

from forum import events, lifecycle, outbox
from forum.errors import Conflict, ValidationFailed
from forum.events import Withdrawal
from forum.i18n import gettext as _
from forum.models import NotificationKind, Post, PostStatus, Thread
from forum.notifications import notify
from forum.permissions import Actor
from moderation import audit
from moderation.gate import ModerationGate
from moderation.models import Decision, Flag, ItemKind, ItemState, QueueItem
from moderation.queue import load_item

__all__ = [
    "CLAIM_TTL",
    "MAX_REASON",
    "Result",
    "approve",
    "check_reason",
    "claim",
    "reject",
    "revise",
]

# A claim keeps others off an item this long; after that an abandoned item is free again.
CLAIM_TTL = timedelta(minutes=15)
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Result:
    item_id: int
    version: int
    state: str
    decision: str | None
    post_status: str


def _stale() -> Conflict:
    return Conflict(
        _(
            "ほかのモデレーターが先に判断しました。ページを再読み込みして、最新の状態を確認してください。"
        ),
        code="stale_version",
    )


def _validate(actor: Actor, item: QueueItem, version: int, now: datetime) -> None:
    if item.state is not ItemState.OPEN or item.version != version:
        raise _stale()
    claimer = item.claimed_by_id  # type: ignore[attr-defined]
    if claimer not in (None, actor.id) and item.claimed_at and item.claimed_at > now - CLAIM_TTL:
        raise Conflict(_("ほかのモデレーターが担当しています。"), code="already_claimed")


def check_reason(reason: str) -> str:
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            _("入力内容を確認してください。"),
            fields={"reason": _("理由は1,000文字以内で入力してください。")},
        )
    return reason.strip()


async def _take(
    tx: outbox.Tx, actor: Actor, item: QueueItem, version: int, now: datetime, **changes: Any
) -> None:
    """The one guard that holds under concurrency: only the shown version can be changed."""
    free = (
        Q(claimed_by_id__isnull=True)
        | Q(claimed_by_id=actor.id)
        | Q(claimed_at__lt=now - CLAIM_TTL)
    )
    taken = await (
        QueueItem.filter(free, id=item.id, version=version, state=ItemState.OPEN)
        .using_db(tx.conn)
        .update(version=F("version") + 1, **changes)
    )
    if taken != 1:
        raise _stale()
    item.version = version + 1
    item.update_from_dict({k: v for k, v in changes.items() if not k.endswith("_id")})


async def _fresh(tx: outbox.Tx, item: QueueItem) -> tuple[Post, Thread]:
    post = await Post.filter(id=item.post_id).using_db(tx.conn).select_related("author").get()  # type: ignore[attr-defined]
    thread = await Thread.filter(id=item.thread_id).using_db(tx.conn).get()  # type: ignore[attr-defined]
    return post, thread


def _decided(tx: outbox.Tx, actor: Actor, item: QueueItem, post: Post) -> Result:
    assert actor.user is not None
    result = Result(
        item.id,
        item.version,
        item.state.value,
        item.decision.value if item.decision else None,
        post.status.value,
    )
    tx.emit(
        events.item_decided(
            item.board.slug,
            item_id=item.id,
            version=result.version,
            decision=result.decision,
            decided_by=actor.user.username,
            post_id=post.id,
            post_status=result.post_status,
        )
    )
    return result


async def claim(actor: Actor, item_id: int, version: int) -> Result:
    item = await load_item(actor, item_id)
    assert actor.user is not None
    now = datetime.now(UTC)
    _validate(actor, item, version, now)
    async with outbox.atomic() as tx:
        await _take(tx, actor, item, version, now, claimed_by_id=actor.user.id, claimed_at=now)
        await audit.write(
            tx, actor, "item.claim", audit.Target("post", item.post.id), board_id=item.board.id
        )
        tx.emit(
            events.item_claimed(
                item.board.slug,
                item_id=item.id,
                version=item.version,
                claimed_by=actor.user.username,
                claimed_at=now,
            )
        )
    return Result(item.id, item.version, item.state.value, None, item.post.status.value)


async def approve(
    actor: Actor, item_id: int, version: int, *, body: str | None = None, reason: str = ""
) -> Result:
    """Publish the post (a flagged one stays or comes back); ``body`` edits it first.

    An edit its author proposed is applied when the moderator gives no body of their own.
    """
    item = await load_item(actor, item_id)
    assert actor.user is not None
    now = datetime.now(UTC)
    _validate(actor, item, version, now)
    reason = check_reason(reason)
    if item.post.status is PostStatus.DELETED:
        raise Conflict(_("この投稿は削除されています。"), code="post_deleted")
    proposal = item.post.proposed_body
    if body is None:
        body = proposal
    revision = None
    if body is not None and body != item.post.body:
        # Checked, screened and rendered before the transaction, which holds SQLite's write
        # lock; a moderator's edit meets the gate as the moderator's own post would.
        revision = await lifecycle.prepare_revision(
            actor, item.post, item.thread, item.board, body, gate=ModerationGate()
        )
    async with outbox.atomic() as tx:
        await _take(
            tx,
            actor,
            item,
            version,
            now,
            state=ItemState.CLOSED,
            active_post_id=None,
            decision=Decision.APPROVED,
            decided_by_id=actor.user.id,
            decided_at=now,
            decision_reason=reason,
        )
        post, thread = await _fresh(tx, item)
        if post.proposed_body != proposal:
            # Replacing a proposal bumps the item's version, so this is only reached when
            # the proposal was decided meanwhile through another item.
            raise _stale()
        before: dict[str, Any] = {"status": post.status.value}
        after: dict[str, Any] = {"status": PostStatus.PUBLISHED.value}
        old_body = post.body
        # The proposal applied as it stands is its author's edit, kept under their name.
        editor = post.author if revision is not None and revision.body == proposal else actor.user
        applied = revision is not None and await lifecycle.revise(
            tx, editor, post, revision, now=now
        )
        if applied:
            before["body"], after["body"] = old_body, post.body
        proposed = await lifecycle.discard_proposal(tx, post)
        if post.status is not PostStatus.PUBLISHED:
            # A hidden post coming back was counted for its author when first published.
            count_author = item.kind is ItemKind.PENDING
            await lifecycle.publish(
                tx, post, thread, item.board, count_author=count_author, now=now
            )
        await audit.write(
            tx,
            actor,
            "post.approve",
            audit.Target("post", post.id, thread.title),
            board_id=item.board.id,
            before=before,
            after=after,
            reason=reason,
        )
        notice = None
        if item.kind is ItemKind.PENDING:
            notice = NotificationKind.POST_APPROVED
        elif proposed:
            # A moderator who approved with the published text restored kept nothing of it.
            notice = NotificationKind.EDIT_APPROVED if applied else NotificationKind.EDIT_REJECTED
        if notice is not None:
            await notify(
                tx,
                user_id=post.author.id,
                kind=notice,
                post=post,
                thread=thread,
                url=f"/t/{thread.id}#post-{post.id}",
            )
        return _decided(tx, actor, item, post)


async def reject(actor: Actor, item_id: int, version: int, *, reason: str = "") -> Result:
    """Keep the post from everyone but its author; a deleted post just closes the item."""
    return await _refuse(actor, item_id, version, reason, Decision.REJECTED)


async def revise(actor: Actor, item_id: int, version: int, *, reason: str = "") -> Result:
    """Send the post back to its author, who edits and resubmits it."""
    return await _refuse(actor, item_id, version, reason, Decision.REVISION)


async def _refuse(
    actor: Actor, item_id: int, version: int, reason: str, decision: Decision
) -> Result:
    item = await load_item(actor, item_id)
    assert actor.user is not None
    now = datetime.now(UTC)
    _validate(actor, item, version, now)
    reason = check_reason(reason)
    if item.kind is ItemKind.EDIT and not await Flag.filter(item_id=item.id).exists():
        return await _refuse_edit(actor, item, version, reason, decision, now)
    revision = decision is Decision.REVISION
    if revision and item.post.status is PostStatus.DELETED:
        raise Conflict(_("この投稿は削除されています。"), code="post_deleted")
    async with outbox.atomic() as tx:
        await _take(
            tx,
            actor,
            item,
            version,
            now,
            state=ItemState.REVISION if revision else ItemState.CLOSED,
            active_post_id=item.post.id if revision else None,
            claimed_by_id=None,
            claimed_at=None,
            decision=decision,
            decided_by_id=actor.user.id,
            decided_at=now,
            decision_reason=reason,
        )
        post, thread = await _fresh(tx, item)
        before = {"status": post.status.value}
        # A proposed edit goes with the post it would have changed.
        await lifecycle.discard_proposal(tx, post)
        if post.status is not PostStatus.DELETED:
            why = Withdrawal.REVISION if revision else Withdrawal.REJECTED
            await lifecycle.withdraw(tx, post, thread, why)
            kind = (
                NotificationKind.REVISION_REQUESTED if revision else NotificationKind.POST_REJECTED
            )
            url = f"/moderation/posts/{post.id}/revise" if revision else f"/t/{thread.id}"
            await notify(
                tx,
                user_id=post.author.id,
                kind=kind,
                post=post,
                thread=thread,
                reason=reason,
                url=url,
                # A flagged post had been public: its author is told it was taken down.
                unpublished=item.kind is ItemKind.FLAGGED,
            )
        await audit.write(
            tx,
            actor,
            "post.revise" if revision else "post.reject",
            audit.Target("post", post.id, thread.title),
            board_id=item.board.id,
            before=before,
            after={"status": post.status.value},
            reason=reason,
        )
        return _decided(tx, actor, item, post)


async def _refuse_edit(
    actor: Actor, item: QueueItem, version: int, reason: str, decision: Decision, now: datetime
) -> Result:
    """An item that holds only a proposed edit: the published post stays as it is, the
    proposal is dropped, and its author is told (asked to revise, they simply edit again)."""
    assert actor.user is not None
    async with outbox.atomic() as tx:
        await _take(
            tx,
            actor,
            item,
            version,
            now,
            state=ItemState.CLOSED,
            active_post_id=None,
            claimed_by_id=None,
            claimed_at=None,
            decision=decision,
            decided_by_id=actor.user.id,
            decided_at=now,
            decision_reason=reason,
        )
        post, thread = await _fresh(tx, item)
        proposal = post.proposed_body
        if await lifecycle.discard_proposal(tx, post):
            revision = decision is Decision.REVISION
            await notify(
                tx,
                user_id=post.author.id,
                kind=(
                    NotificationKind.REVISION_REQUESTED
                    if revision
                    else NotificationKind.EDIT_REJECTED
                ),
                post=post,
                thread=thread,
                reason=reason,
                url=f"/t/{thread.id}#post-{post.id}",
            )
        await audit.write(
            tx,
            actor,
            "edit.revise" if decision is Decision.REVISION else "edit.reject",
            audit.Target("post", post.id, thread.title),
            board_id=item.board.id,
            before={"status": post.status.value, "proposal": proposal},
            after={"status": post.status.value},
            reason=reason,
        )
        return _decided(tx, actor, item, post)
