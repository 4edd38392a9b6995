"""Files attached to posts, as the forum sees them.

The forum keeps on each post a snapshot of its attachments (name, type, size, where they are
served), written in the post's own transaction, so every page, API answer and realtime event
shows them without another query. Checking and linking the files themselves is the uploads
package's work; ``forum.app`` binds it here, as it binds the outbox's publisher.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from forum import outbox
from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.models import Post
from forum.permissions import Actor

__all__ = ["Attacher", "attach", "bind"]


class Attacher(Protocol):
    async def attach(
        self, tx: outbox.Tx, actor: Actor, post: Post, ids: Sequence[int]
    ) -> list[dict[str, Any]]:
        """Make ``ids`` (in this order) the post's attachments, checked: the actor's own
        files not yet on a post, or the post's own. Returns the snapshot to keep."""
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
