"""Every realtime event: its name, the channel it goes to and the shape of its payload.

Nothing else spells an event name or builds a channel string. Domain actions call one
constructor per event and hand the result to ``outbox.Tx.emit``; ``forum.channels`` parses
channel strings back with ``parse_channel``; the JavaScript clients declare which names
they handle, and a test holds them to ``CHANNEL_EVENTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Required, TypedDict

from forum.models import Board, Post, Thread, User
from forum.resources import board_resource, iso, post_resource, public_post, thread_resource

__all__ = [
    "CHANNEL_EVENTS",
    "AccessChanged",
    "AccessReason",
    "BoardUpdated",
    "Channel",
    "ChannelKind",
    "ItemClaimed",
    "ItemDecided",
    "ItemMoved",
    "Name",
    "NotificationRead",
    "Outgoing",
    "PostRemoved",
    "QuestionChanged",
    "SessionChanged",
    "ThreadChanged",
    "ThreadMoved",
    "UserSanctioned",
    "VoteChanged",
    "VoteTally",
    "VotesTallied",
    "Withdrawal",
    "access_changed",
    "board_channel",
    "board_update",
    "board_updated",
    "item_claimed",
    "item_created",
    "item_decided",
    "item_moved",
    "item_updated",
    "moderation_channel",
    "notification_created",
    "notification_read",
    "parse_channel",
    "post_created",
    "post_pending",
    "post_removed",
    "post_updated",
    "question_updated",
    "session_channel",
    "session_updated",
    "thread_channel",
    "thread_created",
    "thread_move",
    "thread_moved",
    "thread_updated",
    "user_channel",
    "user_sanctioned",
    "vote_changed",
    "votes_tallied",
]


# --- channels -------------------------------------------------------------------------------


class ChannelKind(StrEnum):
    THREAD = "thread"  # published content of one thread
    BOARD = "board"  # threads of one board
    MODERATION = "moderation"  # queue items of one board, for its moderators
    USER = "user"  # one user's own notices and pending posts
    SESSION = "session"  # the state of one live session of the programme


# Ids are database integers, 32-bit on PostgreSQL: a larger key cannot name a row and is
# refused before it reaches a query that would fail on it.
_MAX_ID = 2**31 - 1
_MAX_SLUG = 40


@dataclass(frozen=True, slots=True)
class Channel:
    kind: ChannelKind
    key: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.key}"

    @property
    def id(self) -> int:
        """The thread's or user's id; only for the kinds keyed by an id."""
        if self.kind not in _ID_KINDS:
            raise ValueError(f"{self.kind.value} channels are keyed by a slug")
        return int(self.key)


_ID_KINDS = frozenset({ChannelKind.THREAD, ChannelKind.USER, ChannelKind.SESSION})


def thread_channel(thread_id: int) -> str:
    return f"{ChannelKind.THREAD.value}:{thread_id}"


def board_channel(slug: str) -> str:
    return f"{ChannelKind.BOARD.value}:{slug}"


def moderation_channel(slug: str) -> str:
    """Moderators of one board follow it; nobody else may subscribe."""
    return f"{ChannelKind.MODERATION.value}:{slug}"


def user_channel(user_id: int) -> str:
    return f"{ChannelKind.USER.value}:{user_id}"


def session_channel(session_id: int) -> str:
    """A live session's state changes; readable by whoever may read its board."""
    return f"{ChannelKind.SESSION.value}:{session_id}"


def parse_channel(name: str) -> Channel | None:
    """The kind and key of a channel string, or None for anything no event is sent to."""
    prefix, sep, key = name.partition(":")
    if not sep or not key:
        return None
    try:
        kind = ChannelKind(prefix)
    except ValueError:
        return None
    if kind in _ID_KINDS:
        if not (key.isascii() and key.isdigit()) or len(key) > 10 or int(key) > _MAX_ID:
            return None
    elif len(key) > _MAX_SLUG:
        return None
    return Channel(kind, key)


# --- names ----------------------------------------------------------------------------------


class Name(StrEnum):
    POST_CREATED = "post.created"
    POST_UPDATED = "post.updated"
    POST_DELETED = "post.deleted"
    POST_PENDING = "post.pending"
    VOTE_CHANGED = "vote.changed"
    VOTES_TALLIED = "votes.tallied"
    QUESTION_UPDATED = "question.updated"
    THREAD_CREATED = "thread.created"
    THREAD_UPDATED = "thread.updated"
    THREAD_MOVED = "thread.moved"
    BOARD_UPDATED = "board.updated"
    ITEM_CREATED = "item.created"
    ITEM_UPDATED = "item.updated"
    ITEM_CLAIMED = "item.claimed"
    ITEM_DECIDED = "item.decided"
    ITEM_MOVED = "item.moved"
    NOTIFICATION_CREATED = "notification.created"
    NOTIFICATION_READ = "notification.read"
    USER_SANCTIONED = "user.sanctioned"
    ACCESS_CHANGED = "access.changed"
    SESSION_UPDATED = "session.updated"


# What a subscriber of each kind of channel can receive: every client handles or
# explicitly ignores each of these (tests/forum/test_events.py reads the JS files).
CHANNEL_EVENTS: Mapping[ChannelKind, frozenset[Name]] = {
    ChannelKind.THREAD: frozenset(
        {
            Name.POST_CREATED,
            Name.POST_UPDATED,
            Name.POST_DELETED,
            Name.VOTE_CHANGED,
            Name.VOTES_TALLIED,
            Name.QUESTION_UPDATED,
            Name.THREAD_UPDATED,
            Name.THREAD_MOVED,
        }
    ),
    ChannelKind.BOARD: frozenset(
        {Name.THREAD_CREATED, Name.THREAD_UPDATED, Name.THREAD_MOVED, Name.BOARD_UPDATED}
    ),
    ChannelKind.MODERATION: frozenset(
        {
            Name.ITEM_CREATED,
            Name.ITEM_UPDATED,
            Name.ITEM_CLAIMED,
            Name.ITEM_DECIDED,
            Name.ITEM_MOVED,
        }
    ),
    ChannelKind.USER: frozenset(
        {
            Name.POST_PENDING,
            Name.NOTIFICATION_CREATED,
            Name.NOTIFICATION_READ,
            Name.USER_SANCTIONED,
            Name.ACCESS_CHANGED,
        }
    ),
    ChannelKind.SESSION: frozenset({Name.SESSION_UPDATED}),
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """An event before the outbox numbers it: built only by the constructors below."""

    channel: str
    name: Name
    data: Mapping[str, Any]


# --- payloads -------------------------------------------------------------------------------

# The resources (post, thread, board, queue item, notification) are the API's own shapes,
# built in forum.resources, moderation.queue and forum.notifications; the small payloads are
# typed here.


class Withdrawal(StrEnum):
    """Why a post left public view; every such event carries one of these."""

    DELETED = "deleted"  # by its author or a moderator
    HIDDEN = "hidden"  # by enough flags, until a moderator decides
    REJECTED = "rejected"  # by a moderator's decision
    REVISION = "revision"  # sent back to its author for a revision
    MERGED = "merged"  # a duplicate question merged into another (question.updated follows)


class PostRemoved(TypedDict):
    id: int
    reason: str


class VoteChanged(TypedDict):
    id: int
    votes: int


class VoteTally(TypedDict):
    id: int
    votes: int


class VotesTallied(TypedDict):
    """Absolute vote counts of the questions whose count changed since the last tally.

    Sent at most once a second per thread while votes arrive, instead of one
    ``vote.changed`` per vote: a viewer resuming from any seq converges on the counts.
    """

    tallies: list[VoteTally]


class QuestionChanged(TypedDict):
    """A live question's answer state, assignee and merges: enough to re-place it."""

    id: int
    answer_state: str  # open | assigned | answering | answered_live | answered_written | deferred
    # The expert it is assigned to, as a user resource's {username, display_name}, or None.
    assigned_to: dict[str, Any] | None
    similar_count: int  # questions merged into it (同様の質問 N件)
    votes: int


class ThreadChanged(TypedDict, total=False):
    id: Required[int]
    title: str
    pinned: bool
    locked: bool
    featured: bool
    live: bool
    moderation: str | None


# "from" is a keyword: the functional form spells it. "to" and "thread" are None in the
# event its old viewers get when it moved to a board some of them may not read.
ThreadMoved = TypedDict(
    "ThreadMoved", {"id": int, "from": str, "to": str | None, "thread": dict[str, Any] | None}
)


class BoardUpdated(TypedDict):
    slug: str
    title: str
    description: str
    moderation: str
    private: bool
    thread_count: int


class ItemClaimed(TypedDict):
    id: int
    version: int
    claimed_by: str
    claimed_at: str | None


class ItemDecided(TypedDict):
    id: int
    version: int
    decision: str | None
    decided_by: str
    post_id: int
    post_status: str


class ItemMoved(TypedDict):
    id: int
    board: str


class SessionChanged(TypedDict):
    """A live session as its channel's viewers follow it: enough to redraw its state."""

    id: int
    title: str
    state: str
    starts_at: str | None
    ends_at: str | None
    thread_id: int
    premoderate: bool
    slow_mode_seconds: int


class NotificationRead(TypedDict):
    """Notices were marked read (in another tab, perhaps): how many are left unread."""

    unread: int


class UserSanctioned(TypedDict):
    kind: str
    until: str | None


class AccessReason(StrEnum):
    """What changed a user's access; every ``access.changed`` event carries one."""

    ROLE = "role"  # site role changed (their login sessions end with it)
    BOARD_ROLE = "board_role"  # made or unmade expert, moderator or member of a board
    SUSPENDED = "suspended"
    LOGGED_OUT = "logged_out"  # one login session ended
    # password changed: every other session and token ended
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a reason, not a secret
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - a reason, not a secret


class AccessChanged(TypedDict):
    reason: str


# --- constructors: thread channels ----------------------------------------------------------


def post_created(post: Post) -> Outgoing:
    """A post came into public view (new, approved, or back after hiding)."""
    return Outgoing(thread_channel(_thread_id(post)), Name.POST_CREATED, public_post(post))


def post_updated(post: Post) -> Outgoing:
    return Outgoing(thread_channel(_thread_id(post)), Name.POST_UPDATED, public_post(post))


def post_removed(post: Post, reason: Withdrawal) -> Outgoing:
    """A post left public view; one shape whatever the reason."""
    payload = PostRemoved(id=post.id, reason=reason.value)
    return Outgoing(thread_channel(_thread_id(post)), Name.POST_DELETED, payload)


def vote_changed(post: Post, votes: int) -> Outgoing:
    payload = VoteChanged(id=post.id, votes=votes)
    return Outgoing(thread_channel(_thread_id(post)), Name.VOTE_CHANGED, payload)


def votes_tallied(thread_id: int, tallies: list[VoteTally]) -> Outgoing:
    """A coalesced tally of a live thread's questions (see ``VotesTallied``)."""
    payload = VotesTallied(tallies=tallies)
    return Outgoing(thread_channel(thread_id), Name.VOTES_TALLIED, payload)


def question_updated(post: Post, assignee: User | None) -> Outgoing:
    """A question's answer state, assignee or similar-count changed. Never names its asker."""
    payload = QuestionChanged(
        id=post.id,
        answer_state=(post.answer_state.value if post.answer_state else "open"),
        assigned_to=(
            {"username": assignee.username, "display_name": assignee.display_name}
            if assignee is not None
            else None
        ),
        similar_count=post.similar_count,
        votes=post.votes,
    )
    return Outgoing(thread_channel(_thread_id(post)), Name.QUESTION_UPDATED, payload)


def thread_updated(thread: Thread, board_slug: str, changes: Mapping[str, Any]) -> list[Outgoing]:
    """To the thread's viewers and to its board's."""
    payload: ThreadChanged = {"id": thread.id}
    payload.update(changes)  # type: ignore[typeddict-item]
    own = Outgoing(thread_channel(thread.id), Name.THREAD_UPDATED, payload)
    if thread.post_count == 0:
        # Its first post is held: only its author and the moderators (on the thread's own
        # channel) may know the thread exists; the board's viewers hear of it on publish.
        return [own]
    return [own, Outgoing(board_channel(board_slug), Name.THREAD_UPDATED, payload)]


def thread_moved(thread: Thread, source: Board, target: Board, *, seq: int) -> list[Outgoing]:
    """To both boards and the thread; ``thread`` lets the target board's viewers list it.

    Into a private board, the source board's and the thread's viewers (who need not read
    the target) only learn that the thread left: the target is named to its own viewers.
    """
    payload: ThreadMoved = {
        "id": thread.id,
        "from": source.slug,
        "to": target.slug,
        "thread": thread_resource(thread, board_slug=target.slug, seq=seq),
    }
    left: ThreadMoved = {"id": thread.id, "from": source.slug, "to": None, "thread": None}
    outside = left if target.private else payload
    return [
        Outgoing(board_channel(source.slug), Name.THREAD_MOVED, outside),
        Outgoing(board_channel(target.slug), Name.THREAD_MOVED, payload),
        Outgoing(thread_channel(thread.id), Name.THREAD_MOVED, outside),
    ]


# --- board channels -------------------------------------------------------------------------


def thread_created(thread: Thread, board_slug: str, *, seq: int) -> Outgoing:
    """A thread became visible to everyone: its first post was published.

    ``seq`` is the thread channel's head after this transaction, from ``Tx.flush``.
    """
    resource = thread_resource(thread, board_slug=board_slug, seq=seq)
    return Outgoing(board_channel(board_slug), Name.THREAD_CREATED, resource)


def board_updated(board: Board) -> Outgoing:
    payload = BoardUpdated(**board_resource(board))  # type: ignore[typeddict-item]
    return Outgoing(board_channel(board.slug), Name.BOARD_UPDATED, payload)


def board_update(event_data: Mapping[str, Any]) -> BoardUpdated:
    """A ``board.updated`` payload read back from a committed event."""
    return BoardUpdated(
        slug=str(event_data["slug"]),
        title=str(event_data["title"]),
        description=str(event_data["description"]),
        moderation=str(event_data["moderation"]),
        private=bool(event_data["private"]),
        thread_count=int(event_data["thread_count"]),
    )


def thread_move(event_data: Mapping[str, Any]) -> ThreadMoved:
    """A ``thread.moved`` payload read back from a committed event."""
    to, thread = event_data["to"], event_data["thread"]
    return {
        "id": int(event_data["id"]),
        "from": str(event_data["from"]),
        "to": None if to is None else str(to),
        "thread": None if thread is None else dict(thread),
    }


# --- moderation channels --------------------------------------------------------------------


def item_created(board_slug: str, item: Mapping[str, Any]) -> Outgoing:
    """``item`` is ``moderation.queue.item_resource`` of an item that is (again) open."""
    return Outgoing(moderation_channel(board_slug), Name.ITEM_CREATED, item)


def item_updated(board_slug: str, item: Mapping[str, Any]) -> Outgoing:
    return Outgoing(moderation_channel(board_slug), Name.ITEM_UPDATED, item)


def item_claimed(
    board_slug: str, *, item_id: int, version: int, claimed_by: str, claimed_at: datetime
) -> Outgoing:
    payload = ItemClaimed(
        id=item_id, version=version, claimed_by=claimed_by, claimed_at=iso(claimed_at)
    )
    return Outgoing(moderation_channel(board_slug), Name.ITEM_CLAIMED, payload)


def item_decided(
    board_slug: str,
    *,
    item_id: int,
    version: int,
    decision: str | None,
    decided_by: str,
    post_id: int,
    post_status: str,
) -> Outgoing:
    payload = ItemDecided(
        id=item_id,
        version=version,
        decision=decision,
        decided_by=decided_by,
        post_id=post_id,
        post_status=post_status,
    )
    return Outgoing(moderation_channel(board_slug), Name.ITEM_DECIDED, payload)


def item_moved(source_slug: str, *, item_id: int, target_slug: str) -> Outgoing:
    payload = ItemMoved(id=item_id, board=target_slug)
    return Outgoing(moderation_channel(source_slug), Name.ITEM_MOVED, payload)


# --- session channels -----------------------------------------------------------------------


def session_updated(payload: SessionChanged) -> Outgoing:
    """Any change of a session: its state, times or switches."""
    return Outgoing(session_channel(payload["id"]), Name.SESSION_UPDATED, payload)


# --- user channels --------------------------------------------------------------------------


def post_pending(post: Post, author: User) -> Outgoing:
    """The author's own post, or an edit of it, waits for a moderator; only the author
    hears of it. An anonymous question goes without its name even here: the author's own
    screen may be the one shared in the hall."""
    resource = post_resource(post, author=None if post.anonymous else author, proposal=True)
    return Outgoing(user_channel(author.id), Name.POST_PENDING, resource)


def notification_created(user_id: int, notice: Mapping[str, Any]) -> Outgoing:
    """``notice`` is ``forum.notifications.notification_resource``."""
    return Outgoing(user_channel(user_id), Name.NOTIFICATION_CREATED, notice)


def notification_read(user_id: int, *, unread: int) -> Outgoing:
    return Outgoing(user_channel(user_id), Name.NOTIFICATION_READ, NotificationRead(unread=unread))


def user_sanctioned(user_id: int, *, kind: str, until: datetime | None) -> Outgoing:
    payload = UserSanctioned(kind=kind, until=iso(until))
    return Outgoing(user_channel(user_id), Name.USER_SANCTIONED, payload)


def access_changed(user_id: int, reason: AccessReason) -> Outgoing:
    """What the user may read, or whether they are signed in at all, changed: every process
    reads each of their open sockets afresh and drops what they may no longer hold."""
    payload = AccessChanged(reason=reason.value)
    return Outgoing(user_channel(user_id), Name.ACCESS_CHANGED, payload)


def _thread_id(post: Post) -> int:
    return int(post.thread_id)  # type: ignore[attr-defined]
