"""Who may fetch a file: permissions follow the post it is attached to.

A file on a practice case is everyone's, as cases are. A file on a post is served to exactly those who may read that post (a pending, hidden or
rejected post's to its author and the board's moderators, a deleted post's to no one, a
private board's to its members); a file on no post yet only to whoever uploaded it.
"""

from __future__ import annotations

from forum.errors import NotFound
from forum.i18n import gettext as _
from forum.permissions import Actor, can_moderate
from forum.posts import get_post
from uploads.models import Upload

__all__ = ["readable_upload"]


async def readable_upload(actor: Actor, key: str) -> Upload:
    """The upload under ``key`` if the actor may fetch it; ``NotFound`` otherwise, the same
    answer whether it does not exist or is not theirs to see."""
    upload = await Upload.get_or_none(key=key)
    if upload is None:
        raise NotFound(_("ファイルが見つかりません。"))
    post_id: int | None = upload.post_id  # type: ignore[attr-defined]
    if upload.case_id is not None:  # type: ignore[attr-defined]
        return upload  # practice cases are public, their cover and reports too
    if post_id is None:
        if actor.id is None or actor.id != upload.owner_id:  # type: ignore[attr-defined]
            raise NotFound(_("ファイルが見つかりません。"))
        return upload
    try:
        _post, thread, board = await get_post(actor, post_id)
    except NotFound:
        raise NotFound(_("ファイルが見つかりません。")) from None
    if thread.deleted and not can_moderate(actor, board.id):
        raise NotFound(_("ファイルが見つかりません。"))
    return upload
