"""Removing files no one will be shown again: those of rejected or deleted posts after the
retention period, and orphans (uploaded and never posted, or taken off a post) after a grace
period. ``koryu cleanup-uploads`` runs it; so does each app process, hourly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery

from forum.models import Post, PostStatus
from uploads.intake import file_key, thumb_key
from uploads.models import Upload
from uploads.storage import Storage

__all__ = ["Cleaned", "clean_uploads"]

_GONE = (PostStatus.REJECTED, PostStatus.DELETED)
_BATCH = 500


@dataclass(frozen=True, slots=True)
class Cleaned:
    withdrawn: int  # files of rejected or deleted posts
    orphans: int


async def clean_uploads(
    storage: Storage, *, retention: timedelta, grace: timedelta, now: datetime | None = None
) -> Cleaned:
    now = now or datetime.now(UTC)
    # The retention period counts from when cleanup first saw the post gone; a post that
    # came back (an appeal upheld) has its files' clock stopped.
    await Upload.filter(doomed_at=None, post_id__in=_gone_posts()).update(doomed_at=now)
    await (
        Upload.filter(doomed_at__not_isnull=True)
        .filter(Q(post_id=None) | ~Q(post_id__in=_gone_posts()))
        .update(doomed_at=None)
    )
    withdrawn = await _remove(storage, Q(doomed_at__lt=now - retention, post_id__not_isnull=True))
    orphans = await _remove(
        storage,
        Q(post_id=None, case_id=None, created_at__lt=now - grace)
        & (Q(detached_at=None) | Q(detached_at__lt=now - grace)),
    )
    return Cleaned(withdrawn, orphans)


def _gone_posts() -> Subquery:
    return Subquery(Post.filter(status__in=_GONE).values("id"))


async def _remove(storage: Storage, condition: Q) -> int:
    removed = 0
    while True:
        rows = await Upload.filter(condition).order_by("id").limit(_BATCH).values_list("id", "key")
        if not rows:
            return removed
        ids = [int(row[0]) for row in rows]
        keys = {int(row[0]): str(row[1]) for row in rows}
        # Rows first, still on the condition: a file attached meanwhile keeps its row and
        # so its bytes; a deleted row can no longer be attached or served.
        await Upload.filter(condition, id__in=ids).delete()
        kept: set[Any] = set(await Upload.filter(id__in=ids).values_list("id", flat=True))
        gone = [upload_id for upload_id in ids if upload_id not in kept]
        await storage.delete([k for i in gone for k in (file_key(keys[i]), thumb_key(keys[i]))])
        removed += len(gone)
        if len(rows) < _BATCH or not gone:
            return removed
