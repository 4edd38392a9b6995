"""forum.threadreads: thread heads and rows remembered per process, retired by the events."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette

from forum import events
from forum.models import Board, Thread
from forum.threadreads import ThreadReads
from realtime.protocol import Event
from tests.conftest import Member


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rows(thread_id: int = 7) -> tuple[Thread, Board]:
    board = Board(id=1, slug="kankei", title="関係人口")
    return Thread(id=thread_id, board_id=board.id, title="移住"), board


def event(channel: str, seq: int) -> Event:
    return Event(channel=channel, seq=seq, name=events.Name.POST_CREATED.value, data={})


def test_a_head_is_the_highest_seq_seen_and_trusted_only_for_the_ttl() -> None:
    clock = Clock()
    reads = ThreadReads(ttl=5.0, clock=clock)
    channel = events.thread_channel(7)
    assert reads.head(channel) is None
    reads.learn_head(channel, 3)
    reads.observe(event(channel, 5))
    reads.learn_head(channel, 4)  # a read that raced the event never goes back
    assert reads.head(channel) == 5
    clock.now += 5.0
    assert reads.head(channel) is None


def test_rows_are_retired_by_a_thread_event_or_any_board_event() -> None:
    reads = ThreadReads()
    channel = events.thread_channel(7)
    thread, board = rows()
    reads.learn_head(channel, 3)
    reads.remember(thread, board, 3, reads.board_generation)
    assert reads.thread(7) == (thread, board)
    reads.observe(event(channel, 4))
    assert reads.thread(7) is None

    reads.remember(thread, board, 4, reads.board_generation)
    assert reads.thread(7) == (thread, board)
    reads.observe(event(events.board_channel("other"), 1))
    assert reads.thread(7) is None


def test_rows_loaded_while_a_board_changed_are_not_kept() -> None:
    reads = ThreadReads()
    thread, board = rows()
    reads.learn_head(events.thread_channel(7), 3)
    generation = reads.board_generation
    reads.observe(event(events.board_channel("kankei"), 9))
    reads.remember(thread, board, 3, generation)
    assert reads.thread(7) is None


def test_nothing_is_trusted_while_events_may_be_lost_and_clear_forgets_all() -> None:
    trusted = False
    reads = ThreadReads(trusted=lambda: trusted)
    channel = events.thread_channel(7)
    thread, board = rows()
    reads.learn_head(channel, 3)
    assert reads.head(channel) is None
    reads.remember(thread, board, 3, reads.board_generation)
    trusted = True
    assert reads.thread(7) is None  # not kept while untrusted
    reads.remember(thread, board, 3, reads.board_generation)
    assert reads.thread(7) == (thread, board)
    reads.clear()
    assert reads.head(channel) is None and reads.thread(7) is None


def test_the_rows_kept_are_bounded_least_recently_used_out() -> None:
    reads = ThreadReads(max_entries=2)
    for thread_id in (1, 2, 3):
        reads.learn_head(events.thread_channel(thread_id), 1)
        thread, board = rows(thread_id)
        reads.remember(thread, board, 1, reads.board_generation)
    assert reads.thread(1) is None
    assert reads.thread(3) is not None


@pytest.mark.asyncio
async def test_a_board_made_private_hides_a_remembered_thread_from_visitors_at_once(
    app: Starlette, client: httpx2.AsyncClient, admin: Member
) -> None:
    made = await client.post(
        "/api/v1/boards", json={"slug": "kankei", "title": "関係人口"}, headers=admin.headers
    )
    assert made.status_code == 201, made.text
    thread = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "移住の相談", "body": "はじめます"},
        headers=admin.headers,
    )
    assert thread.status_code == 201, thread.text
    url = f"/t/{thread.json()['thread']['id']}"
    assert (await client.get(url)).status_code == 200
    assert (await client.get(url)).status_code == 200
    assert app.state.thread_reads.thread(thread.json()["thread"]["id"]) is not None
    private = await client.patch(
        "/api/v1/boards/kankei", json={"private": True}, headers=admin.headers
    )
    assert private.status_code == 200, private.text
    assert (await client.get(url)).status_code == 404
