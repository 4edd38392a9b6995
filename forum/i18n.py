"""Japanese first: message ids are the Japanese text; the English catalog translates them.

Catalogs are the ``.po`` files under ``forum/locale``; they are compiled in memory at
import, so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = ["LOCALES", "gettext", "locale", "negotiate", "ngettext", "set_locale"]

LOCALES = ("ja", "en")
_LOCALE_DIR = Path(__file__).parent / "locale"
_current: ContextVar[str] = ContextVar("koryu_locale", default="ja")


def _load(code: str) -> _gettext.NullTranslations:
    path = _LOCALE_DIR / code / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


_catalogs = {code: _load(code) for code in LOCALES}


def set_locale(code: str) -> None:
    _current.set(code if code in _catalogs else "ja")


def locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return _catalogs[_current.get()].gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogs[_current.get()].ngettext(singular, plural, n)


def negotiate(accept_language: str | None, preferred: str = "") -> str:
    """The user's own setting wins; then the first supported language the browser asks for."""
    if preferred in LOCALES:
        return preferred
    if not accept_language:
        return "ja"
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _quality, _index, code in sorted(weighted):
        if code in LOCALES:
            return code
    return "ja"
