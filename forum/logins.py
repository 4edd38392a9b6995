"""A per-process cache of who a session cookie or bearer token is, and what they may do.

Every request used to read its login (session or token, with its user) and the user's
board roles from the database: two statements before the handler did anything. Here
both are kept in memory per login, keyed by the login's stored digest, and dropped:

* **at once, in every process**, when anything about the user's access changes. Each such
  change emits ``access.changed`` (logout, token revoked, password changed, suspension,
  site role, board role) or ``user.sanctioned`` (silence, suspension) on the user's channel
  in the transaction that makes it; the hub hands every event to every process
  (``forum.channels.ForumHub.dispatch``), which calls ``forget_user``. In the process that
  made the change that happens before it answers its next request; in the others, as soon
  as the broker delivers the event (the same path that closes the user's open sockets).
* **whole**, when the broker may have lost events (it reconnected, or the publish queue
  overflowed): ``clear``; and not used at all while the broker counts as degraded
  (``trusted``), so a broker outage costs speed, never an ended login served.
* **after ``ttl`` seconds** (5) in any case: a backstop, and the bound on what no event
  announces — a profile edited in another process (display name, language).

A fill that raced an invalidation is not stored: ``generation`` is read before the
database is, and a change meanwhile discards the answer. What expires by the clock (a
session's or token's expiry) is checked on every hit from the remembered expiry. Unknown
credentials are never cached, so a login made in another process works at once.
Bounded: ``max_entries`` logins, least recently used first out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from forum import accounts
from forum.boards import load_actor
from forum.models import ApiToken, LoginSession, User
from forum.permissions import Actor

__all__ = ["Login", "LoginCache"]


@dataclass(slots=True)
class Login:
    """A live login as a request needs it: its actor, and its session for a cookie."""

    actor: Actor
    session: LoginSession | None
    expires_at: datetime
    stored_at: float
    token_id: int | None = None
    last_used_at: datetime | None = None  # a token's, as last written


class LoginCache:
    def __init__(
        self,
        *,
        max_entries: int = 4096,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        trusted: Callable[[], bool] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.clock = clock
        # Whether invalidations can be relied on to arrive (the broker is healthy).
        self.trusted = trusted or (lambda: True)
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, Login] = OrderedDict()
        self._by_user: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    # --- invalidation ----------------------------------------------------------------------

    def forget_user(self, user_id: int) -> None:
        """Every login of the user is read afresh on its next request."""
        self.generation += 1
        for key in self._by_user.pop(user_id, ()):
            self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()

    # --- lookups -----------------------------------------------------------------------------

    async def session(self, raw: str) -> Login | None:
        """The live session behind a cookie, as ``accounts.session_for`` decides."""
        if not raw or len(raw) > 100:
            return None
        key = "s:" + accounts.digest(raw)
        now = datetime.now(UTC)
        found = self._get(key)
        if found is not None:
            if found.expires_at > now and not accounts.is_suspended(_user(found), now):
                return found
            self._drop(key)
            return None
        generation = self.generation
        session = await accounts.session_for(raw)
        if session is None:
            return None
        actor = await load_actor(session.user, login=accounts.login_of_session(session))
        login = Login(actor, session, session.expires_at, self.clock())
        self._put(key, login, generation)
        return login

    async def token(self, raw: str) -> Login | None:
        """The live token behind a bearer secret, as ``accounts.user_for_token`` decides:
        an expired one raises ``token_expired``; ``last_used_at`` is written at most once
        a minute, as there."""
        if not raw.startswith(accounts.KEY_PREFIX) or len(raw) > 100:
            return None
        key = "t:" + accounts.digest(raw)
        now = datetime.now(UTC)
        found = self._get(key)
        if found is not None:
            if found.expires_at <= now:
                self._drop(key)
                raise accounts.token_expired()
            if accounts.is_suspended(_user(found), now):
                self._drop(key)
                return None
            if accounts.token_use_due(found.last_used_at, now) and found.token_id is not None:
                found.last_used_at = now
                await ApiToken.filter(id=found.token_id).update(last_used_at=now)
            return found
        generation = self.generation
        token = await accounts.live_token(raw, now)
        if token is None:
            return None
        actor = await load_actor(token.user, login=accounts.login_of_token(raw))
        login = Login(
            actor,
            None,
            accounts.token_expiry(token),
            self.clock(),
            token_id=token.id,
            last_used_at=token.last_used_at,
        )
        self._put(key, login, generation)
        return login

    # --- the LRU -----------------------------------------------------------------------------

    def _get(self, key: str) -> Login | None:
        if not self.trusted():
            return None
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        if self.clock() - found.stored_at >= self.ttl:
            self._drop(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found

    def _put(self, key: str, login: Login, generation: int) -> None:
        if generation != self.generation or not self.trusted():
            return  # an access change happened while we read: the answer may be stale
        self._drop(key)
        self._entries[key] = login
        self._by_user.setdefault(_user(login).id, set()).add(key)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        login = self._entries.pop(key, None)
        if login is None:
            return
        keys = self._by_user.get(_user(login).id)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_user[_user(login).id]


def _user(login: Login) -> User:
    user = login.actor.user
    assert user is not None  # a cached login always has its user
    return user
