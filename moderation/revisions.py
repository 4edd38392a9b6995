"""The author's side of a revision request: edit the post and send it back to the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from forum import events, lifecycle, outbox
from forum.errors import Conflict, Forbidden, NotAuthenticated
from forum.gate import Gatekeeper
from forum.i18n import gettext as _
from forum.permissions import Actor
from forum.posts import get_post
from forum.resources import post_resource
from moderation.models import ItemState, QueueItem
from moderation.queue import RELATED, codes_of, flags_by_item, item_resource, rescreened

__all__ = ["awaiting_revision", "resubmit"]


async def awaiting_revision(actor: Actor, post_id: int) -> QueueItem:
    """The author's item sent back for revision; 404 to others, 409 if nothing is asked."""
    if actor.user is None:
        raise NotAuthenticated(_("ログインしてください。"))
    post, _thread, _board = await get_post(actor, post_id)
    if post.author_id != actor.id:  # type: ignore[attr-defined]
        raise Forbidden(_("自分の投稿だけを再投稿できます。"))
    item = await QueueItem.get_or_none(active_post_id=post.id, state=ItemState.REVISION)
    if item is None:
        raise Conflict(_("この投稿には修正の依頼がありません。"), code="not_awaiting_revision")
    await item.fetch_related(*RELATED)
    return item


async def resubmit(actor: Actor, post_id: int, body: str, *, gate: Gatekeeper) -> dict[str, Any]:
    """The author's revised body, through the gate a new post meets, back into the queue."""
    item = await awaiting_revision(actor, post_id)
    assert actor.user is not None
    post = item.post
    revision = await lifecycle.prepare_revision(
        actor, post, item.thread, item.board, body, gate=gate
    )
    earlier = [r for r in item.reasons if r["code"] != "resubmitted"]
    reasons = [*rescreened(earlier, revision.verdict), {"code": "resubmitted", "detail": ""}]
    now = datetime.now(UTC)
    async with outbox.atomic() as tx:
        reopened = await (
            QueueItem.filter(id=item.id, version=item.version, state=ItemState.REVISION)
            .using_db(tx.conn)
            .update(
                version=F("version") + 1,
                state=ItemState.OPEN,
                reasons=reasons,
                reason_codes=codes_of(reasons),
                decision=None,
                decided_by_id=None,
                decided_at=None,
            )
        )
        if reopened != 1:
            raise Conflict(_("この投稿はすでに再投稿されています。"), code="stale_version")
        await lifecycle.revise(tx, actor.user, post, revision, now=now)
        item.version += 1
        item.state, item.reasons = ItemState.OPEN, reasons
        flags = (await flags_by_item([item.id], tx.conn))[item.id]
        tx.emit(events.item_created(item.board.slug, item_resource(item, flags)))
        tx.emit(events.post_pending(post, actor.user))
    return post_resource(post, author=actor.user)
