"""ChannelAccess decides once per event when no viewer needs checking."""

from __future__ import annotations

from forum.channels import ChannelAccess, _Scope
from realtime.protocol import Event


def _event(channel: str) -> Event:
    return Event(channel, 1, "post.created", {})


def test_public_is_true_only_where_visible_ignores_the_viewer() -> None:
    access = ChannelAccess(
        scopes={
            "thread:1": _Scope(board_id=1),
            "thread:2": _Scope(board_id=2),
            "moderation:open": _Scope(board_id=1, moderation=True),
        },
        private_boards={2},
    )
    assert access.public(_event("thread:1"))
    assert not access.public(_event("thread:2"))
    assert not access.public(_event("moderation:open"))
    # Only its owner may subscribe to a user's channel.
    assert access.public(_event("user:7"))
    # A channel nobody authorised here: visible() withholds it, so public() must too.
    assert not access.public(_event("thread:3"))


def test_a_board_made_private_by_an_event_stops_being_public_at_once() -> None:
    access = ChannelAccess(scopes={"thread:1": _Scope(board_id=1)}, board_ids={"kankei": 1})
    assert access.public(_event("thread:1"))
    board = {
        "slug": "kankei",
        "title": "関係人口",
        "description": "",
        "moderation": "open",
        "private": True,
        "thread_count": 1,
    }
    stale = access.observe(Event("board:kankei", 2, "board.updated", board))
    assert stale == ["thread:1"]
    assert not access.public(_event("thread:1"))
