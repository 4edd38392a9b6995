"""forum.events owns every event name and channel; the JS clients handle each event they get."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forum import events
from forum.events import CHANNEL_EVENTS, ChannelKind, Name

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "forum" / "static"
# Each browser client and the one kind of channel it subscribes to.
CLIENTS = {
    "live.js": ChannelKind.THREAD,
    "moderation.js": ChannelKind.MODERATION,
    "session.js": ChannelKind.SESSION,
    "notices.js": ChannelKind.USER,
    "qa.js": ChannelKind.THREAD,
}


def _handled(source: str) -> set[str]:
    block = re.search(r"const handlers = \{\n(.*?)\n {0,2}\};", source, re.S)
    assert block, "no `const handlers = {…};` block"
    return set(re.findall(r'^\s*"([a-z]+\.[a-z_]+)":', block.group(1), re.M))


def _ignored(source: str) -> set[str]:
    block = re.search(r"const IGNORED = \[(.*?)\];", source, re.S)
    assert block, "no `const IGNORED = […];` list"
    return set(re.findall(r'"([a-z]+\.[a-z_]+)"', block.group(1)))


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_every_js_client_handles_or_ignores_every_event_of_its_channel(client: str) -> None:
    source = (STATIC / client).read_text(encoding="utf-8")
    handled, ignored = _handled(source), _ignored(source)
    expected = {name.value for name in CHANNEL_EVENTS[CLIENTS[client]]}
    assert not handled & ignored, f"{client} both handles and ignores {handled & ignored}"
    assert handled | ignored == expected, (
        f"{client}: unhandled {sorted(expected - handled - ignored)}, "
        f"unknown {sorted((handled | ignored) - expected)}"
    )


def test_the_thread_client_follows_a_moved_thread() -> None:
    assert "thread.moved" in _handled((STATIC / "live.js").read_text(encoding="utf-8"))


def test_every_event_name_goes_to_at_least_one_kind_of_channel() -> None:
    assert set().union(*CHANNEL_EVENTS.values()) == set(Name)


def test_channel_strings_parse_back_into_their_kind_and_key() -> None:
    built = {
        events.thread_channel(42): (ChannelKind.THREAD, "42"),
        events.board_channel("kankei"): (ChannelKind.BOARD, "kankei"),
        events.moderation_channel("kankei"): (ChannelKind.MODERATION, "kankei"),
        events.user_channel(7): (ChannelKind.USER, "7"),
        events.session_channel(12): (ChannelKind.SESSION, "12"),
    }
    for name, (kind, key) in built.items():
        parsed = events.parse_channel(name)
        assert parsed is not None and (parsed.kind, parsed.key) == (kind, key)
        assert str(parsed) == name
    assert events.parse_channel("thread:42") is not None
    assert events.parse_channel("user:7") == events.Channel(ChannelKind.USER, "7")


@pytest.mark.parametrize(
    "name",
    [
        "",
        "thread",
        "thread:",
        "thread:abc",
        "thread:-1",
        "thread:１２",
        "user:1" + "0" * 18,
        "thread:2147483648",
        "user:9223372036854775808",
        "session:abc",
        "presenter:1",
        "board:" + "a" * 41,
        ":x",
    ],
)
def test_strings_that_name_no_channel_parse_to_none(name: str) -> None:
    assert events.parse_channel(name) is None


def test_a_slug_keyed_channel_has_no_id() -> None:
    with pytest.raises(ValueError, match="slug"):
        _ = events.Channel(ChannelKind.BOARD, "kankei").id


def _python_sources() -> list[Path]:
    files = [f for p in ("forum", "moderation", "live") for f in (ROOT / p).rglob("*.py")]
    return [p for p in files if p.name != "events.py" and "migrations" not in p.parts]


def test_no_module_but_forum_events_spells_an_event_name() -> None:
    quoted = {f'"{name.value}"' for name in Name}
    found = [
        f"{path.relative_to(ROOT)}: {literal}"
        for path in _python_sources()
        for literal in quoted
        if literal in path.read_text(encoding="utf-8")
    ]
    assert found == []


def test_no_module_or_template_but_forum_events_builds_a_channel_string() -> None:
    kinds = "|".join(kind.value for kind in ChannelKind)
    built = re.compile(rf"""f["'](?:{kinds}):\{{|["'](?:{kinds}):["']\s*\+""")
    templates = list((ROOT / "templates").rglob("*.html"))
    scripts = list(STATIC.glob("*.js"))
    found = [
        str(path.relative_to(ROOT))
        for path in [*_python_sources(), *templates]
        if built.search(path.read_text(encoding="utf-8"))
    ]
    spelled_in_js = re.compile(rf"`(?:{kinds}):\$\{{")
    found += [
        str(p.relative_to(ROOT)) for p in scripts if spelled_in_js.search(p.read_text("utf-8"))
    ]
    assert found == []
