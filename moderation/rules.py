"""Auto-hold rules as pure functions: watched words, links from new accounts, repeats, bursts.

Text is compared in NFKC case-folded form with invisible format characters removed, so
"ＳＰＡＭ", "Spam" and "spam" with a zero-width space inside all match "spam", and
half-width "ｶﾀｶﾅ" matches "カタカナ".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from moderation.models import WordAction
from moderation.policies import RuleSettings

__all__ = [
    "Screening",
    "Word",
    "decode_reason",
    "encode_reason",
    "has_link",
    "normalize",
    "screen",
    "watched_hits",
]

# A scheme, "www.", or a bare host under a common top-level domain (linkify turns those
# into links too).
LINK_RE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://|www\.)\S"
    r"|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|info|biz|io|co|jp|me|xyz|top|ru|cn|site|online|shop|link|click|app|dev)\b"
)


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = unicodedata.normalize("NFKC", folded)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    action: WordAction

    @property
    def normalized(self) -> str:
        return normalize(self.word)


@dataclass(frozen=True, slots=True)
class Screening:
    """What the rules found: reasons to hold the post, and words that refuse it outright."""

    reasons: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()


def encode_reason(code: str, detail: str = "") -> str:
    return f"{code}:{detail}" if detail else code


def decode_reason(text: str) -> dict[str, str]:
    code, _, detail = text.partition(":")
    return {"code": code, "detail": detail}


def watched_hits(body: str, words: Iterable[Word]) -> list[Word]:
    text = normalize(body)
    return [w for w in words if w.normalized and w.normalized in text]


def has_link(body: str) -> bool:
    return LINK_RE.search(normalize(body)) is not None


def screen(
    body: str,
    *,
    account_age: timedelta,
    words: Sequence[Word],
    duplicate: bool,
    recent_posts: int,
    settings: RuleSettings,
) -> Screening:
    """``recent_posts`` counts the author's posts in the burst window, this one not included."""
    hits = watched_hits(body, words)
    blocked = tuple(w.word for w in hits if w.action is WordAction.BLOCK)
    reasons = [encode_reason("watched_word", w.word) for w in hits if w.action is WordAction.HOLD]
    if (
        settings.link_account_days > 0
        and account_age < timedelta(days=settings.link_account_days)
        and has_link(body)
    ):
        reasons.append("new_account_link")
    if settings.duplicate_minutes > 0 and duplicate:
        reasons.append("duplicate")
    if settings.burst_posts > 0 and recent_posts + 1 > settings.burst_posts:
        reasons.append("burst")
    return Screening(reasons=tuple(reasons), blocked=blocked)
