"""Dates, numbers and durations read the same everywhere: Japan time, separators, no zero part."""

from __future__ import annotations

from datetime import UTC, datetime

from forum import i18n
from forum.formatting import format_date, format_datetime, format_duration, format_number

MOMENT = datetime(2026, 11, 29, 20, 50, 12, 285021, tzinfo=UTC)


def test_a_moment_is_shown_in_japan_time_to_the_minute_in_either_language() -> None:
    i18n.set_locale("ja")
    assert format_datetime(MOMENT) == "2026年11月30日 05:50"
    assert format_date(MOMENT) == "2026年11月30日"
    i18n.set_locale("en")
    try:
        assert format_datetime(MOMENT) == "Nov 30, 2026, 05:50 JST"
        assert format_date(MOMENT) == "Nov 30, 2026"
    finally:
        i18n.set_locale("ja")


def test_numbers_have_thousands_separators_and_other_values_pass_through() -> None:
    assert format_number(20000) == "20,000"
    assert format_number(43800) == "43,800"
    assert format_number(7) == "7"
    assert format_number(2.5) == "2.5"
    assert format_number(True) == "True"
    assert format_number("x") == "x"


def test_a_duration_never_shows_a_zero_part() -> None:
    i18n.set_locale("ja")
    assert format_duration(0) == "1分未満"
    assert format_duration(45) == "45分"
    assert format_duration(180) == "3時間"
    assert format_duration(185) == "3時間5分"
    assert format_duration(3 * 1440) == "3日"
