"""A post's edit history: each stored revision is the body a post had before one edit.

Whoever may read the post may read its history (as Discourse shows it); an anonymous
question's editor is named only to those who may know its author.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from forum.models import Board, Post, PostRevision, Thread, User
from forum.permissions import Actor, can_see_author
from forum.posts import get_post
from forum.resources import iso, user_resource

__all__ = ["Change", "DiffLine", "History", "diff_lines", "history"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    op: str  # "same", "removed" or "added"
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    number: int  # the first edit is 1
    editor: User | None  # None: an anonymous question's author, to those who may not know
    created_at: datetime
    before: str
    after: str

    def diff(self) -> list[DiffLine]:
        return diff_lines(self.before, self.after)

    def resource(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "editor": user_resource(self.editor) if self.editor else None,
            "created_at": iso(self.created_at),
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True, slots=True)
class History:
    post: Post
    thread: Thread
    board: Board
    changes: list[Change]  # newest first


_OPS = {" ": "same", "-": "removed", "+": "added"}


def diff_lines(before: str, after: str) -> list[DiffLine]:
    """Line by line, as ``difflib.ndiff`` sees it (its ``?`` hint lines left out). Plain
    text: the page escapes it like any other."""
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [DiffLine(_OPS[line[0]], line[2:]) for line in lines if line[0] in _OPS]


async def history(actor: Actor, post_id: int) -> History:
    """Raises NotFound exactly where reading the post would."""
    post, thread, board = await get_post(actor, post_id)
    rows = await PostRevision.filter(post_id=post.id).order_by("id").select_related("editor")
    bodies = [r.body for r in rows] + [post.body]
    named = can_see_author(actor, post, board.id)
    author_id: int = post.author_id  # type: ignore[attr-defined]
    changes = [
        Change(
            number=n + 1,
            editor=row.editor if named or row.editor.id != author_id else None,
            created_at=row.created_at,
            before=bodies[n],
            after=bodies[n + 1],
        )
        for n, row in enumerate(rows)
    ]
    return History(post, thread, board, changes[::-1])
