"""Pages for everyone: flag a post, and revise and resubmit a post sent back by a moderator."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.errors import Conflict, ValidationFailed
from forum.posts import get_post, visible_post
from forum.web.common import actor_of, gate_of, require_user
from forum.web.forms import field, login_redirect, read_form, redirect
from forum.web.params import path_id
from forum.web.templating import render
from moderation import flags, revisions
from moderation.models import FlagReason

__all__ = ["routes"]


async def _flag_page(
    request: Request,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    post, thread, board = await get_post(actor, path_id(request))
    context: dict[str, Any] = {
        "post": visible_post(actor, post, board.id),
        "thread": thread,
        "board": board,
        "reasons": [r.value for r in FlagReason],
        "form": form or {"reason": "", "note": ""},
        "errors": errors or {},
        "message": message,
        "done": request.query_params.get("done") == "1",
    }
    return render(request, "moderation/flag.html", context, status_code=status_code)


async def flag_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    return await _flag_page(request)


async def flag(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    kept = {"reason": field(form, "reason"), "note": field(form, "note")}
    post_id = path_id(request)
    try:
        await flags.flag_post(actor_of(request), post_id, kept["reason"], kept["note"])
    except ValidationFailed as exc:
        return await _flag_page(
            request, form=kept, errors=exc.fields, message=exc.message, status_code=422
        )
    except Conflict as exc:
        return await _flag_page(request, form=kept, message=exc.message, status_code=409)
    return redirect(f"/moderation/posts/{post_id}/flag?done=1")


async def _revise_page(
    request: Request,
    *,
    body: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    actor = actor_of(request)
    item = await revisions.awaiting_revision(actor, path_id(request))
    context: dict[str, Any] = {
        "item": item,
        "post": item.post,
        "thread": item.thread,
        "form": {"body": item.post.body if body is None else body},
        "errors": errors or {},
    }
    return render(request, "moderation/revise.html", context, status_code=status_code)


async def revise_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    return await _revise_page(request)


async def resubmit(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    body = field(form, "body")
    try:
        post = await revisions.resubmit(
            actor_of(request), path_id(request), body, gate=gate_of(request)
        )
    except ValidationFailed as exc:
        return await _revise_page(request, body=body, errors=exc.fields, status_code=422)
    return redirect(f"/t/{post['thread_id']}?posted=pending#post-{post['id']}")


def routes() -> list[BaseRoute]:
    return [
        Route("/moderation/posts/{id}/flag", flag_form, methods=["GET"]),
        Route("/moderation/posts/{id}/flag", flag, methods=["POST"]),
        Route("/moderation/posts/{id}/revise", revise_form, methods=["GET"]),
        Route("/moderation/posts/{id}/revise", resubmit, methods=["POST"]),
    ]
