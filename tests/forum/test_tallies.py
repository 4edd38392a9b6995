"""Coalesced vote tallies: a burst of votes becomes one event per thread and tick, exact,
sent once among several processes, and a viewer resuming from any seq converges."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette

from forum import boards, events, outbox, posts, tallies
from forum.models import Board, Post, PostKind, PostStatus, Thread, User, Vote
from forum.permissions import Actor
from tests.conftest import Member, make_user

pytestmark = pytest.mark.asyncio


async def live_thread(questions: int = 3) -> tuple[Thread, list[Post], User]:
    asker = await make_user(username="asker")
    board = await Board.create(slug="zenkoku", title="全国フォーラム")
    thread = await Thread.create(board=board, author=asker, title="質疑応答", live=True)
    rows = [
        await Post.create(
            thread=thread, author=asker, kind=PostKind.QUESTION, body=f"質問{i}", html=f"質問{i}"
        )
        for i in range(questions)
    ]
    return thread, rows, asker


async def voters(count: int) -> list[Actor]:
    users = [await make_user(username=f"voter{i:03d}") for i in range(count)]
    return [await boards.load_actor(user) for user in users]


async def tallied(thread: Thread, after: int = 0) -> list[Any]:
    """The votes.tallied events of the thread's channel after ``after``, in seq order."""
    found = await outbox.read_events(events.thread_channel(thread.id), after)
    return [e for e in found if e.name == events.Name.VOTES_TALLIED.value]


async def first_tally(thread: Thread, *, within: float) -> None:
    """Wait until the thread's channel has a votes.tallied (sent by a running tally task)."""
    for _ in range(int(within / 0.02)):
        if await tallied(thread):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no votes.tallied within {within} s")


def fold(history: list[Any], counts: dict[int, int] | None = None) -> dict[int, int]:
    """What a viewer's copy of the counts becomes after these events."""
    state = dict(counts or {})
    for event in history:
        if event.name == events.Name.VOTES_TALLIED.value:
            state.update((t["id"], t["votes"]) for t in event.data["tallies"])
    return state


async def counts_of(rows: list[Post]) -> dict[int, int]:
    return {p.id: p.votes for p in await Post.filter(id__in=[p.id for p in rows])}


async def test_a_vote_sends_no_event_of_its_own_and_the_voter_gets_the_count_at_once(
    db: None,
) -> None:
    thread, (asked, *_), _asker = await live_thread()
    (voter,) = await voters(1)
    channel = events.thread_channel(thread.id)
    voted = await posts.set_vote(voter, asked.id, up=True)
    assert (voted.votes, voted.voted) == (1, True)
    assert await outbox.head(channel) == 0
    assert await tallies.tally_marked() == 1
    (event,) = await outbox.read_events(channel, 0)
    assert (event.name, event.data) == (
        "votes.tallied",
        {"tallies": [{"id": asked.id, "votes": 1}]},
    )
    # Nothing changed since: the next tick sends nothing.
    assert await tallies.tally_marked() == 0
    assert await outbox.head(channel) == 1


async def test_a_burst_of_votes_from_many_users_is_one_tally_per_tick_with_exact_counts(
    db: None,
) -> None:
    thread, questions, _asker = await live_thread(3)
    actors = await voters(30)
    ticks = 0

    async def burst() -> None:
        # Every voter votes for every question; every third takes one vote back.
        for i, actor in enumerate(actors):
            await asyncio.gather(*(posts.set_vote(actor, q.id, up=True) for q in questions))
            if i % 3 == 0:
                await posts.set_vote(actor, questions[0].id, up=False)

    async def ticker(done: asyncio.Event) -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            assert await tallies.tally_marked() <= 1  # one thread: one event at most
            await asyncio.sleep(0.05)

    done = asyncio.Event()
    running = asyncio.create_task(ticker(done))
    await burst()
    done.set()
    await running
    ticks += 1
    await tallies.tally_marked()
    history = await tallied(thread)
    assert 1 <= len(history) <= ticks
    expected = {questions[0].id: 20, questions[1].id: 30, questions[2].id: 30}
    assert await counts_of(questions) == expected
    assert fold(history) == expected
    # Every question's votes were sent, so nothing is left to tally.
    assert thread.id not in await tallies.untallied_threads()


async def test_a_viewer_resuming_from_any_seq_converges_on_the_counts(db: None) -> None:
    thread, questions, _asker = await live_thread(2)
    actors = await voters(6)
    channel = events.thread_channel(thread.id)
    for round_ in range(3):
        for actor in actors[round_ * 2 : round_ * 2 + 2]:
            await posts.set_vote(actor, questions[round_ % 2].id, up=True)
        # Other events interleave with the tallies on the thread's channel.
        async with outbox.atomic() as tx:
            tx.emit(events.thread_updated(thread, "zenkoku", {"title": f"第{round_}部"})[0])
        await tallies.tally_marked()
    await posts.set_vote(actors[0], questions[0].id, up=False)
    await tallies.tally_marked()
    head = await outbox.head(channel)
    everything = await outbox.read_events(channel, 0)
    final = await counts_of(questions)
    assert final == {questions[0].id: 3, questions[1].id: 2}
    for after in range(head + 1):
        # The viewer knew the counts as of ``after`` (the fold of what came before it).
        known = fold([e for e in everything if e.seq <= after])
        seen = known | {q.id: known.get(q.id, 0) for q in questions}
        assert fold(await outbox.read_events(channel, after), seen) == final, after


async def test_two_processes_ticking_together_never_send_the_same_change_twice(
    db: None,
) -> None:
    thread, questions, _asker = await live_thread(4)
    actors = await voters(24)

    async def vote_all() -> None:
        for actor in actors:
            await asyncio.gather(*(posts.set_vote(actor, q.id, up=True) for q in questions))

    async def process(done: asyncio.Event, sent: list[int]) -> None:
        # Each process tallies the thread at every tick (as if both took votes for it).
        while not done.is_set():
            sent.append(await tallies.tally([thread.id]))
            await asyncio.sleep(0.01)
        sent.append(await tallies.tally([thread.id]))

    done = asyncio.Event()
    first: list[int] = []
    second: list[int] = []
    workers = [asyncio.create_task(process(done, sent)) for sent in (first, second)]
    await vote_all()
    done.set()
    await asyncio.gather(*workers)
    last_tick = await tallies.tally([thread.id])
    history = await tallied(thread)
    assert len(history) == sum(first) + sum(second) + last_tick
    # Per question, every tally carries a count the one before did not: a change sent by
    # both processes would show as the same count twice in a row.
    last: dict[int, int] = {}
    for event in history:
        for t in event.data["tallies"]:
            assert last.get(t["id"]) != t["votes"], (t, last)
            last[t["id"]] = t["votes"]
    expected = {q.id: len(actors) for q in questions}
    assert last == expected == await counts_of(questions)


async def test_the_sweep_sends_votes_no_process_of_this_one_took(db: None) -> None:
    """Votes taken by a process that stopped before its tick: the sweep finds them."""
    thread, (asked, *_), _asker = await live_thread(1)
    await Post.filter(id=asked.id).update(votes=5)
    stop = asyncio.Event()
    task = asyncio.create_task(tallies.run_tallies(stop, every=0.05, sweep_every=0.05))
    try:
        await first_tally(thread, within=5.0)
    finally:
        stop.set()
        await task
    (event,) = await tallied(thread)
    assert event.data == {"tallies": [{"id": asked.id, "votes": 5}]}


async def test_a_withdrawn_question_s_count_is_not_sent(db: None) -> None:
    thread, (asked, kept, *_), _asker = await live_thread(2)
    await Post.filter(id__in=[asked.id, kept.id]).update(votes=2)
    await Post.filter(id=asked.id).update(status=PostStatus.DELETED)
    assert await tallies.tally([thread.id]) == 1
    (event,) = await tallied(thread)
    assert event.data == {"tallies": [{"id": kept.id, "votes": 2}]}
    assert thread.id not in await tallies.untallied_threads()


async def test_the_app_sends_a_vote_s_tally_within_its_tick(
    app: Starlette, client: httpx2.AsyncClient, admin: Member, bob: Member
) -> None:
    thread, (asked, *_), _asker = await live_thread(1)
    response = await client.put(f"/api/v1/posts/{asked.id}/vote", headers=bob.headers)
    assert response.json() == {"id": asked.id, "votes": 1, "voted": True}
    await first_tally(thread, within=tallies.TALLY_EVERY * 3 + 2)
    (event,) = await tallied(thread)
    assert event.data == {"tallies": [{"id": asked.id, "votes": 1}]}


async def test_votes_cast_at_once_on_one_question_count_exactly(db: None) -> None:
    """Many participants voting for the same question at the same moment: the count is the
    number of votes, on PostgreSQL (concurrent transactions) as on SQLite."""
    thread, (asked, *_), _asker = await live_thread(1)
    actors = await voters(24)
    await asyncio.gather(*(posts.set_vote(actor, asked.id, up=True) for actor in actors))
    await asyncio.gather(*(posts.set_vote(actor, asked.id, up=False) for actor in actors[:10]))
    await asyncio.gather(*(posts.set_vote(actor, asked.id, up=True) for actor in actors[:4]))
    rows = await Vote.filter(post_id=asked.id).count()
    assert rows == 18
    assert (await Post.get(id=asked.id)).votes == rows
    await tallies.tally([thread.id])
    assert fold(await tallied(thread)) == {asked.id: 18}
