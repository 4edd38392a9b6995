"""How numbers, dates and durations read, in one place for pages, notices and errors.

Japan time for everyone, one date format per language and no seconds: a minute is the
finest step anyone acts on. Pages reach these through the Jinja filters ``datetime`` and
``number``; domain code that words a message (a restriction's end date) calls them directly.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from forum import i18n
from forum.i18n import gettext as _

__all__ = ["JST", "format_date", "format_datetime", "format_duration", "format_number"]

JST = ZoneInfo("Asia/Tokyo")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_datetime(value: datetime | None) -> str:
    """2026年11月26日 14:05, or Nov 26, 2026, 14:05 JST in English."""
    if value is None:
        return ""
    local = value.astimezone(JST)
    if i18n.locale() == "ja":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{_MONTHS[local.month - 1]} {local.day}, {local.year}, {local:%H:%M} JST"


def format_date(value: datetime | None) -> str:
    """The day alone, where the time of day says nothing (a registration date)."""
    if value is None:
        return ""
    local = value.astimezone(JST)
    if i18n.locale() == "ja":
        return f"{local.year}年{local.month}月{local.day}日"
    return f"{_MONTHS[local.month - 1]} {local.day}, {local.year}"


def format_number(value: object) -> str:
    """Thousands separated (20,000); anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def format_duration(minutes: int) -> str:
    """Under a minute, minutes, hours and minutes (no zero part: 3時間, not 3時間0分), or days."""
    if minutes < 1:
        return _("1分未満")
    if minutes < 60:
        return _("{n}分").format(n=minutes)
    hours, rest = divmod(minutes, 60)
    if minutes < 48 * 60:
        if rest == 0:
            return _("{h}時間").format(h=hours)
        return _("{h}時間{m}分").format(h=hours, m=rest)
    return _("{d}日").format(d=format_number(minutes // 1440))
