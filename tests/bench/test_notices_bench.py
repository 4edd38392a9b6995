"""The notices benchmark at a few writes: every heavy post stores one notice per mentioned
person and per follower, and the line it prints carries the ratio."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.notices import FOLLOWERS, MENTIONED, _line, run


def test_a_short_run_stores_every_notice_of_every_heavy_post(tmp_path: Path) -> None:
    result = asyncio.run(run(f"sqlite://{tmp_path / 'notices.sqlite3'}", 3))
    assert result["notices"] == [MENTIONED + FOLLOWERS]
    assert result["plain_p50"] > 0 and result["heavy_p50"] > 0
    assert "| SQLite | 3 |" in _line("SQLite", result)
