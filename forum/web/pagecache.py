"""A per-process cache of pages rendered for anonymous viewers (today: the thread page).

What is cached is the *rendering* only: the view still loads the thread and its board and
checks that the visitor may read them on every request, so a board made private, or a thread
deleted or moved, stops its cached page at once (the view answers 404 as it would anyway).

The thread page's key (``ThreadPageKey``) is exact for everything a thread event announces:

* ``thread_id`` and ``seq`` — the head of the ``thread:{id}`` outbox channel. Every change to
  what the page shows of the thread (a post created, edited, deleted, hidden or published
  from the queue, lock/pin/feature/live, a move) emits an event on that channel in the same
  transaction as the change, so a new seq means a new key. Votes are the one exception: they
  reach the channel in the thread's coalesced tally (``forum/tallies.py``) within a second,
  and the page's count follows with it.
* ``locale`` — the page's language (from the cookie or ``Accept-Language``).
* ``path`` and ``query`` — as requested: the page links back to itself (the language switch
  carries ``next``), and ``after`` picks the page of posts. Only ``GET`` with no query or
  only ``after`` is cached; ``quote``, ``reply_to`` and ``posted`` render every time.
* the board's ``slug`` and ``title``, the thread's ``title`` and flags: loaded on every
  request by the permission check anyway, so a board renamed (a ``board:`` event, not a
  thread one) changes the key without a query more.

What no thread event announces — a user's display name, role, affiliation or organisation
shown next to their posts — is bounded by ``ttl`` (30 s): an entry older than that is
rendered again. The ETag is a digest of the rendered body, so a re-rendering that changed
nothing keeps the ETag, and one that changed something does not.

Nothing per request is in a cached body. The page has no CSP nonce (its one script is an
external ``'self'`` module), and the visitor's CSRF token (the language switch form and the
``csrf-token`` meta tag need it) is rendered as ``CSRF_PLACEHOLDER`` — a random string of
this process, never shown to anyone — and swapped for the visitor's own token when the page
is sent (``CachedPage.body_for``). The ETag carries a digest of that token too, so a
visitor whose token changed (cookies cleared, or none sent) is never answered 304 with a
page holding another token.

Bounded: at most ``max_entries`` pages and ``max_bytes`` of bodies, least recently used
first out. Logged-in viewers are never cached: their page has their pending posts, votes,
unread count and session token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["CSRF_PLACEHOLDER", "CachedPage", "PageCache", "ThreadPageKey", "etag_matches"]

CSRF_PLACEHOLDER = "csrf-placeholder-" + secrets.token_hex(16)
_PLACEHOLDER = CSRF_PLACEHOLDER.encode()


class ThreadPageKey(NamedTuple):
    thread_id: int
    seq: int
    locale: str
    path: str
    query: str
    board_slug: str
    board_title: str
    thread_title: str
    flags: tuple[bool, ...]  # pinned, locked, featured, live


def _digest(data: bytes, size: int) -> str:
    return hashlib.blake2b(data, digest_size=size).hexdigest()


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes  # with CSRF_PLACEHOLDER where the visitor's token goes
    digest: str
    stored_at: float

    def body_for(self, csrf: str) -> bytes:
        return self.body.replace(_PLACEHOLDER, csrf.encode())

    def etag_for(self, csrf: str) -> str:
        return f'"{self.digest}-{_digest(csrf.encode(), 6)}"'


class PageCache:
    """LRU of rendered pages with a time-to-live; one per app, shared by its requests."""

    def __init__(
        self,
        *,
        max_entries: int = 256,
        max_bytes: int = 16 * 1024 * 1024,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.clock = clock
        self.size = 0
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable) -> CachedPage | None:
        page = self._pages.get(key)
        if page is None:
            return None
        if self.clock() - page.stored_at >= self.ttl:
            self._drop(key)
            return None
        self._pages.move_to_end(key)
        return page

    def put(self, key: Hashable, body: bytes) -> CachedPage:
        page = CachedPage(body, _digest(body, 12), self.clock())
        if key in self._pages:
            self._drop(key)
        if len(body) <= self.max_bytes:
            self._pages[key] = page
            self.size += len(body)
            while len(self._pages) > self.max_entries or self.size > self.max_bytes:
                self._drop(next(iter(self._pages)))
        return page

    def clear(self) -> None:
        self._pages.clear()
        self.size = 0

    def _drop(self, key: Hashable) -> None:
        self.size -= len(self._pages.pop(key).body)


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names this ETag (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
