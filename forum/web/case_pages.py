"""Practice case pages: the list with its map of Japan, a case, the case form, admin's themes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import cases
from forum.errors import Forbidden, ValidationFailed
from forum.i18n import gettext as _
from forum.models import PopulationBand, PracticeCase
from forum.prefectures import PREFECTURES, prefecture_names
from forum.web.attachments import attached_files, form_ids
from forum.web.common import actor_of, require_user
from forum.web.forms import field, login_redirect, read_form, redirect
from forum.web.params import int_query, path_id
from forum.web.templating import render

__all__ = ["routes"]

TILE = 48  # px per map tile; the grid is 13 × 13 tiles


def _filters(request: Request) -> tuple[int | None, int | None]:
    prefecture = int_query(request, "prefecture", 0, low=0, high=47) or None
    theme = int_query(request, "theme", 0, low=0, high=2**31 - 1) or None
    return prefecture, theme


def _short(name: str) -> str:
    """A prefecture's name as it fits a tile: 東京都 → 東京, Kagoshima Prefecture → Kagoshima."""
    if name.endswith(" Prefecture"):
        return name.removesuffix(" Prefecture")
    return name if name == "北海道" or len(name) < 3 else name[:-1]


def map_tiles(counts: dict[int, int], selected: int | None) -> list[dict[str, Any]]:
    names = prefecture_names()
    tiles = []
    for code, pref in PREFECTURES.items():
        n = counts.get(code, 0)
        level = 0 if n == 0 else 1 if n == 1 else 2 if n < 5 else 3
        tiles.append(
            {
                "code": code,
                "name": names[code],
                "short": _short(names[code]),
                "count": n,
                "x": pref.x * TILE,
                "y": pref.y * TILE,
                "level": level,
                "selected": code == selected,
            }
        )
    return tiles


async def case_list(request: Request) -> Response:
    prefecture, theme = _filters(request)
    counts = await cases.prefecture_counts(theme=theme)
    return render(
        request,
        "forum/cases.html",
        {
            "cases": await cases.list_cases(prefecture=prefecture, theme=theme),
            "themes": await cases.list_themes(),
            "prefecture": prefecture,
            "theme": theme,
            "tiles": map_tiles(counts, prefecture),
            "tile": TILE,
            "total": sum(counts.values()),
            "names": prefecture_names(),
            "can_write": cases.can_write_cases(actor_of(request)),
        },
    )


async def case_page(request: Request) -> Response:
    view = await cases.get_case(path_id(request))
    can_edit = cases.can_edit_case(actor_of(request), view.case)
    return render(
        request,
        "forum/case.html",
        {"view": view, "names": prefecture_names(), "can_edit": can_edit},
    )


def _fields(form: FormData) -> cases.CaseFields:
    def number(name: str) -> int:
        raw = field(form, name)
        return int(raw) if raw.isdigit() and len(raw) <= 9 else 0

    themes = tuple(
        int(v) for v in form.getlist("themes") if isinstance(v, str) and v.isdigit() and len(v) < 10
    )
    return cases.CaseFields(
        title=field(form, "title"),
        prefecture=number("prefecture"),
        municipality=field(form, "municipality"),
        population_band=field(form, "population_band"),
        organisation=field(form, "organisation"),
        period=field(form, "period"),
        background=field(form, "background"),
        actions=field(form, "actions"),
        results=field(form, "results"),
        challenges=field(form, "challenges"),
        themes=themes,
    )


async def _form_context(
    data: dict[str, Any], errors: dict[str, str], action: str
) -> dict[str, Any]:
    return {
        "form": data,
        "errors": errors,
        "action": action,
        "themes": await cases.list_themes(),
        "names": prefecture_names(),
        "bands": [(band.value, cases.population_label(band)) for band in PopulationBand],
    }


def _as_form(data: cases.CaseFields) -> dict[str, Any]:
    return {
        "title": data.title,
        "prefecture": data.prefecture,
        "municipality": data.municipality,
        "population_band": data.population_band,
        "organisation": data.organisation,
        "period": data.period,
        "background": data.background,
        "actions": data.actions,
        "results": data.results,
        "challenges": data.challenges,
        "themes": set(data.themes),
    }


async def new_case_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    if not cases.can_write_cases(actor_of(request)):
        raise Forbidden(_("実践事例を登録できるのは有識者・モデレーター・管理者です。"))
    context = await _form_context({"themes": set()}, {}, "/cases/new")
    return render(request, "forum/case_form.html", context)


async def _with_files(request: Request, form: FormData) -> cases.CaseFields:
    """The form's fields, and its cover photo and reports: those kept (ticked), then those
    sent now; a new cover photo replaces the old."""
    data = _fields(form)
    reports = await attached_files(request, form)
    new_cover = await attached_files(request, form, files="cover_file", ids="_none")
    chosen = list(new_cover) or form_ids(form, "cover")
    cover = chosen[0] if chosen else None
    return replace(data, cover=cover, attachments=reports)


def _files_of(case: PracticeCase) -> dict[str, Any]:
    return {"cover": case.cover, "attachments": list(case.attachments or [])}


async def new_case(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _new_case(request, form)
    finally:
        await form.close()


async def _new_case(request: Request, form: FormData) -> Response:
    require_user(request)
    data = _fields(form)
    try:
        data = await _with_files(request, form)
        case = await cases.create_case(actor_of(request), data)
    except ValidationFailed as exc:
        context = await _form_context(
            _as_form(data), exc.fields or {"files": exc.message}, "/cases/new"
        )
        return render(request, "forum/case_form.html", context, status_code=422)
    return redirect(f"/cases/{case.id}")


async def edit_case_form(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    view = await cases.get_case(path_id(request))
    case = view.case
    if not cases.can_edit_case(actor_of(request), case):
        raise Forbidden(_("この実践事例を編集する権限がありません。"))
    data = cases.CaseFields(
        title=case.title,
        prefecture=case.prefecture,
        municipality=case.municipality,
        population_band=case.population_band.value,
        organisation=case.organisation,
        period=case.period,
        background=case.background,
        actions=case.actions,
        results=case.results,
        challenges=case.challenges,
        themes=tuple(t.id for t in view.themes),
    )
    context = await _form_context(
        {**_as_form(data), **_files_of(case)}, {}, f"/cases/{case.id}/edit"
    )
    return render(request, "forum/case_form.html", context)


async def edit_case(request: Request) -> Response:
    form = await read_form(request)
    try:
        return await _edit_case(request, form)
    finally:
        await form.close()


async def _edit_case(request: Request, form: FormData) -> Response:
    require_user(request)
    view = await cases.get_case(path_id(request))
    data = _fields(form)
    files = _files_of(view.case)
    try:
        data = await _with_files(request, form)
        await cases.update_case(actor_of(request), view.case, data)
    except ValidationFailed as exc:
        context = await _form_context(
            {**_as_form(data), **files},
            exc.fields or {"files": exc.message},
            f"/cases/{view.case.id}/edit",
        )
        return render(request, "forum/case_form.html", context, status_code=422)
    return redirect(f"/cases/{view.case.id}")


async def delete_case(request: Request) -> Response:
    await read_form(request)
    require_user(request)
    view = await cases.get_case(path_id(request))
    await cases.delete_case(actor_of(request), view.case)
    return redirect("/cases")


# --- themes (administrators) ----------------------------------------------------------------


async def themes_page(request: Request, errors: dict[str, str] | None = None) -> Response:
    actor = actor_of(request)
    if not actor.is_admin:
        raise Forbidden(_("テーマを編集できるのは管理者だけです。"))
    return render(
        request,
        "forum/admin_themes.html",
        {"themes": await cases.list_themes(), "errors": errors or {}},
        status_code=422 if errors else 200,
    )


async def add_theme(request: Request) -> Response:
    form = await read_form(request)
    try:
        await cases.add_theme(actor_of(request), field(form, "name"))
    except ValidationFailed as exc:
        return await themes_page(request, exc.fields)
    return redirect("/admin/themes")


async def rename_theme(request: Request) -> Response:
    form = await read_form(request)
    try:
        await cases.rename_theme(actor_of(request), path_id(request), field(form, "name"))
    except ValidationFailed as exc:
        return await themes_page(request, exc.fields)
    return redirect("/admin/themes")


async def remove_theme(request: Request) -> Response:
    await read_form(request)
    await cases.remove_theme(actor_of(request), path_id(request))
    return redirect("/admin/themes")


def routes() -> list[BaseRoute]:
    return [
        Route("/cases", case_list, methods=["GET"], name="cases"),
        Route("/cases/new", new_case_form, methods=["GET"]),
        Route("/cases/new", new_case, methods=["POST"]),
        Route("/cases/{id}", case_page, methods=["GET"], name="case"),
        Route("/cases/{id}/edit", edit_case_form, methods=["GET"]),
        Route("/cases/{id}/edit", edit_case, methods=["POST"]),
        Route("/cases/{id}/delete", delete_case, methods=["POST"]),
        Route("/admin/themes", themes_page, methods=["GET"], name="admin_themes"),
        Route("/admin/themes", add_theme, methods=["POST"]),
        Route("/admin/themes/{id}", rename_theme, methods=["POST"]),
        Route("/admin/themes/{id}/remove", remove_theme, methods=["POST"]),
    ]
