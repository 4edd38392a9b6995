"""The rules page under /moderation/rules: thresholds, watched words, reject templates (admins)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.errors import ValidationFailed
from forum.i18n import gettext as _
from forum.web import inputs
from forum.web.common import actor_of, require_user
from forum.web.forms import field, login_redirect, read_form, redirect
from forum.web.params import path_id
from forum.web.templating import render
from moderation import ruleset
from moderation.access import check_admin

__all__ = ["routes"]


def setting_labels() -> list[tuple[str, str, str]]:
    """(name, label, hint) of each threshold, in the order of the form."""
    return [
        (
            "first_posts",
            _("初回承認の件数"),
            _("「初回承認」の掲示板で、承認が必要なはじめての投稿の数。"),
        ),
        (
            "link_account_days",
            _("リンクを保留するアカウントの日数"),
            _("登録からこの日数未満のアカウントのリンクを含む投稿を保留します。0で無効。"),
        ),
        (
            "duplicate_minutes",
            _("同じ内容の投稿を保留する時間（分）"),
            _("同じ人が同じ本文をこの時間内に投稿すると保留します。0で無効。"),
        ),
        (
            "burst_posts",
            _("連続投稿の上限（件）"),
            _("下の秒数のあいだにこの件数を超えて投稿すると保留します。0で無効。"),
        ),
        ("burst_seconds", _("連続投稿を数える秒数"), ""),
        (
            "flag_threshold",
            _("非表示にする通報の件数"),
            _("この件数の通報が集まると、確認が終わるまで投稿を非表示にします。"),
        ),
    ]


async def _page(
    request: Request,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {
        "settings": asdict(await ruleset.load_settings()),
        "setting_labels": setting_labels(),
        "words": await ruleset.list_words(),
        "templates": await ruleset.list_templates(),
        "errors": errors or {},
        "form": form or {},
        "done": request.query_params.get("done", "") == "1",
    }
    return render(request, "moderation/rules.html", context, status_code=status_code)


async def rules_page(request: Request) -> Response:
    if request.state.user is None:
        return login_redirect(request)
    check_admin(actor_of(request))
    return await _page(request)


async def save_settings(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    data: dict[str, Any] = {}
    for name, _label, _hint in setting_labels():
        raw = field(form, name).strip()
        data[name] = int(raw) if raw.isdigit() and len(raw) < 10 else raw
    try:
        message = _("0〜100,000の整数で入力してください。")
        values = inputs.integers(data, ruleset.SETTING_NAMES, message)
        changes = ruleset.SettingChanges(**values, unknown=())
        await ruleset.update_settings(actor_of(request), changes)
    except ValidationFailed as exc:
        return await _page(request, errors={"settings": exc.fields}, form=data, status_code=422)
    return redirect("/moderation/rules?done=1")


async def add_word(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    data = {"word": field(form, "word"), "action": field(form, "action")}
    try:
        await ruleset.add_word(actor_of(request), data["word"], data["action"])
    except ValidationFailed as exc:
        return await _page(request, errors={"word": exc.fields}, form=data, status_code=422)
    return redirect("/moderation/rules?done=1#words")


async def remove_word(request: Request) -> Response:
    await read_form(request)
    require_user(request)
    await ruleset.remove_word(actor_of(request), path_id(request))
    return redirect("/moderation/rules?done=1#words")


async def add_template(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    text = field(form, "text")
    try:
        await ruleset.add_template(actor_of(request), text)
    except ValidationFailed as exc:
        return await _page(
            request, errors={"template": exc.fields}, form={"text": text}, status_code=422
        )
    return redirect("/moderation/rules?done=1#templates")


async def change_template(request: Request) -> Response:
    form = await read_form(request)
    require_user(request)
    actor = actor_of(request)
    if field(form, "delete") == "1":
        await ruleset.remove_template(actor, path_id(request))
        return redirect("/moderation/rules?done=1#templates")
    try:
        await ruleset.update_template(actor, path_id(request), field(form, "text"))
    except ValidationFailed as exc:
        return await _page(request, errors={"template": exc.fields}, status_code=422)
    return redirect("/moderation/rules?done=1#templates")


def routes() -> list[BaseRoute]:
    return [
        Route("/moderation/rules", rules_page, methods=["GET"]),
        Route("/moderation/rules", save_settings, methods=["POST"]),
        Route("/moderation/rules/words", add_word, methods=["POST"]),
        Route("/moderation/rules/words/{id}/delete", remove_word, methods=["POST"]),
        Route("/moderation/rules/templates", add_template, methods=["POST"]),
        Route("/moderation/rules/templates/{id}", change_template, methods=["POST"]),
    ]
