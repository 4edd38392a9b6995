"""The author's side of a revision request: edit the post and send it back to the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from forum import outbox
from forum.errors import Conflict, Forbidden, NotAuthenticated, ValidationFailed
from forum.i18n import gettext as _
from forum.models import PostRevision
from forum.permissions import Actor
from forum.posts import Draft, get_post
from forum.render import render_markdown
from forum.resources import post_resource
from moderation.models import ItemState, QueueItem, WordAction
from moderation.queue import RELATED, channel, codes_of, flags_by_item, item_resource
from moderation.rules import watched_hits
from moderation.ruleset import watched_words

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


async def resubmit(actor: Actor, post_id: int, body: str) -> dict[str, Any]:
    item = await awaiting_revision(actor, post_id)
    assert actor.user is not None
    post = item.post
    errors = Draft(body=body, kind=post.kind.value, anonymous=post.anonymous).check()
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    hits = watched_hits(body, await watched_words())
    blocked = [w.word for w in hits if w.action is WordAction.BLOCK]
    if blocked:
        raise ValidationFailed(
            _("使用できない語句が含まれているため、投稿できません。"),
            code="blocked_word",
            fields={"body": _("使用できない語句: {words}").format(words="、".join(blocked))},
        )
    reasons = [r for r in item.reasons if r["code"] not in {"resubmitted", "watched_word"}]
    reasons += [{"code": "watched_word", "detail": w.word} for w in hits]
    reasons.append({"code": "resubmitted", "detail": ""})
    now = datetime.now(UTC)
    html = render_markdown(body)  # before the transaction: it holds SQLite's write lock
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
        if body != post.body:
            await PostRevision.create(
                post_id=post.id, editor_id=actor.user.id, body=post.body, using_db=tx.conn
            )
            post.body, post.html, post.edited_at = body, html, now
            await post.save(update_fields=["body", "html", "edited_at"], using_db=tx.conn)
        item.version += 1
        item.state, item.reasons = ItemState.OPEN, reasons
        flags = (await flags_by_item([item.id], tx.conn))[item.id]
        tx.emit(channel(item.board.slug), "item.created", item_resource(item, flags))
        resource = post_resource(post, author=actor.user)
        tx.emit(f"user:{actor.user.id}", "post.pending", resource)
    return resource
