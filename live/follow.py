"""Following a session: a stored notice when it goes live (written by ``transitions``)."""

from __future__ import annotations

from contextlib import suppress

from tortoise.exceptions import IntegrityError

from forum.models import User
from live.models import LiveSession, SessionFollower

__all__ = ["is_following", "set_following"]


async def set_following(user: User, session: LiveSession, *, on: bool) -> bool:
    """Follow or stop following; returns whether the user follows afterwards."""
    if not on:
        await SessionFollower.filter(session_id=session.id, user_id=user.id).delete()
        return False
    # A double click may race us to the insert: the row is there either way.
    with suppress(IntegrityError):
        await SessionFollower.get_or_create(session_id=session.id, user_id=user.id)
    return True


async def is_following(user: User | None, session: LiveSession) -> bool:
    if user is None:
        return False
    return await SessionFollower.exists(session_id=session.id, user_id=user.id)
