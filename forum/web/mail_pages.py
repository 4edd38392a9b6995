"""Links that arrive by email (confirm an address, unsubscribe, reset a password), the
page that asks for a reset link, and the mail settings API.

The links need no login: the signed token is the authority. The one-click unsubscribe of
RFC 8058 is a POST to the same address, from the mail program, without a CSRF token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import follows, mailbox, password_reset
from forum.config import Settings
from forum.errors import NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import FollowLevel, MailFrequency, MailSettings, NotificationKind
from forum.web.common import api_route, client_ip, rate_limit, read_body, require_user
from forum.web.forms import field, login_redirect, read_form, redirect
from forum.web.openapi import Operation, Part
from forum.web.parsers import Body, Choice, Text, TextList
from forum.web.responses import JSON
from forum.web.templating import render

__all__ = ["OPENAPI", "api_routes", "page_routes"]

_KINDS = {"type": "array", "items": {"type": "string"}}
EMAIL_INPUT = Body({"email": Text(min_length=3, max_length=254)}, frozenset({"email"}))
MAIL_SETTINGS_INPUT = Body(
    {
        "frequency": Choice(values=tuple(f.value for f in MailFrequency)),
        "email_kinds_off": TextList(
            item=Text(min_length=1, max_length=32), max_items=len(NotificationKind)
        ),
    }
)
SCHEMAS: dict[str, Any] = {
    "EmailInput": EMAIL_INPUT.schema(),
    "EmailRequested": {
        "type": "object",
        "required": ["sent"],
        "properties": {"sent": {"type": "boolean"}},
    },
    "MailSettings": {
        "type": "object",
        "required": ["email", "confirmed", "frequency", "email_kinds_off"],
        "properties": {
            "email": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "confirmed": {"type": "boolean"},
            "frequency": {"enum": ["immediately", "daily", "never"]},
            "email_kinds_off": _KINDS,
        },
    },
    "MailSettingsInput": MAIL_SETTINGS_INPUT.schema(),
}
OPERATIONS: list[Operation] = [
    ("put", "/me/email", "Mail a confirmation link to a new address", "EmailInput", 202, "EmailRequested", "user", False),
    ("get", "/me/mail", "The caller's address and mail settings", None, 200, "MailSettings", "user", False),
    ("patch", "/me/mail", "How often, and which notices, by email", "MailSettingsInput", 200, "MailSettings", "user", False),
]  # fmt: skip
OPENAPI = Part(OPERATIONS, SCHEMAS, {})


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _resource(settings: MailSettings) -> dict[str, Any]:
    """Only ever shown to its owner."""
    return {
        "email": settings.email,
        "confirmed": settings.confirmed_at is not None,
        "frequency": settings.frequency.value,
        "email_kinds_off": list(settings.email_kinds_off),
    }


async def request_email(request: Request) -> Response:
    user = require_user(request)
    address = (await read_body(request, EMAIL_INPUT))["email"]
    await mailbox.request_address(user, address)
    return JSON({"sent": True}, status_code=202)


async def mail_settings(request: Request) -> Response:
    user = require_user(request)
    if request.method == "PATCH":
        data = await read_body(request, MAIL_SETTINGS_INPUT)
        frequency, kinds = data.get("frequency"), data.get("email_kinds_off")
        saved = await mailbox.set_preferences(user, frequency=frequency, email_kinds_off=kinds)
        return JSON(_resource(saved))
    return JSON(_resource(await mailbox.preferences(user)))


async def confirm(request: Request) -> Response:
    token = request.query_params.get("t", "")
    done = await mailbox.confirm_address(_settings(request).secret_key, token)
    context = {
        "heading": _("メールアドレスの確認"),
        "message": _("メールアドレスを登録しました。")
        if done
        else _("このリンクは使えません。期限が切れたか、すでに別のアカウントで使われています。"),
    }
    return render(request, "forum/mail_link.html", context, status_code=200 if done else 400)


async def unsubscribe(request: Request) -> Response:
    """GET asks (a link scanner must not unsubscribe anyone); POST does it, in one click."""
    token = request.query_params.get("t", "")
    heading = _("メールの配信停止")
    if request.method == "GET":
        context = {
            "heading": heading,
            "message": _("koryu からのお知らせメールを停止します。"),
            "ask": True,
            "token": token,
        }
        return render(request, "forum/mail_link.html", context)
    done = await mailbox.unsubscribe(_settings(request).secret_key, token)
    message = (
        _("お知らせメールの配信を停止しました。設定画面からいつでも再開できます。")
        if done
        else _("このリンクは使えません。")
    )
    context = {"heading": heading, "message": message}
    return render(request, "forum/mail_link.html", context, status_code=200 if done else 400)


def _kind_labels() -> list[tuple[str, str]]:
    labels = {
        NotificationKind.MENTIONED: _("メンション"),
        NotificationKind.REPLIED: _("返信"),
        NotificationKind.QUOTED: _("引用"),
        NotificationKind.WATCHED_POST: _("ウォッチ中のスレッド・掲示板への投稿"),
        NotificationKind.ANSWERED: _("質問への回答"),
        NotificationKind.ANSWER_STATE: _("質問の扱いの変更"),
        NotificationKind.SESSION_LIVE: _("フォロー中のイベントの開始"),
        NotificationKind.POST_APPROVED: _("投稿の承認"),
        NotificationKind.POST_REJECTED: _("投稿の非公開"),
        NotificationKind.REVISION_REQUESTED: _("修正の依頼"),
        NotificationKind.EDIT_APPROVED: _("編集の承認"),
        NotificationKind.EDIT_REJECTED: _("編集の不承認"),
    }
    return [(kind.value, labels[kind]) for kind in NotificationKind]


async def notice_settings(request: Request) -> Response:
    """Every kind of notice on the page and by email, the mail frequency, follow levels."""
    if request.state.user is None:
        return login_redirect(request)
    user = require_user(request)
    if request.method == "POST":
        form = await read_form(request)
        kinds = [k.value for k in NotificationKind]
        page_on, email_on = set(form.getlist("page")), set(form.getlist("email"))
        await mailbox.set_preferences(
            user,
            frequency=field(form, "frequency") or None,
            page_kinds_off=[k for k in kinds if k not in page_on],
            email_kinds_off=[k for k in kinds if k not in email_on],
        )
        for follow in await follows.list_for(user):
            chosen = field(form, f"follow-{follow.id}")
            if chosen and chosen != follow.level.value:
                await follows.set_level_by_id(user, follow.id, follows.parse_level(chosen))
        return redirect("/settings/notifications?saved=1")
    context = {
        "prefs": await mailbox.preferences(user),
        "kinds": _kind_labels(),
        "frequencies": [
            ("immediately", _("すぐに")),
            ("daily", _("1日1回まとめて（朝7時）")),
            ("never", _("受け取らない")),
        ],
        "follows": await follows.list_for(user),
        "levels": [
            (FollowLevel.WATCHING.value, _("ウォッチ（新しい投稿ごとにお知らせ）")),
            (FollowLevel.TRACKING.value, _("追跡（未読数のみ）")),
            (FollowLevel.MUTED.value, _("ミュート")),
            ("none", _("フォローをやめる")),
        ],
        "saved": request.query_params.get("saved") == "1",
    }
    return render(request, "forum/notice_settings.html", context)


def _mail_or_404() -> None:
    # Without KORYU_SMTP_URL no reset link can be sent: the page does not exist here.
    if mailbox.site() is None:
        raise NotFound(_("ページが見つかりません。"))


async def forgot_form(request: Request) -> Response:
    _mail_or_404()
    return render(request, "forum/password.html", {"step": "ask"})


async def forgot(request: Request) -> Response:
    """The same answer for a known address, an unknown one, or a malformed one."""
    _mail_or_404()
    address = field(await read_form(request), "email").strip()
    rate_limit(request, "reset_ip", client_ip(request))
    rate_limit(request, "reset_account", mailbox.email_key(address))
    await password_reset.request_reset(address)
    message = _(
        "そのメールアドレスが登録されていれば、再設定用のリンクを送りました。"
        "リンクの有効期限は1時間です。"
    )
    return render(request, "forum/password.html", {"step": "sent", "message": message})


async def reset_form(request: Request) -> Response:
    context = {"step": "set", "token": request.query_params.get("t", "")}
    return render(request, "forum/password.html", context)


async def reset(request: Request) -> Response:
    form = await read_form(request)
    token = field(form, "t")
    try:
        await password_reset.reset_password(
            _settings(request).secret_key, token, field(form, "new_password")
        )
    except ValidationFailed as exc:
        context = {
            "step": "set" if exc.fields else "failed",
            "token": token,
            "errors": exc.fields,
            "failure": exc.message,
        }
        return render(request, "forum/password.html", context, status_code=422)
    message = _("パスワードを変更しました。新しいパスワードでログインしてください。")
    return render(request, "forum/password.html", {"step": "done", "message": message})


def api_routes() -> list[BaseRoute]:
    return [
        api_route("/me/email", request_email, ["PUT"]),
        api_route("/me/mail", mail_settings, ["GET", "PATCH"]),
    ]


def page_routes() -> list[BaseRoute]:
    return [
        Route("/mail/confirm", confirm, methods=["GET"]),
        Route("/settings/notifications", notice_settings, methods=["GET", "POST"]),
        Route("/mail/unsubscribe", unsubscribe, methods=["GET", "POST"]),
        Route("/password/forgot", forgot_form, methods=["GET"]),
        Route("/password/forgot", forgot, methods=["POST"]),
        Route("/password/reset", reset_form, methods=["GET"]),
        Route("/password/reset", reset, methods=["POST"]),
    ]
