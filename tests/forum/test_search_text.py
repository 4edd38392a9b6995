"""Search's text analysis: bigrams and words, folding, query clauses, escaped snippets."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from forum.search_text import Clause, analyse, parse_query, snippet, snippet_html

VECTORS_FILE = Path(__file__).parent / "data" / "xss_vectors.json"


def test_cjk_runs_become_bigrams_and_other_text_words() -> None:
    analysed = analyse("人口減少とDX推進、Uターン")
    assert analysed.grams == ["人口", "口減", "減少", "少と", "dx", "推進", "u", "ター", "ーン"]
    assert analysed.unis == list("人口減少と推進ターン")


def test_a_lone_cjk_character_is_its_own_token() -> None:
    assert analyse("A町 B村").grams == ["a", "町", "b", "村"]


def test_full_width_latin_and_half_width_katakana_fold_to_their_usual_forms() -> None:
    assert analyse("ＤＸ ｶﾀｶﾅ ｶﾞｲﾄﾞ").grams == analyse("dx カタカナ ガイド").grams


def test_words_are_and_ed_and_a_cjk_word_is_a_phrase_of_its_bigrams() -> None:
    assert parse_query("移住 ＤＸ") == [
        Clause(grams=("移住",), needles=("移住",)),
        Clause(grams=("dx",), needles=("dx",)),
    ]
    assert parse_query("人口減少") == [
        Clause(grams=("人口", "口減", "減少"), needles=("人口減少",)),
    ]


def test_a_one_character_query_searches_single_characters() -> None:
    assert parse_query("町") == [Clause(uni="町", needles=("町",))]


def test_a_quoted_phrase_keeps_its_words_in_order() -> None:
    [clause] = parse_query('"関係人口 創出"')
    assert clause.grams == ("関係", "係人", "人口", "創出")
    assert parse_query("「関係人口 創出」") == [clause]


def test_punctuation_alone_is_no_query() -> None:
    assert parse_query(" 、。!? ") == []


def test_a_snippet_marks_hits_whatever_their_width() -> None:
    segments = snippet("自治体のＤＸ推進について", parse_query("dx"))
    assert [s.text for s in segments if s.hit] == ["ＤＸ"]
    assert snippet_html(segments) == "自治体の<mark>ＤＸ</mark>推進について"


def test_a_long_text_is_cut_around_its_first_hit() -> None:
    text = "あ" * 300 + "移住" + "い" * 300
    segments = snippet(text, parse_query("移住"), size=40)
    joined = "".join(s.text for s in segments)
    assert joined.startswith("…") and joined.endswith("…")
    assert "移住" in joined and len(joined) <= 42


def _vectors() -> list[str]:
    groups: dict[str, list[str]] = json.loads(VECTORS_FILE.read_text("utf-8"))["vectors"]
    return [vector for vectors in groups.values() for vector in vectors]


@pytest.mark.parametrize("vector", _vectors())
def test_snippets_escape_everything_they_did_not_mark(vector: str) -> None:
    text = f"移住 {vector} script 人口"
    out = snippet_html(snippet(text, parse_query("移住 script 人口 img"), size=10_000))
    bare = re.sub(r"</?mark>", "", out)
    assert "<" not in bare and ">" not in bare and '"' not in bare
    assert html.unescape(bare) == " ".join(text.split())
