"""The administrators' pages: boards, their experts and moderators, and users' roles."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import accounts, boards
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import Board, Role
from forum.permissions import Actor
from forum.web import inputs
from forum.web.common import actor_of, require_user
from forum.web.forms import field, form_value, login_redirect, read_form, redirect
from forum.web.params import USERNAME, path_slug
from forum.web.parsers import Invalid
from forum.web.templating import render

__all__ = ["routes"]


def _admin(request: Request) -> Actor:
    require_user(request)
    actor = actor_of(request)
    if not actor.is_admin:
        raise Forbidden(_("このページは管理者だけが利用できます。"))
    return actor


def _username(form: FormData) -> str:
    """A username typed into a form; longer than any account's is refused (400), not looked up."""
    name: str = form_value(form, "username", USERNAME, "")
    return name.strip()


def _board_fields(form: FormData, *, creating: bool) -> dict[str, Any]:
    """Form strings in the shapes a JSON body has, for ``inputs.board_fields`` to read."""
    data: dict[str, Any] = {
        "title": field(form, "title"),
        "description": field(form, "description"),
        "moderation": field(form, "moderation"),
        "private": field(form, "private") == "1",
    }
    if creating:
        data["slug"] = field(form, "slug").strip()
    position = field(form, "position").strip()
    if position:
        # Not a whole number in range: left a string, which board_fields names as wrong.
        try:
            data["position"] = inputs.POSITION.from_string(position)
        except Invalid:
            data["position"] = position
    return data


async def _overview(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
    confirm_role: bool = False,
) -> Response:
    context = {
        "boards": await boards.list_boards(actor),
        "errors": errors or {},
        "form": form or {},
        "confirm_role": confirm_role,
        "notice": request.query_params.get("done", ""),
    }
    return render(request, "forum/admin.html", context, status_code=status_code)


async def overview(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    return await _overview(request, _admin(request))


async def create_board(request: Request) -> Response:
    form = await read_form(request)
    actor = _admin(request)
    data = _board_fields(form, creating=True)
    try:
        board = await boards.create_board(actor, inputs.board_fields(data))
    except ValidationFailed as exc:
        return await _overview(
            request, actor, errors={"board": exc.fields}, form={"board": data}, status_code=422
        )
    return redirect(f"/admin/boards/{board.slug}?done=created")


async def change_role(request: Request) -> Response:
    """Set a user's role; for an expert, the field shown beside their name goes with it."""
    form = await read_form(request)
    actor = _admin(request)
    username, role = _username(form), field(form, "role")
    expert_field = field(form, "expert_field")
    expert = role == Role.EXPERT.value
    kept = {"role": {"username": username, "role": role, "expert_field": expert_field}}
    me = actor.user
    if (
        me is not None
        and username == me.username
        and role != me.role
        and field(form, "confirm") != "1"
    ):
        # Changing one's own role ends one's session and may end one's access to this very
        # page: the form asks once more before doing it.
        return await _overview(request, actor, form=kept, confirm_role=True)
    try:
        # Checked before the role changes, so a refused form changes nothing.
        errors = accounts.ProfileEdit(expert_field=expert_field).check() if expert else {}
        if errors:
            raise ValidationFailed(_("入力内容を確認してください。"), fields=errors)
        user = await accounts.change_role(username, role)
        if expert:
            await accounts.update_profile(user, expert_field=expert_field)
    except (ValidationFailed, NotFound, Conflict) as exc:
        fields = exc.fields or {"username": exc.message}
        status = 409 if isinstance(exc, Conflict) else 422
        return await _overview(
            request, actor, errors={"role": fields}, form=kept, status_code=status
        )
    return redirect("/admin?done=role")


async def _board_page(
    request: Request,
    board: Board,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "board": board,
        "members": await boards.list_members(board),
        "errors": errors or {},
        "form": form or {},
        "notice": request.query_params.get("done", ""),
    }
    return render(request, "forum/admin_board.html", context, status_code=status_code)


async def board_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    actor = _admin(request)
    return await _board_page(request, await boards.get_board(actor, path_slug(request)))


async def update_board(request: Request) -> Response:
    form = await read_form(request)
    actor = _admin(request)
    board = await boards.get_board(actor, path_slug(request))
    data = _board_fields(form, creating=False)
    try:
        await boards.update_board(actor, board, inputs.board_fields(data))
    except ValidationFailed as exc:
        return await _board_page(
            request, board, errors={"board": exc.fields}, form={"board": data}, status_code=422
        )
    return redirect(f"/admin/boards/{board.slug}?done=saved")


async def add_staff(request: Request) -> Response:
    form = await read_form(request)
    actor = _admin(request)
    board = await boards.get_board(actor, path_slug(request))
    username, role = _username(form), field(form, "role")
    try:
        await boards.add_staff(actor, board, username, role)
    except (ValidationFailed, NotFound) as exc:
        fields = exc.fields or {"username": exc.message}
        kept = {"staff": {"username": username, "role": role}}
        return await _board_page(
            request, board, errors={"staff": fields}, form=kept, status_code=422
        )
    return redirect(f"/admin/boards/{board.slug}?done=staff")


async def remove_staff(request: Request) -> Response:
    form = await read_form(request)
    actor = _admin(request)
    board = await boards.get_board(actor, path_slug(request))
    await boards.remove_staff(actor, board, _username(form))
    return redirect(f"/admin/boards/{board.slug}?done=removed")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin", overview, methods=["GET"], name="admin"),
        Route("/admin/boards", create_board, methods=["POST"]),
        Route("/admin/users/role", change_role, methods=["POST"]),
        Route("/admin/boards/{slug}", board_page, methods=["GET"], name="admin_board"),
        Route("/admin/boards/{slug}", update_board, methods=["POST"]),
        Route("/admin/boards/{slug}/staff", add_staff, methods=["POST"]),
        Route("/admin/boards/{slug}/staff/remove", remove_staff, methods=["POST"]),
    ]
