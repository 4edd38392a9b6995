"""Helpers for the HTML forms: read a posted form (CSRF checked first), fields, redirects."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from forum.web.common import check_csrf

__all__ = ["field", "login_redirect", "read_form", "redirect", "safe_next"]


async def read_form(request: Request) -> FormData:
    """The posted form, refused with 403 unless it carries this visitor's CSRF token."""
    form = await request.form()
    check_csrf(request, field(form, "csrf_token"))
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


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
