"""The JSON shapes of users, boards, threads and posts, shared by the API and realtime events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forum.avatars import avatar_of
from forum.models import AnswerState, Board, Post, PostKind, Thread, User

__all__ = [
    "answer_state",
    "assignee_resource",
    "board_resource",
    "iso",
    "post_resource",
    "public_post",
    "staff_badge",
    "thread_resource",
    "user_resource",
]


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def user_resource(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "affiliation": user.affiliation.value,
        "organisation": user.organisation,
        "expert_field": user.expert_field,
        "avatar": avatar_of(user.id, user.display_name),
    }


def board_resource(board: Board) -> dict[str, Any]:
    return {
        "slug": board.slug,
        "title": board.title,
        "description": board.description,
        "moderation": board.moderation.value,
        "private": board.private,
        "thread_count": board.thread_count,
    }


def thread_resource(thread: Thread, *, board_slug: str, seq: int) -> dict[str, Any]:
    return {
        "id": thread.id,
        "board": board_slug,
        "title": thread.title,
        "pinned": thread.pinned,
        "locked": thread.locked,
        "featured": thread.featured,
        "live": thread.live,
        "moderation": thread.moderation.value if thread.moderation else None,
        "post_count": thread.post_count,
        "seq": seq,
        "created_at": iso(thread.created_at),
        "last_post_at": iso(thread.last_post_at),
    }


STAFF_BADGES = frozenset({"expert", "moderator", "admin"})


def staff_badge(author: User | None) -> str | None:
    """The role shown beside an author's name, as templates/partials/post.html shows it."""
    if author is None or author.role.value not in STAFF_BADGES:
        return None
    return author.role.value


def answer_state(post: Post) -> str | None:
    """A question's answer state; questions written before states existed are open."""
    if post.answer_state is not None:
        return post.answer_state.value
    return AnswerState.OPEN.value if post.kind is PostKind.QUESTION else None


def assignee_resource(post: Post) -> dict[str, Any] | None:
    """The expert a question is assigned to, as ``{username, display_name}``.

    The readers of posts (``forum.posts.get_post``, ``list_posts``) load the assignee with the
    post; a post read without it (a new one, which has none) shows None.
    """
    if post.assigned_to_id is None:  # type: ignore[attr-defined]
        return None
    user = post.assigned_to
    if not isinstance(user, User) or user.id != post.assigned_to_id:  # type: ignore[attr-defined]
        return None
    return {"username": user.username, "display_name": user.display_name}


def post_resource(post: Post, *, author: User | None, proposal: bool = False) -> dict[str, Any]:
    """``author`` is None where the viewer may not know who wrote an anonymous question.

    ``proposal`` adds an edit waiting for a moderator, if one waits, for the eyes of the
    post's author and its moderators only (without one the resource is everyone's).
    """
    resource = {
        "id": post.id,
        "thread_id": post.thread_id,  # type: ignore[attr-defined]
        "author": user_resource(author) if author else None,
        "badge": staff_badge(author),
        "kind": post.kind.value,
        "body": post.body,
        "html": post.html,
        "status": post.status.value,
        "reply_to": post.reply_to_id,  # type: ignore[attr-defined]
        "anonymous": post.anonymous,
        "votes": post.votes,
        "answer_state": answer_state(post),
        "assigned_to": assignee_resource(post),
        "similar_count": post.similar_count,
        "created_at": iso(post.created_at),
        "edited_at": iso(post.edited_at),
        "attachments": list(post.attachments or []),
    }
    if proposal and post.proposed_body is not None:
        resource["proposal"] = {"body": post.proposed_body, "html": post.proposed_html}
    return resource


def public_post(post: Post) -> dict[str, Any]:
    """The post as everyone may see it: anonymous questions lose their author."""
    return post_resource(post, author=None if post.anonymous else post.author)
