"""Flags: users report a published post; enough reports hide it until a moderator decides."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from forum import events, lifecycle, outbox
from forum.errors import Conflict, Forbidden, NotAuthenticated, ValidationFailed
from forum.events import Withdrawal
from forum.i18n import gettext as _
from forum.models import PostStatus
from forum.permissions import Actor
from forum.posts import get_post
from moderation import audit
from moderation.models import Flag, FlagReason, ItemKind, ItemState, QueueItem
from moderation.queue import RELATED, codes_of, flags_by_item, item_resource
from moderation.ruleset import load_settings

__all__ = ["MAX_NOTE", "Flagged", "flag_post"]

MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class Flagged:
    post_id: int
    reason: str
    flags: int
    hidden: bool


def _check(reason: str, note: str) -> tuple[FlagReason, str]:
    errors: dict[str, str] = {}
    try:
        flag_reason = FlagReason(reason)
    except ValueError:
        errors["reason"] = _("通報の理由を一覧から選んでください。")
        flag_reason = FlagReason.OTHER
    if len(note) > MAX_NOTE:
        errors["note"] = _("補足は500文字以内で入力してください。")
    if errors:
        raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
    return flag_reason, note.strip()


async def flag_post(actor: Actor, post_id: int, reason: str, note: str = "") -> Flagged:
    if actor.user is None:
        raise NotAuthenticated(_("通報するにはログインしてください。"))
    post, thread, board = await get_post(actor, post_id)
    flag_reason, clean_note = _check(reason, note)
    if post.status is not PostStatus.PUBLISHED:
        raise ValidationFailed(_("公開中の投稿だけを通報できます。"), code="not_flaggable")
    if post.author_id == actor.id:  # type: ignore[attr-defined]
        raise Forbidden(_("自分の投稿は通報できません。"), code="own_post")
    already = Conflict(_("この投稿はすでに通報済みです。"), code="already_flagged")
    if await Flag.filter(post_id=post.id, user_id=actor.id).exists():
        raise already
    threshold = (await load_settings()).flag_threshold
    try:
        async with outbox.atomic() as tx:
            flag = await Flag.create(
                post_id=post.id,
                user_id=actor.id,
                reason=flag_reason,
                note=clean_note,
                using_db=tx.conn,
            )
            # ON CONFLICT DO NOTHING: two first flags at once share one item, on both databases.
            await QueueItem.bulk_create(
                [
                    QueueItem(
                        post_id=post.id,
                        board_id=board.id,
                        thread_id=thread.id,
                        kind=ItemKind.FLAGGED,
                        active_post_id=post.id,
                    )
                ],
                ignore_conflicts=True,
                using_db=tx.conn,
            )
            item = (
                await QueueItem.filter(active_post_id=post.id)
                .using_db(tx.conn)
                .select_related(*RELATED)
                .get()
            )
            created = not await Flag.filter(item_id=item.id).using_db(tx.conn).exists()
            await Flag.filter(id=flag.id).using_db(tx.conn).update(item_id=item.id)
            count = await Flag.filter(item_id=item.id).using_db(tx.conn).count()
            reasons = list(item.reasons)
            if flag_reason.value not in {r["code"] for r in reasons}:
                reasons.append({"code": flag_reason.value, "detail": ""})
            hidden = False
            if count >= threshold and item.state is ItemState.OPEN:
                # Hidden from everyone but its author and moderators until one decides.
                hidden = await lifecycle.withdraw(tx, post, thread, Withdrawal.HIDDEN)
                if hidden:
                    reasons.append({"code": "hidden", "detail": str(count)})
                    await audit.write(
                        tx,
                        None,
                        "post.hide",
                        audit.Target("post", post.id, thread.title),
                        board_id=board.id,
                        before={"status": PostStatus.PUBLISHED.value},
                        after={"status": PostStatus.PENDING.value},
                        reason=_("{count}件の通報").format(count=count),
                    )
            if reasons != item.reasons:
                item.reasons = reasons
                await (
                    QueueItem.filter(id=item.id)
                    .using_db(tx.conn)
                    .update(reasons=reasons, reason_codes=codes_of(reasons))
                )
            item.post.status = post.status
            flags = (await flags_by_item([item.id], tx.conn))[item.id]
            made = events.item_created if created else events.item_updated
            tx.emit(made(board.slug, item_resource(item, flags)))
    except IntegrityError:
        raise already from None
    return Flagged(post.id, flag_reason.value, count, hidden)
