"""A person's own pages: login, logout, registration, settings, language and notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum import accounts, i18n, mailbox, notifications
from forum.config import Settings
from forum.errors import NotAuthenticated, NotFound, ValidationFailed
from forum.i18n import gettext as _
from forum.models import ApiToken, Notification, Role, User
from forum.web.common import (
    RegistrationAllowance,
    client_ip,
    limit_registration,
    rate_limit,
    require_user,
)
from forum.web.forms import field, login_redirect, read_form, redirect, safe_next
from forum.web.middleware import SESSION_COOKIE, set_session_cookie
from forum.web.params import CURSOR, USERNAME, path_id, query
from forum.web.parsers import Text
from forum.web.templating import JST, render

__all__ = ["LANG_COOKIE", "routes"]

LANG_COOKIE = "koryu_lang"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _signed_in(request: Request, raw: str, next_path: str) -> Response:
    settings = _settings(request)
    response = redirect(safe_next(next_path))
    set_session_cookie(response, raw, days=settings.session_days, secure=settings.secure_cookies)
    return response


async def login_form(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if request.state.user is not None:
        return redirect(next_path)
    context = {"form": {"next": next_path}, "can_reset": mailbox.site() is not None}
    return render(request, "forum/login.html", context)


async def login(request: Request) -> Response:
    form = await read_form(request)
    username = field(form, "username").strip().lower()
    if len(username) > USERNAME.max_length:
        username = ""  # no account has such a name: it fails as a wrong name does
    next_path = safe_next(field(form, "next"))
    rate_limit(request, "login_ip", client_ip(request))
    rate_limit(request, "login_account", username)
    try:
        user = await accounts.authenticate(username, field(form, "password"))
    except NotAuthenticated as exc:
        context = {"form": {"username": username, "next": next_path}, "failure": exc.message}
        return render(request, "forum/login.html", context, status_code=exc.status)
    if request.state.session_cookie:
        await accounts.end_session(request.state.session_cookie)
    raw, _session = await accounts.start_session(user, days=_settings(request).session_days)
    return _signed_in(request, raw, next_path)


async def logout(request: Request) -> Response:
    await read_form(request)
    raw = request.state.session_cookie
    if raw:
        await accounts.end_session(raw)
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def register_form(request: Request) -> Response:
    closed = not _settings(request).registration_open
    # A join link sends a newcomer here with the live thread as ``next``.
    form = {
        "next": safe_next(request.query_params.get("next")),
        "join": query(request, "join", JOIN_CODE, ""),
    }
    context = {"closed": closed, "form": form, "mail": mailbox.site() is not None}
    return render(request, "forum/register.html", context)


JOIN_CODE = Text(max_length=16)


async def _join_allowance(request: Request, code: str) -> RegistrationAllowance | None:
    """The allowance of the join link a newcomer came through, if it is a live one."""
    if not code or len(code) > JOIN_CODE.max_length:
        return None
    key = await request.app.state.join_allowance(code)
    if key is None:
        return None
    return RegistrationAllowance(key=key, per_hour=_settings(request).join_registrations_per_hour)


async def register(request: Request) -> Response:
    form = await read_form(request)
    if not _settings(request).registration_open:
        return render(request, "forum/register.html", {"closed": True}, status_code=403)
    limit_registration(request, await _join_allowance(request, field(form, "join")))
    data = accounts.Registration(
        username=field(form, "username").strip(),
        password=field(form, "password"),
        display_name=field(form, "display_name"),
        affiliation=field(form, "affiliation") or "other",
        organisation=field(form, "organisation"),
    )
    # An address is optional, and asked for only where mail can be sent at all.
    mail = mailbox.site() is not None
    email = field(form, "email").strip() if mail else ""
    errors: dict[str, str] = {}
    if email:
        try:
            email = mailbox.check_address(email)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    user: User | None = None
    if not errors:
        try:
            user = await accounts.register(data)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if user is None:
        kept = {
            "username": data.username,
            "display_name": data.display_name,
            "affiliation": data.affiliation,
            "organisation": data.organisation,
            "email": email,
            "next": safe_next(field(form, "next")),
            "join": field(form, "join")[: JOIN_CODE.max_length],
        }
        context = {"closed": False, "form": kept, "errors": errors, "mail": mail}
        return render(request, "forum/register.html", context, status_code=422)
    if email:
        # The confirmation link goes out now; the address counts once it is opened.
        await mailbox.request_address(user, email)
    raw, _session = await accounts.start_session(user, days=_settings(request).session_days)
    return _signed_in(request, raw, field(form, "next") or "/")


# --- language -----------------------------------------------------------------------------


def _remember_language(request: Request, response: Response, lang: str) -> None:
    # The cookie wins over the saved setting in the identity middleware, so both must agree.
    secure = _settings(request).secure_cookies
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 86400, path="/", samesite="lax", secure=secure
    )


async def set_language(request: Request) -> Response:
    form = await read_form(request)
    lang = field(form, "lang")
    response = redirect(safe_next(field(form, "next")))
    if lang in i18n.LOCALES:
        user: User | None = request.state.user
        if user is not None:
            await accounts.update_profile(user, locale=lang)
        _remember_language(request, response, lang)
    return response


# --- settings -----------------------------------------------------------------------------


def _profile_form(user: User) -> dict[str, str]:
    return {
        "display_name": user.display_name,
        "affiliation": user.affiliation.value,
        "organisation": user.organisation,
        "expert_field": user.expert_field,
        "bio": user.bio,
        "locale": user.locale or i18n.locale(),
    }


SETTINGS_DONE = ("saved", "token_revoked", "password")


@dataclass(frozen=True, slots=True)
class TokenView:
    token: ApiToken

    @property
    def expires_at(self) -> datetime:
        return accounts.token_expiry(self.token)

    @property
    def expired(self) -> bool:
        return self.expires_at <= datetime.now(UTC)


def _token_days(request: Request) -> list[int]:
    """The lifetimes offered on the page: a few short ones, then the longest allowed."""
    longest = _settings(request).token_days
    return [days for days in (7, 30, 90, 180, 365) if days < longest] + [longest]


async def _settings_page(
    request: Request,
    user: User,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_token: accounts.IssuedToken | None = None,
    token_form: dict[str, str] | None = None,
    token_errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    done = request.query_params.get("done", "")
    token_days = _token_days(request)
    context = {
        "form": form or _profile_form(user),
        "errors": errors or {},
        "is_expert": user.role is Role.EXPERT,
        "done": done if done in SETTINGS_DONE else "",
        "tokens": [TokenView(t) for t in await accounts.list_tokens(user)],
        "new_token": new_token,
        "token_form": token_form or {"name": "", "days": str(token_days[-1])},
        "token_errors": token_errors or {},
        "token_days": [(str(days), _("{days}日").format(days=days)) for days in token_days],
        "password_errors": password_errors or {},
    }
    response = render(request, "forum/settings.html", context, status_code=status_code)
    if new_token is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret is on this page, once
    return response


async def settings_form(request: Request) -> Response:
    user: User | None = request.state.user
    if user is None:
        return login_redirect(request)
    return await _settings_page(request, user)


async def save_settings(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    names = ["display_name", "affiliation", "organisation", "bio", "locale"]
    if user.role is Role.EXPERT:
        names.append("expert_field")
    kept = {name: field(form, name) for name in names}
    try:
        await accounts.update_profile(user, **kept)
    except ValidationFailed as exc:
        return await _settings_page(request, user, form=kept, errors=exc.fields, status_code=422)
    response = redirect("/settings?done=saved")
    if user.locale:
        _remember_language(request, response, user.locale)
    return response


async def create_token(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    kept = {"name": field(form, "name"), "days": field(form, "days")}
    longest = _settings(request).token_days
    days = int(kept["days"]) if kept["days"].isdigit() and len(kept["days"]) < 6 else 0
    try:
        issued = await accounts.issue_token(user, days=days, max_days=longest, name=kept["name"])
    except ValidationFailed as exc:
        return await _settings_page(
            request, user, token_form=kept, token_errors=exc.fields, status_code=422
        )
    return await _settings_page(request, user, new_token=issued)


async def revoke_token(request: Request) -> Response:
    await read_form(request)
    if not await accounts.revoke_token(require_user(request), path_id(request)):
        raise NotFound(_("トークンが見つかりません。"))
    return redirect("/settings?done=token_revoked#tokens-heading")


async def change_password(request: Request) -> Response:
    form = await read_form(request)
    user = require_user(request)
    rate_limit(request, "login_account", user.username)
    settings = _settings(request)
    try:
        changed = await accounts.change_password(
            user,
            current_password=field(form, "current_password"),
            new_password=field(form, "new_password"),
            session=request.state.login_session,
            session_days=settings.session_days,
        )
    except ValidationFailed as exc:
        return await _settings_page(request, user, password_errors=exc.fields, status_code=422)
    response = redirect("/settings?done=password")
    if changed.session_secret:
        set_session_cookie(
            response,
            changed.session_secret,
            days=settings.session_days,
            secure=settings.secure_cookies,
        )
    return response


# --- notices ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoticeView:
    item: dict[str, Any]  # notifications.notification_resource
    created_at: datetime

    @property
    def link(self) -> str:
        thread = f"/t/{self.item['thread_id']}" if self.item["thread_id"] else "/"
        return safe_next(self.item["url"], default=thread)


async def notices_page(request: Request) -> Response:
    user: User | None = request.state.user
    if user is None:
        return login_redirect(request)
    cursor = query(request, "cursor", CURSOR, None)
    page = await notifications.list_notifications(user, cursor=cursor)
    views = [NoticeView(notifications.notification_resource(n), n.created_at) for n in page.items]
    context = {
        "notices": views,
        "groups": _by_day(views),
        "unread": page.unread,
        "next_cursor": page.next_cursor,
        "paged": cursor is not None,
        "done": request.query_params.get("done") == "read",
    }
    return render(request, "forum/notifications.html", context)


def _day_label(day: date, today: date) -> str:
    if day == today:
        return _("今日")
    if day == today - timedelta(days=1):
        return _("昨日")
    if i18n.locale() == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%b %-d, %Y")


def _by_day(views: list[NoticeView]) -> list[tuple[str, list[NoticeView]]]:
    """Newest first, under one heading per day (Japan time)."""
    today = datetime.now(UTC).astimezone(JST).date()
    groups: dict[date, list[NoticeView]] = {}
    for view in views:
        groups.setdefault(view.created_at.astimezone(JST).date(), []).append(view)
    return [(_day_label(day, today), items) for day, items in groups.items()]


async def read_notice(request: Request) -> Response:
    """Mark one notice read and come back to the list."""
    await read_form(request)
    user = require_user(request)
    notice = await Notification.get_or_none(id=path_id(request), user_id=user.id)
    if notice is None:
        raise NotFound(_("お知らせが見つかりません。"))
    await notifications.mark_read(user, [notice.id])
    return redirect("/notifications")


async def read_notices(request: Request) -> Response:
    await read_form(request)
    await notifications.mark_read(require_user(request))
    return redirect("/notifications?done=read")


def routes() -> list[BaseRoute]:
    return [
        Route("/login", login_form, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/register", register_form, methods=["GET"], name="register"),
        Route("/register", register, methods=["POST"]),
        Route("/lang", set_language, methods=["POST"], name="lang"),
        Route("/settings", settings_form, methods=["GET"], name="settings"),
        Route("/settings", save_settings, methods=["POST"]),
        Route("/settings/tokens", create_token, methods=["POST"]),
        Route("/settings/tokens/{id}/revoke", revoke_token, methods=["POST"]),
        Route("/settings/password", change_password, methods=["POST"]),
        Route("/notifications", notices_page, methods=["GET"], name="notifications"),
        Route("/notifications/read", read_notices, methods=["POST"]),
        Route("/notifications/{id}/read", read_notice, methods=["POST"]),
    ]
