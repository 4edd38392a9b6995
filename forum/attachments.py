"""Files attached to posts, as the forum sees them.

The forum keeps on each post a snapshot of its attachments (name, type, size, where they are
served), written in the post's own transaction, so every page, API answer and realtime event
shows them without another query. Checking and linking the files themselves is the uploads
package's work; ``forum.app`` binds it here, as it binds the outbox's publisher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient

from forum import outbox
from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.models import Post, PracticeCase
from forum.permissions import Actor

__all__ = ["Attacher", "attach", "attach_case", "bind"]


class Attacher(Protocol):
    async def attach(
        self, tx: outbox.Tx, actor: Actor, post: Post, ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        """Make ``ids`` (in this order) the post's attachments, checked: the actor's own
        files not yet on a post, or the post's own. Returns the snapshot to keep."""
        ...

    async def attach_case(
        self,
        conn: BaseDBAsyncClient,
        actor: Actor,
        case: PracticeCase,
        cover: int | None,
        ids: Sequence[int],
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The same for a practice case: its cover photo (an image) and its reports."""
        ...


_attacher: Attacher | None = None


def bind(attacher: Attacher | None) -> None:
    global _attacher
    _attacher = attacher


async def attach(tx: outbox.Tx, actor: Actor, post: Post, ids: Sequence[int]) -> bool:
    """Give the post these attachments; False when they are the ones it has."""
    current = [int(item["id"]) for item in post.attachments or []]
    if list(ids) == current:
        return False
    if _attacher is None:
        raise ValidationFailed(
            _("この構成ではファイルを添付できません。"), code="attachments_unavailable"
        )
    snapshot = await _attacher.attach(tx, actor, post, ids)
    post.attachments = snapshot
    await post.save(update_fields=["attachments"], using_db=tx.conn)
    return True


async def attach_case(
    conn: BaseDBAsyncClient, actor: Actor, case: PracticeCase, cover: int | None, ids: Sequence[int]
) -> None:
    """Give a practice case this cover photo and these reports (replacing what it had)."""
    current_cover = int(case.cover["id"]) if case.cover else None
    current = [int(item["id"]) for item in case.attachments or []]
    if cover == current_cover and list(ids) == current:
        return
    if _attacher is None:
        raise ValidationFailed(
            _("この構成ではファイルを添付できません。"), code="attachments_unavailable"
        )
    case.cover, case.attachments = await _attacher.attach_case(conn, actor, case, cover, ids)
    await case.save(update_fields=["cover", "attachments"], using_db=conn)
