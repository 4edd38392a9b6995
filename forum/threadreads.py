"""What a thread page reads on every request, remembered per process and kept by the events.

A thread page checks that the reader may see the thread (its row and its board's) and
names the head of its ``thread:{id}`` channel; both used to be read from the database on
every request, cached page or not. Every change to a thread emits an event on that channel
in the transaction that makes it (``forum.lifecycle``, ``forum.threads``, ``live``), and
every change to a board one on its ``board:{slug}`` channel; the hub hands every event to
every process (``forum.channels.ForumHub.dispatch`` calls ``observe``). So:

* ``head(channel)`` is the highest seq this process has seen on the channel — from an event,
  or from the database when it last read it — trusted for ``ttl`` seconds (5) after it was
  last confirmed, and only while the broker is healthy (``trusted``). A head the events
  have not confirmed lately is read again; a quiet thread costs one read per ``ttl``.
* ``thread(id)`` is the thread row and its board row as loaded when the head was ``seq``:
  good while the head is still ``seq`` (no event on the thread since) and no board event
  arrived since (``board_generation``). The head is read *before* the rows, so a change
  landing in between leaves an entry under the older seq, which the change's own event
  retires.

What the reader may see is still decided on every request, from these rows
(``forum.threads.get_thread``). In another process the remembered state trails the
database by the broker's delivery time, as live viewers do: a page names the seq it
shows, and the events after it bring the reader up to date. Bounded: ``max_entries``
threads, least recently used first out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from forum import events
from forum.events import ChannelKind
from forum.models import Board, Thread
from realtime.protocol import Event

__all__ = ["ThreadReads"]


@dataclass(slots=True)
class _Head:
    seq: int
    confirmed_at: float


@dataclass(slots=True)
class _Rows:
    thread: Thread
    board: Board
    seq: int
    board_generation: int


class ThreadReads:
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
        self.trusted = trusted or (lambda: True)
        self.board_generation = 0
        self._heads: OrderedDict[str, _Head] = OrderedDict()
        self._rows: OrderedDict[int, _Rows] = OrderedDict()

    def observe(self, event: Event) -> None:
        """Every event, in every process, as the hub dispatches it."""
        kind, _sep, _key = event.channel.partition(":")
        if kind == ChannelKind.THREAD.value:
            self.learn_head(event.channel, event.seq)
        elif kind == ChannelKind.BOARD.value:
            self.board_generation += 1

    def clear(self) -> None:
        """The broker may have lost events: forget everything they kept current."""
        self._heads.clear()
        self._rows.clear()
        self.board_generation += 1

    def learn_head(self, channel: str, seq: int) -> None:
        known = self._heads.pop(channel, None)
        self._heads[channel] = _Head(max(seq, known.seq if known else 0), self.clock())
        while len(self._heads) > self.max_entries:
            self._heads.popitem(last=False)

    def head(self, channel: str) -> int | None:
        """The channel's head, when this process knows it well enough; else None."""
        if not self.trusted():
            return None
        known = self._heads.get(channel)
        if known is None or self.clock() - known.confirmed_at >= self.ttl:
            return None
        return known.seq

    def thread(self, thread_id: int) -> tuple[Thread, Board] | None:
        rows = self._rows.get(thread_id)
        if rows is None:
            return None
        if rows.seq != self.head(events.thread_channel(thread_id)):
            return None
        if rows.board_generation != self.board_generation:
            return None
        self._rows.move_to_end(thread_id)
        return rows.thread, rows.board

    def remember(self, thread: Thread, board: Board, seq: int, board_generation: int) -> None:
        """Rows loaded after the head was ``seq`` and the boards at ``board_generation``."""
        if board_generation != self.board_generation or not self.trusted():
            return
        self._rows.pop(thread.id, None)
        self._rows[thread.id] = _Rows(thread, board, seq, board_generation)
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
