"""Text analysis of search: the tokens a text is indexed under, a query's clauses, snippets.

As Lucene's CJK analyzer: text is NFKC-folded and casefolded (ＤＸ = DX = dx, ｶﾀｶﾅ = カタカナ),
runs of Han, kana and Hangul become overlapping character bigrams (a one-character run stays
itself), and everything else becomes words. Bigrams let 2-character queries (人口, 移住) match
where a trigram index finds nothing; a second stream of single characters (``unis``) lets a
1-character query (町) match inside longer runs. Both indexes (SQLite FTS5 and PostgreSQL
tsvector) only ever see these pre-made tokens, so both find the same posts.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "Analysed",
    "Clause",
    "Segment",
    "analyse",
    "fold",
    "parse_query",
    "snippet",
    "snippet_html",
]

MAX_WORD = 64  # a longer "word" is noise (a hash, a URL's tail); its head still matches
SNIPPET_CHARS = 120


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana (with ー)
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0x31F0 <= code <= 0x31FF  # katakana phonetic extensions
        or code in (0x3005, 0x3006, 0x3007)  # 々 〆 〇
        or 0x20000 <= code <= 0x3134F  # extensions B to G
    )


def _is_word(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _runs(folded: str) -> list[tuple[bool, str]]:
    """Maximal runs of CJK characters (True) and of other word characters (False)."""
    runs: list[tuple[bool, str]] = []
    kind: bool | None = None
    start = 0
    for i, ch in enumerate(folded):
        this = True if _is_cjk(ch) else False if _is_word(ch) else None
        if this != kind:
            if kind is not None:
                runs.append((kind, folded[start:i]))
            kind, start = this, i
    if kind is not None:
        runs.append((kind, folded[start:]))
    return runs


def _grams(cjk: bool, run: str) -> list[str]:
    if not cjk:
        return [run[:MAX_WORD]]
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True, slots=True)
class Analysed:
    """A text's tokens: ``grams`` (bigrams and words, in order) and ``unis`` (CJK characters)."""

    grams: list[str]
    unis: list[str]


def analyse(text: str) -> Analysed:
    grams: list[str] = []
    unis: list[str] = []
    for cjk, run in _runs(fold(text)):
        grams.extend(_grams(cjk, run))
        if cjk:
            unis.extend(run)
    return Analysed(grams, unis)


@dataclass(frozen=True, slots=True)
class Clause:
    """One condition every hit meets: a phrase of ``grams`` in order, or one CJK character
    (``uni``) anywhere. ``needles`` are the folded strings a snippet marks."""

    grams: tuple[str, ...] = ()
    uni: str | None = None
    needles: tuple[str, ...] = ()


_QUOTED = re.compile(r'"([^"]*)"')
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"'})


def _clauses_of(text: str, *, phrase: bool) -> list[Clause]:
    runs = _runs(fold(text))
    if phrase and len(runs) > 1 and all(len(run) > 1 or not cjk for cjk, run in runs):
        grams = tuple(g for cjk, run in runs for g in _grams(cjk, run))
        return [Clause(grams=grams, needles=tuple(run for _, run in runs))]
    clauses: list[Clause] = []
    for cjk, run in runs:
        if cjk and len(run) == 1:
            clauses.append(Clause(uni=run, needles=(run,)))
        else:
            clauses.append(Clause(grams=tuple(_grams(cjk, run)), needles=(run,)))
    return clauses


def parse_query(query: str) -> list[Clause]:
    """AND of every word and every "quoted phrase"; a CJK run is a phrase of its bigrams.

    A phrase that holds a lone CJK character cannot be a phrase of bigrams; its parts
    become separate conditions instead.
    """
    query = fold(query).translate(_QUOTES)
    clauses: list[Clause] = []
    for quoted in _QUOTED.findall(query):
        clauses.extend(_clauses_of(quoted, phrase=True))
    rest = _QUOTED.sub(" ", query).replace('"', " ")
    for word in rest.split():
        clauses.extend(_clauses_of(word, phrase=False))
    unique: list[Clause] = []
    for clause in clauses:
        if clause not in unique:
            unique.append(clause)
    return unique


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    hit: bool


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return fold(ch)


def _folded_with_map(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of its source character."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        where.extend([i] * len(folded))
    return "".join(out), where


def snippet(text: str, clauses: list[Clause], *, size: int = SNIPPET_CHARS) -> list[Segment]:
    """About ``size`` characters of ``text`` around its first hit, hits marked."""
    text = " ".join(text.split())
    folded, where = _folded_with_map(text)
    spans: list[tuple[int, int]] = []
    for needle in {n for clause in clauses for n in clause.needles if n}:
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            spans.append((where[start], where[end - 1] + 1))
            start = folded.find(needle, end)
    spans.sort()
    first = spans[0][0] if spans else 0
    lo = max(0, min(first - size // 3, len(text) - size))
    hi = min(len(text), lo + size)
    segments: list[Segment] = []
    at = lo
    for start, end in spans:
        start, end = max(start, at), min(end, hi)
        if start >= end:
            continue
        if start > at:
            segments.append(Segment(text[at:start], False))
        segments.append(Segment(text[start:end], True))
        at = end
    if at < hi:
        segments.append(Segment(text[at:hi], False))
    if lo > 0:
        segments.insert(0, Segment("…", False))
    if hi < len(text):
        segments.append(Segment("…", False))
    return segments


def snippet_html(segments: list[Segment]) -> str:
    """Every character escaped; the only markup is the ``<mark>`` added here."""
    return "".join(
        f"<mark>{html.escape(s.text)}</mark>" if s.hit else html.escape(s.text) for s in segments
    )
