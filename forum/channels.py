"""Who may read which realtime channel, and the history behind each.

Channels: ``thread:{id}`` and ``board:{slug}`` carry published content;
``moderation:{slug}`` a board's queue, for its moderators; ``user:{id}`` one user's own
notices and pending posts; ``session:{id}`` a live session's state, for whoever reads its
board (the board is looked up through ``session_board``, given by ``forum.app``). Frames are encoded once per event with their channel name,
so a user's channel is named by its id rather than aliased per connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from forum import events, outbox
from forum.boards import refresh_actor
from forum.events import ChannelKind, Name
from forum.logins import LoginCache
from forum.models import Board, Thread
from forum.permissions import Actor, can_moderate, can_read_board
from forum.threadreads import ThreadReads
from realtime.broker import Broker
from realtime.hub import Hub
from realtime.protocol import Event
from realtime.types import Replay, Resync

__all__ = ["MAX_REPLAY", "ChannelAccess", "ForumHub", "replay"]

log = logging.getLogger("koryu.channels")

# Events after which a user's logins are read afresh: what they may do changed.
_USER_ACCESS_EVENTS = frozenset({Name.ACCESS_CHANGED, Name.USER_SANCTIONED})
ACCESS_PUBLISH_WAIT = 1.0

# A client further behind than this refetches over HTTP instead of replaying.
MAX_REPLAY = 1000


@dataclass(frozen=True, slots=True)
class _Scope:
    board_id: int
    moderation: bool = False


@dataclass
class ChannelAccess:
    """Per-process knowledge of each subscribed channel's board, kept current by events.

    ``authorise`` asks the database once per subscribe; ``visible`` runs for every event
    and every viewer, so it only reads this memory.
    """

    scopes: dict[str, _Scope] = field(default_factory=dict)
    private_boards: set[int] = field(default_factory=set)
    board_ids: dict[str, int] = field(default_factory=dict)
    # The board a live session belongs to; without it no session channel can be followed.
    session_board: Callable[[int], Awaitable[Board | None]] | None = None

    def _remember(self, channel: str, board: Board, *, moderation: bool = False) -> None:
        self.scopes[channel] = _Scope(board.id, moderation)
        self.board_ids[board.slug] = board.id
        if board.private:
            self.private_boards.add(board.id)
        else:
            self.private_boards.discard(board.id)

    async def authorise(self, actor: Actor, channel: str) -> bool:
        parsed = events.parse_channel(channel)
        if parsed is None:
            return False
        if parsed.kind is ChannelKind.USER:
            return actor.id == parsed.id
        if parsed.kind in {ChannelKind.BOARD, ChannelKind.MODERATION}:
            board = await Board.get_or_none(slug=parsed.key)
            if board is None:
                return False
            moderation = parsed.kind is ChannelKind.MODERATION
            allowed = can_moderate(actor, board.id) if moderation else can_read_board(actor, board)
            if allowed:
                self._remember(channel, board, moderation=moderation)
            return allowed
        if parsed.kind is ChannelKind.THREAD:
            thread = await Thread.get_or_none(id=parsed.id, deleted=False).select_related("board")
            if thread is None or not can_read_board(actor, thread.board):
                return False
            started = thread.post_count > 0 or thread.author_id == actor.id  # type: ignore[attr-defined]
            if not (started or can_moderate(actor, thread.board.id)):
                return False
            self._remember(channel, thread.board)
            return True
        if parsed.kind is ChannelKind.SESSION:
            board = await self.session_board(parsed.id) if self.session_board else None
            if board is None or not can_read_board(actor, board):
                return False
            self._remember(channel, board)
            return True
        return False  # pragma: no cover - every kind is handled above

    def visible(self, actor: Actor, event: Event) -> bool:
        scope = self.scopes.get(event.channel)
        if scope is None:
            return _is_user_channel(event.channel)
        if scope.moderation:
            return can_moderate(actor, scope.board_id)
        if scope.board_id in self.private_boards:
            return actor.is_site_moderator or scope.board_id in actor.board_roles
        return True

    def public(self, event: Event) -> bool:
        """Whether everybody allowed on the event's channel may see it: ``visible`` is then
        skipped for each viewer. False wherever ``visible`` looks at the viewer."""
        scope = self.scopes.get(event.channel)
        if scope is None:
            return _is_user_channel(event.channel)  # only its owner may subscribe
        return not scope.moderation and scope.board_id not in self.private_boards

    def observe(self, event: Event) -> list[str]:
        """Learn from an event before it is sent; return channels whose viewers need rechecking."""
        channel = events.parse_channel(event.channel)
        if channel is None:
            return []
        if event.name == Name.BOARD_UPDATED and channel.kind is ChannelKind.BOARD:
            board = events.board_update(event.data)
            board_id = self.board_ids.get(board["slug"])
            if board_id is None:
                return []
            if board["private"]:
                self.private_boards.add(board_id)
            else:
                self.private_boards.discard(board_id)
            return [c for c, s in self.scopes.items() if s.board_id == board_id]
        return []

    def recheck(self, event: Event) -> bool:
        """Whether the event moves its own channel to other readers: a thread moved to
        another board. The hub calls this in seq order, after the event went out, and
        authorises the channel's viewers again (learning the new board from the database)
        before anything later on the channel reaches them: a post racing the move waits."""
        if event.name != Name.THREAD_MOVED:
            return False
        channel = events.parse_channel(event.channel)
        return channel is not None and channel.kind is ChannelKind.THREAD

    def forget(self, channel: str) -> None:
        self.scopes.pop(channel, None)


def _is_user_channel(channel: str) -> bool:
    parsed = events.parse_channel(channel)
    return parsed is not None and parsed.kind is ChannelKind.USER


async def replay(channel: str, after: int | None, until: int | None) -> Replay | Resync:
    head = await outbox.head(channel)
    if after is None:
        return Replay(events=[], head=head)
    if after > head:
        return Resync(head)
    if after == head:
        return Replay(events=[], head=head)
    last = head if until is None else min(until, head)
    if last - after > MAX_REPLAY:
        return Resync(head)
    events = await outbox.read_events(channel, after, last)
    if not events or events[0].seq != after + 1:
        # The rows before the client's position are pruned: it must refetch.
        return Resync(head)
    return Replay(events=events, head=head)


class ForumHub(Hub):
    """The realtime hub, taught to notice access changes in the events it carries."""

    def __init__(
        self,
        broker: Broker,
        access: ChannelAccess,
        *,
        logins: LoginCache | None = None,
        reads: ThreadReads | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            broker,
            replay=replay,
            visible=access.visible,
            public=access.public,
            recheck=access.recheck,
            authorise=access.authorise,
            **options,
        )
        self.access = access
        self._rechecks: set[asyncio.Task[int]] = set()
        # Logins this process remembers: trusted only while invalidations can arrive.
        self.logins = logins
        if logins is not None:
            logins.trusted = lambda: self._publisher.healthy
        # Thread heads and rows this process remembers for pages, kept by the events.
        self.reads = reads
        if reads is not None:
            reads.trusted = lambda: self._publisher.healthy

    def _learn(self, event: Event) -> None:
        """Bring what this process remembers for requests up to date with ``event``."""
        if self.reads is not None:
            self.reads.observe(event)
        if event.name in _USER_ACCESS_EVENTS and self.logins is not None:
            user = events.parse_channel(event.channel)
            if user is not None and user.kind is ChannelKind.USER:
                self.logins.forget_user(user.id)

    def dispatch(self, event: Event) -> None:
        # Every process, this one included, learns here; this one learnt at publish too.
        self._learn(event)
        if event.name == Name.ACCESS_CHANGED:
            self._access_changed(event)
        stale = self.access.observe(event)
        super().dispatch(event)
        for channel in stale:
            task = asyncio.get_running_loop().create_task(
                self.revalidate(channel, self.access.authorise)
            )
            self._rechecks.add(task)
            task.add_done_callback(self._rechecks.discard)

    async def publish(self, event: Event) -> None:
        # Committed: this process's next request must see it, before its own delivery
        # (on the next turn of the loop) and whatever the broker does.
        self._learn(event)
        await super().publish(event)
        if event.name in _USER_ACCESS_EVENTS:
            # The change that made this event answers only once the broker has it, so a
            # request its client sends next to another process finds that process told
            # (its cached logins of the user dropped). Bounded: a frozen broker costs the
            # rare access change a second, never a post.
            await self._publisher.sent(ACCESS_PUBLISH_WAIT)

    def recheck(self) -> None:
        """The broker may have lost events: access changes among them."""
        self._forget_all()
        super().recheck()

    def _ask_recheck(self, dropped: int) -> None:
        self._forget_all()
        super()._ask_recheck(dropped)

    def _forget_all(self) -> None:
        if self.logins is not None:
            self.logins.clear()
        if self.reads is not None:
            self.reads.clear()

    def _access_changed(self, event: Event) -> None:
        channel = events.parse_channel(event.channel)
        if channel is None or channel.kind is not ChannelKind.USER:
            return
        user_id = channel.id

        def affected(actor: Actor) -> bool:
            return actor.id == user_id

        # Held from this moment; read afresh, then dropped or closed (4401) as the
        # database now says.
        self.reauthenticate(affected, refresh_actor, self.access.authorise)
