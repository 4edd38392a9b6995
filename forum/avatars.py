"""Generated avatars: a person's initials on a colour drawn from their id, no image service.

The page templates (``partials/avatar.html``) and ``live.js`` draw the same SVG from what
``avatar_of`` gives, so a post that arrives live wears the avatar it has after a reload.
"""

from __future__ import annotations

import unicodedata
from typing import TypedDict

__all__ = ["Avatar", "avatar_of", "hue_of", "initials_of"]

# The golden angle spreads consecutive ids around the colour wheel.
_GOLDEN_ANGLE = 137


class Avatar(TypedDict):
    initials: str
    hue: int


def hue_of(user_id: int) -> int:
    return (user_id * _GOLDEN_ANGLE) % 360


def initials_of(display_name: str) -> str:
    """One character of a Japanese name (its first), up to two of a Latin one (each word's
    first letter, upper-cased); ``?`` for a name with no letter at all."""
    name = unicodedata.normalize("NFKC", display_name).strip()
    words = [w for w in name.replace("・", " ").split() if w]
    if not words:
        return "?"
    first = words[0][0]
    if first.isascii():
        letters = [w[0] for w in words[:2] if w[0].isascii() and w[0].isalnum()]
        return "".join(letters).upper() or "?"
    return first


def avatar_of(user_id: int, display_name: str) -> Avatar:
    return Avatar(initials=initials_of(display_name), hue=hue_of(user_id))
