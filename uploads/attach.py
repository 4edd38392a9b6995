"""Linking uploads to a post or a practice case, in its transaction (bound into
forum.attachments by forum.app)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from forum import outbox
from forum.errors import Conflict, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Post, PracticeCase
from forum.permissions import Actor
from uploads.models import Upload, UploadKind
from uploads.resources import attachment_resource

__all__ = ["PostAttacher"]


class PostAttacher:
    """Each file must be the actor's own and on nothing yet, or already on this target."""

    def __init__(self, per_post: int) -> None:
        self.per_post = per_post

    async def attach(
        self, tx: outbox.Tx, actor: Actor, post: Post, ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        rows = await _link(tx.conn, actor, "post_id", post.id, list(ids), self.per_post)
        return [attachment_resource(rows[upload_id]) for upload_id in dict.fromkeys(ids)]

    async def attach_case(
        self,
        conn: BaseDBAsyncClient,
        actor: Actor,
        case: PracticeCase,
        cover: int | None,
        ids: Sequence[int],
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        reports = [upload_id for upload_id in dict.fromkeys(ids) if upload_id != cover]
        wanted = ([cover] if cover is not None else []) + reports
        rows = await _link(conn, actor, "case_id", case.id, wanted, self.per_post + 1)
        if cover is not None and rows[cover].kind is not UploadKind.IMAGE:
            raise ValidationFailed(
                _("表紙には画像を選んでください。"),
                code="cover_not_image",
                fields={"cover": _("表紙には画像を選んでください。")},
            )
        shown = attachment_resource(rows[cover]) if cover is not None else None
        return shown, [attachment_resource(rows[upload_id]) for upload_id in reports]


async def _link(
    conn: BaseDBAsyncClient, actor: Actor, column: str, target: int, ids: list[int], limit: int
) -> dict[int, Upload]:
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > limit:
        raise ValidationFailed(
            _("添付できるファイルは1つの投稿に{n}件までです。").format(n=limit),
            code="too_many_attachments",
            fields={"attachments": _("{n}件までです。").format(n=limit)},
        )
    rows = {row.id: row for row in await Upload.filter(id__in=wanted).using_db(conn)}
    fresh: list[int] = []
    for upload_id in wanted:
        row = rows.get(upload_id)
        here = row is not None and getattr(row, column) == target
        own = (
            row is not None
            and row.post_id is None  # type: ignore[attr-defined]
            and row.case_id is None  # type: ignore[attr-defined]
            and row.owner_id == actor.id  # type: ignore[attr-defined]
        )
        if not (here or own):
            raise ValidationFailed(
                _("添付ファイルが見つかりません。もう一度アップロードしてください。"),
                code="unknown_attachment",
                fields={"attachments": _("ID {id} は添付できません。").format(id=upload_id)},
            )
        if own:
            fresh.append(upload_id)
    now = datetime.now(UTC)
    await (
        Upload.filter(**{column: target})
        .exclude(id__in=wanted)
        .using_db(conn)
        .update(**{column: None, "attached_at": None, "detached_at": now})
    )
    if fresh:
        # Conditional on still being on nothing: the same file sent with two posts at once
        # goes to one of them.
        linked = (
            await Upload.filter(id__in=fresh, post_id=None, case_id=None)
            .using_db(conn)
            .update(**{column: target, "attached_at": now, "detached_at": None})
        )
        if linked != len(fresh):
            raise Conflict(_("添付ファイルが別の投稿で使われました。"), code="attachment_taken")
    return rows
