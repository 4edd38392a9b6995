"""Linking uploads to a post, inside the post's transaction (bound into forum.attachments)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from forum import outbox
from forum.errors import Conflict, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Post
from forum.permissions import Actor
from uploads.models import Upload
from uploads.resources import attachment_resource

__all__ = ["PostAttacher"]


class PostAttacher:
    """Each file must be the actor's own and on no post yet, or already on this post."""

    def __init__(self, per_post: int) -> None:
        self.per_post = per_post

    async def attach(
        self, tx: outbox.Tx, actor: Actor, post: Post, ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        wanted = list(dict.fromkeys(ids))
        if len(wanted) > self.per_post:
            raise ValidationFailed(
                _("添付できるファイルは1つの投稿に{n}件までです。").format(n=self.per_post),
                code="too_many_attachments",
                fields={"attachments": _("{n}件までです。").format(n=self.per_post)},
            )
        rows = {row.id: row for row in await Upload.filter(id__in=wanted).using_db(tx.conn)}
        fresh: list[int] = []
        for upload_id in wanted:
            row = rows.get(upload_id)
            on_post = row is not None and row.post_id == post.id  # type: ignore[attr-defined]
            own = (
                row is not None
                and row.post_id is None  # type: ignore[attr-defined]
                and row.owner_id == actor.id  # type: ignore[attr-defined]
            )
            if not (on_post or own):
                raise ValidationFailed(
                    _("添付ファイルが見つかりません。もう一度アップロードしてください。"),
                    code="unknown_attachment",
                    fields={"attachments": _("ID {id} は添付できません。").format(id=upload_id)},
                )
            if own:
                fresh.append(upload_id)
        now = datetime.now(UTC)
        await (
            Upload.filter(post_id=post.id)
            .exclude(id__in=wanted)
            .using_db(tx.conn)
            .update(post_id=None, attached_at=None, detached_at=now)
        )
        if fresh:
            # Conditional on still being on no post: the same file sent with two posts at
            # once goes to one of them.
            linked = (
                await Upload.filter(id__in=fresh, post_id=None)
                .using_db(tx.conn)
                .update(post_id=post.id, attached_at=now, detached_at=None)
            )
            if linked != len(fresh):
                raise Conflict(
                    _("添付ファイルが別の投稿で使われました。"), code="attachment_taken"
                )
        return [attachment_resource(rows[upload_id]) for upload_id in wanted]
