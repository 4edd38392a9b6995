"""Moderators' tool pages: the audit log, sanctions on a user, and a thread's lock/pin/move."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts import get_user
from forum.errors import Forbidden, ValidationFailed
from forum.i18n import gettext as _
from forum.threads import ThreadChanges, update_thread
from forum.web.common import actor_of, gate_of, require_user
from forum.web.forms import field, form_value, login_redirect, read_form, redirect
from forum.web.params import SLUG, path_id, path_username, query
from forum.web.templating import render
from moderation import audit, sanctions
from moderation.access import check_site_moderator, list_moderated_boards
from moderation.thread_tools import THREAD_ACTIONS, moderated_thread, move_thread, set_thread_flag
from moderation.web.audit_text import describe
from moderation.web.inputs import QUERY

__all__ = ["routes"]


async def log_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = actor_of(request)
    specs = QUERY["/moderation/log"]
    board = query(request, "board", specs["board"], None)
    page = await audit.list_log(
        actor, board=board, cursor=query(request, "cursor", specs["cursor"], None), limit=50
    )
    boards = await list_moderated_boards(actor)
    titles = {b.slug: b.title for b in boards}
    context: dict[str, Any] = {
        "entries": [
            {
                "sentence": describe(e, titles),
                "at": e.created_at,
                "board": e.board.title if e.board else "",
                "reason": e.reason,
                "admin_only": e.admin_only,
                "target": {"type": e.target_type, "id": e.target_id},
            }
            for e in page.entries
        ],
        "next_cursor": page.next_cursor,
        "board": board or "",
        "boards": boards,
    }
    return render(request, "moderation/log.html", context)


async def _user_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    check_site_moderator(actor_of(request))
    person = await get_user(path_username(request))
    now = datetime.now(UTC)
    context: dict[str, Any] = {
        "person": person,
        "silenced": person.silenced_until and person.silenced_until > now,
        "suspended": person.suspended_until and person.suspended_until > now,
        "errors": errors or {},
        "form": form or {"kind": "silence", "hours": "24", "reason": ""},
        "done": request.query_params.get("done") == "1",
    }
    return render(request, "moderation/user.html", context, status_code=status_code)


async def user_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    return await _user_page(request)


async def sanction(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    kept = {k: field(form, k) for k in ("kind", "hours", "reason")}
    raw = kept["hours"]
    hours = int(raw) if raw.isdigit() and len(raw) < 10 else None
    order = sanctions.SanctionOrder(kept["kind"], hours, kept["reason"])
    username = path_username(request)
    try:
        await sanctions.sanction(actor_of(request), username, order)
    except ValidationFailed as exc:
        return await _user_page(request, errors=exc.fields, form=kept, status_code=422)
    return redirect(f"/moderation/users/{username}?done=1")


async def _thread_page(request: Request, *, error: str = "", status_code: int = 200) -> Response:
    actor = actor_of(request)
    thread, board = await moderated_thread(actor, path_id(request))
    context: dict[str, Any] = {
        "thread": thread,
        "board": board,
        "targets": [b for b in await list_moderated_boards(actor) if b.id != board.id],
        "error": error,
        "done": request.query_params.get("done") == "1",
    }
    return render(request, "moderation/thread.html", context, status_code=status_code)


async def thread_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    return await _thread_page(request)


async def thread_action(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    actor = actor_of(request)
    thread_id = path_id(request)
    action = field(form, "action")
    reason = field(form, "reason")
    try:
        if action == "move":
            board = form_value(form, "board", SLUG, "")
            await move_thread(actor, thread_id, board, reason=reason)
        elif action == "policy":
            thread, board = await moderated_thread(actor, thread_id)
            changes = ThreadChanges(moderation=field(form, "moderation"))
            await update_thread(actor, thread, board, changes, gate=gate_of(request))
        elif action in THREAD_ACTIONS:
            await set_thread_flag(actor, thread_id, action, reason=reason)
        else:
            raise ValidationFailed(_("操作を選んでください。"))
    except (ValidationFailed, Forbidden) as exc:
        if isinstance(exc, Forbidden) and action not in ("move", "policy"):
            raise
        message = next(iter(exc.fields.values()), exc.message)
        return await _thread_page(request, error=message, status_code=exc.status)
    return redirect(f"/moderation/threads/{thread_id}?done=1")


def routes() -> list[BaseRoute]:
    return [
        Route("/moderation/log", log_page, methods=["GET"]),
        Route("/moderation/users/{username}", user_page, methods=["GET"]),
        Route("/moderation/users/{username}", sanction, methods=["POST"]),
        Route("/moderation/threads/{id}", thread_page, methods=["GET"]),
        Route("/moderation/threads/{id}", thread_action, methods=["POST"]),
    ]
