"""Helpers for the HTML forms: read a posted form (CSRF checked first), fields, redirects."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from forum.errors import BadRequest
from forum.i18n import gettext as _
from forum.web.common import check_csrf
from forum.web.parsers import Invalid, Spec

T = TypeVar("T")

__all__ = ["field", "form_value", "login_redirect", "read_form", "redirect", "safe_next"]


async def read_form(request: Request) -> FormData:
    """The posted form, refused with 403 unless it carries this visitor's CSRF token."""
    form = await request.form()
    check_csrf(request, field(form, "csrf_token"))
    # PostgreSQL cannot store NUL: no field of any form may carry one.
    if any(isinstance(value, str) and "\x00" in value for _name, value in form.multi_items()):
        raise BadRequest(_("使えない文字（NUL）が含まれています。"), code="bad_form")
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_value(form: FormData, name: str, spec: Spec, default: T) -> Any:
    """A form field read by one of the typed parsers; empty gives ``default``.

    Forms the pages render never send a malformed value: one that is comes from a crafted
    request, and is refused (400 ``bad_form``) rather than guessed at.
    """
    raw = field(form, name)
    if raw == "":
        return default
    try:
        return spec.from_string(raw)
    except Invalid as exc:
        raise BadRequest(f"{name}: {exc.message}", code="bad_form") from None


def safe_next(value: str | None, default: str = "/") -> str:
    """A same-site path to go on to, never another host (``//evil``, ``/\\evil``, ``https:``)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(ch in value for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/login?next=" + quote(target, safe="/"))
