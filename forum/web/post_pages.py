"""A post's own pages: its author (or a moderator) edits or deletes it, and anyone who may
read it sees its edit history with each change as a diff."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import posts, revisions
from forum.errors import Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, Post, PostStatus, Thread
from forum.permissions import can_edit_post
from forum.web.common import actor_of, gate_of, rate_limit, require_user
from forum.web.forms import field, login_redirect, read_form, redirect
from forum.web.params import path_id
from forum.web.templating import render

__all__ = ["routes"]


async def _editable(request: Request) -> tuple[Post, Thread, Board]:
    """The post of ``/t/{id}/posts/{post_id}``, if it is in that thread and the actor may
    change it."""
    actor = actor_of(request)
    post, thread, board = await posts.get_post(actor, path_id(request, "post_id"))
    if thread.id != path_id(request):
        raise NotFound(_("投稿が見つかりません。"))
    if not can_edit_post(actor, post, board.id):
        raise Forbidden(_("この投稿を編集する権限がありません。"))
    return post, thread, board


def _back(post: Post, thread: Thread) -> str:
    return f"/t/{thread.id}#post-{post.id}"


async def edit_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    post, thread, board = await _editable(request)
    # An edit waiting for a moderator is what its author goes on editing.
    body = post.proposed_body if post.proposed_body is not None else post.body
    context = {"post": post, "thread": thread, "board": board, "form": {"body": body}}
    return render(request, "forum/post_edit.html", context)


async def edit(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    post, thread, board = await _editable(request)
    body = field(form, "body")
    rate_limit(request, "post", str(user.id))
    try:
        await posts.edit_post(actor_of(request), post.id, body, gate=gate_of(request))
    except ValidationFailed as exc:
        context = {
            "post": post,
            "thread": thread,
            "board": board,
            "form": {"body": body},
            "errors": exc.fields,
        }
        return render(request, "forum/post_edit.html", context, status_code=422)
    return redirect(_back(post, thread))


async def delete(request: Request) -> Response:
    await read_form(request)
    require_user(request)
    post, thread, _board = await _editable(request)
    await posts.delete_post(actor_of(request), post.id, gate=gate_of(request))
    return redirect(f"/t/{thread.id}")


async def history(request: Request) -> Response:
    found = await revisions.history(actor_of(request), path_id(request))
    context = {
        "post": found.post,
        "thread": found.thread,
        "board": found.board,
        "changes": found.changes,
        "pending": found.post.status is PostStatus.PENDING,
    }
    return render(request, "forum/revisions.html", context)


def routes() -> list[BaseRoute]:
    return [
        Route("/t/{id}/posts/{post_id}/edit", edit_form, methods=["GET"], name="edit_post"),
        Route("/t/{id}/posts/{post_id}/edit", edit, methods=["POST"]),
        Route("/t/{id}/posts/{post_id}/delete", delete, methods=["POST"], name="delete_post"),
        Route("/posts/{id}/revisions", history, methods=["GET"], name="post_revisions"),
    ]
