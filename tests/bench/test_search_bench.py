"""The search benchmark at tiny N: its corpus is deterministic, and its run reports every
query with hits, on the same index query the search sends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.search import QUERIES, _table, run
from bench.search_corpus import generate


def test_the_corpus_is_the_same_every_time_and_japanese() -> None:
    first, again = list(generate(50)), list(generate(50))
    assert first == again
    assert all(any("\u3040" <= ch <= "\u30ff" for ch in body) for body in first)


def test_a_tiny_run_times_every_query_and_finds_hits_for_each(tmp_path: Path) -> None:
    result = asyncio.run(run(f"sqlite://{tmp_path / 'search.sqlite3'}", 300, 3, 3))
    assert [q["label"] for q in result["queries"]] == [label for label, _ in QUERIES]
    assert all(q["hits"] > 0 and q["api_p99"] > 0 for q in result["queries"])
    assert result["reindex_rows"] >= 300
    text = _table("SQLite", result)
    assert "rows/s" in text and "one post write" in text
