"""The one Jinja2 environment of the pages: autoescaped, translated, with the forum's filters.

Translations go through ``forum.i18n``, which reads the request's language from a
context variable, so a single environment serves every language.

A page is rendered when its response is sent rather than when it is made, so ``render``
stays a plain function for every view while the header can still await the one query it
needs (the signed-in user's unread notices).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from forum import events, i18n, notifications, outbox
from forum.avatars import avatar_of
from forum.formatting import JST, format_date, format_datetime, format_number
from forum.i18n import gettext as _
from forum.models import Affiliation, BoardRole, ModerationPolicy, Role, User
from forum.permissions import STAFF_ROLES, Actor
from forum.render import html_excerpt
from forum.web.common import csrf_token

__all__ = [
    "JST",
    "TEMPLATE_DIR",
    "affiliation_label",
    "answer_state_label",
    "choices",
    "format_datetime",
    "format_number",
    "moderates_any_board",
    "render",
    "render_html",
    "role_label",
    "templates",
]

TEMPLATE_DIR = Path(__file__).parents[1] / "templates"


def relative_text(value: datetime, now: datetime) -> str:
    """「3分前」: what time.js's relativeText says for the same moment (change both)."""
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return _("たった今")
    if seconds < 3600:
        minutes = int(seconds // 60)
        return i18n.ngettext("%(num)d分前", "%(num)d分前", minutes) % {"num": minutes}
    if seconds < 86400:
        hours = int(seconds // 3600)
        return i18n.ngettext("%(num)d時間前", "%(num)d時間前", hours) % {"num": hours}
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return i18n.ngettext("%(num)d日前", "%(num)d日前", days) % {"num": days}
    return format_datetime(value)


def reltime(value: datetime | None, now: datetime | None = None) -> Markup:
    """A ``<time>`` saying how long ago, with the JST date and time on hover; time.js keeps
    the words current (cached pages included) and draws live posts' times the same way."""
    if value is None:
        return Markup("")
    moment = value.astimezone(JST)
    return Markup('<time datetime="{0}" title="{1}" data-rel>{2}</time>').format(
        moment.isoformat(timespec="seconds"),
        format_datetime(value),
        relative_text(value, now or datetime.now(UTC)),
    )


def time_strings() -> dict[str, object]:
    """relative_text's words for time.js, in the page's language (singular, plural)."""

    def forms(singular: str) -> list[str]:
        return [i18n.ngettext(singular, singular, 1), i18n.ngettext(singular, singular, 2)]

    return {
        "locale": i18n.locale(),
        "just_now": _("たった今"),
        "minutes": forms("%(num)d分前"),
        "hours": forms("%(num)d時間前"),
        "days": forms("%(num)d日前"),
    }


def isoformat(value: datetime | None) -> str:
    return value.astimezone(JST).isoformat(timespec="minutes") if value else ""


def affiliation_label(value: object) -> str:
    labels = {
        "municipality": _("自治体"),
        "intermediary": _("中間支援組織"),
        "business": _("民間事業者"),
        "citizen": _("市民"),
        "other": _("その他"),
    }
    return labels.get(str(value), str(value))


def role_label(value: object) -> str:
    labels = {
        "participant": _("参加者"),
        "expert": _("有識者"),
        "moderator": _("モデレーター"),
        "admin": _("管理者"),
    }
    return labels.get(str(value), str(value))


def moderation_label(value: object) -> str:
    labels = {
        "open": _("承認なし（投稿はすぐに表示）"),
        "premoderated": _("事前承認（すべての投稿をモデレーターの承認後に表示）"),
        "first_posts": _("初回承認（はじめての投稿だけモデレーターの承認後に表示）"),
    }
    return labels.get(str(value), str(value))


def answer_state_label(value: object) -> str:
    """A live question's answer state, as the thread page and the Q&A screens name it."""
    labels = {
        "open": _("未回答"),
        "assigned": _("担当決定"),
        "answering": _("回答中"),
        "answered_live": _("会場で回答済み"),
        "answered_written": _("文書で回答済み"),
        "deferred": _("後日回答"),
    }
    return labels.get(str(value), str(value))


def board_role_label(value: object) -> str:
    labels = {"member": _("メンバー"), "expert": _("有識者"), "moderator": _("モデレーター")}
    return labels.get(str(value), str(value))


_CHOICES: dict[str, tuple[tuple[str, ...], Callable[[object], str]]] = {
    "affiliation": (tuple(a.value for a in Affiliation), affiliation_label),
    "role": (tuple(r.value for r in Role), role_label),
    "moderation": (tuple(m.value for m in ModerationPolicy), moderation_label),
    "board_role": (
        (BoardRole.EXPERT.value, BoardRole.MODERATOR.value, BoardRole.MEMBER.value),
        board_role_label,
    ),
}


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, label) pairs for a select of affiliations, roles, policies or board roles."""
    values, label = _CHOICES[kind]
    return [(value, label(value)) for value in values]


# Counts in a translated text read with thousands separators (1,234件): the quantities are
# passed as these names; ids (#%(id)s) and years are not, so they stay as they are.
_COUNTS = frozenset({"num", "n", "count", "items", "minutes"})
_INTEGER = re.compile(r"%\((\w+)\)d")


def _counted(variables: dict[str, Any]) -> dict[str, Any]:
    return {
        k: format_number(v) if k in _COUNTS and isinstance(v, int | float) else v
        for k, v in variables.items()
    }


def _formatted(context: Any, text: str, variables: dict[str, Any]) -> str:
    text = _INTEGER.sub(r"%(\1)s", text)
    # The catalog is trusted as the templates are; the variables are escaped by Markup's %.
    rv: str = Markup(text) if context.eval_ctx.autoescape else text  # noqa: S704
    return rv % _counted(variables)


@jinja2.pass_context
def _gettext(context: Any, message: str, /, **variables: Any) -> str:
    return _formatted(context, i18n.gettext(message), variables)


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, num: int, /, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _formatted(context, i18n.ngettext(singular, plural, num), variables)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        # Templates change with a deploy, not while a process runs: no stat() per render.
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts {% trans %} blocks
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    # The extension's own newstyle callables, with counts formatted (see _counted).
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    env.filters.update(
        datetime=format_datetime,
        date=format_date,
        number=format_number,
        isoformat=isoformat,
        affiliation=affiliation_label,
        role=role_label,
        moderation=moderation_label,
        board_role=board_role_label,
        answer_state=answer_state_label,
        html_excerpt=html_excerpt,
    )
    env.globals.update(
        csrf_token=csrf_token,
        choices=choices,
        avatar_of=avatar_of,
        reltime=reltime,
        time_strings=time_strings,
    )
    return env


templates = Jinja2Templates(env=_environment())


def moderates_any_board(actor: Actor | None) -> bool:
    """Whether the moderation section has anything for this actor: no query, the actor knows."""
    if actor is None or actor.user is None:
        return False
    return actor.is_site_moderator or any(r in STAFF_ROLES for r in actor.board_roles.values())


class PageResponse(HTMLResponse):
    """A template rendered when the response is sent, after the header's data is loaded."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        *,
        viewer: User | None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.template = template
        self.context = context
        self.viewer = viewer
        super().__init__(b"", status_code=status_code, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # An error page of 5xx may stem from the database itself: do not ask it again.
        if self.viewer is not None and self.status_code < 500:
            self.context["nav_unread"] = await notifications.unread_count(self.viewer)
            # The header follows the user's channel from here (static/notices.js): the
            # count is read first, so a notice committed in between is replayed, not lost.
            channel = events.user_channel(self.viewer.id)
            self.context["nav_channel"] = channel
            self.context["nav_seq"] = await outbox.head(channel)
        self.body = self.render(self.template.render(self.context))
        self.headers["content-length"] = str(len(self.body))
        await super().__call__(scope, receive, send)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page with what every page needs: who is asking, the CSRF token, nonce, language."""
    page = _page_context(request, context)
    template = templates.get_template(name)
    return PageResponse(
        template, page, viewer=page["user"], status_code=status_code, headers=headers
    )


def render_html(request: Request, name: str, context: dict[str, Any] | None = None) -> str:
    """A page rendered now, as text, for nobody signed in (whose header needs no query)."""
    page = _page_context(request, context)
    if page["user"] is not None:
        raise ValueError("render_html is for pages of anonymous viewers")
    return templates.get_template(name).render(page)


def _page_context(request: Request, context: dict[str, Any] | None) -> dict[str, Any]:
    state = request.state
    actor = getattr(state, "actor", None)
    user = getattr(state, "user", None)
    page: dict[str, Any] = {
        "request": request,
        "user": user,
        "actor": actor,
        "nav_moderates": moderates_any_board(actor),
        "nav_unread": 0,
        "csrf": _csrf_or_empty(request),
        "csp_nonce": getattr(state, "csp_nonce", ""),
        "locale": i18n.locale(),
        "errors": {},
        "form": {},
    }
    page.update(context or {})
    return page


def _csrf_or_empty(request: Request) -> str:
    # An error raised before the identity middleware ran has no session to take a token from.
    try:
        return csrf_token(request)
    except AttributeError:
        return ""
