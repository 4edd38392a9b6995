from __future__ import annotations

from typing import Any

import orjson
import pytest
from websockets.frames import Frame, Opcode

from realtime import (
    Event,
    Ping,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    encode_error,
    encode_pong,
    encode_presence,
    encode_resync,
    encode_subscribed,
    parse_client_frame,
    websocket_text_frame,
)


def test_event_frame_is_encoded_once_at_construction() -> None:
    event = Event("thread:42", 18, "post.created", {"body": "こんにちは"})

    assert orjson.loads(event.frame) == {
        "type": "event",
        "channel": "thread:42",
        "seq": 18,
        "name": "post.created",
        "data": {"body": "こんにちは"},
    }
    assert event.text == event.frame.decode()
    assert event.frame is event.frame
    assert "こんにちは".encode() in event.frame  # UTF-8, not \u escapes


def test_event_survives_the_broker_wire_format() -> None:
    event = Event("board:kanto", 7, "thread.created", {"id": 3, "title": "関係人口"})

    received = Event.from_wire(event.to_wire())

    assert received == event
    assert received.frame == event.frame


@pytest.mark.parametrize(
    "raw",
    [
        b"{}",
        b"[1, 2, 3]",
        b'["c", "1", "n", {}]',
        b'["c", true, "n", {}]',
        b'["c", 1, "n", []]',
        b"x",
    ],
)
def test_malformed_broker_messages_are_rejected(raw: bytes) -> None:
    with pytest.raises(ValueError):
        Event.from_wire(raw)


@pytest.mark.parametrize(
    ("raw", "frame"),
    [
        ('{"type":"subscribe","channel":"thread:42","after":17}', Subscribe("thread:42", 17)),
        ('{"type":"subscribe","channel":"thread:42","after":0}', Subscribe("thread:42", 0)),
        ('{"type":"subscribe","channel":"moderation"}', Subscribe("moderation", None)),
        ('{"type":"subscribe","channel":"board:chiho-sosei_2"}', Subscribe("board:chiho-sosei_2")),
        (b'{"type":"unsubscribe","channel":"user"}', Unsubscribe("user")),
        ('{"type":"ping"}', Ping()),
    ],
)
def test_client_frames_are_parsed(raw: str | bytes, frame: object) -> None:
    assert parse_client_frame(raw) == frame


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '"ping"',
        "{}",
        '{"type":"publish","channel":"thread:1"}',
        '{"type":"subscribe"}',
        '{"type":"subscribe","channel":"Thread:1"}',
        '{"type":"subscribe","channel":"thread:"}',
        '{"type":"subscribe","channel":"thread:1:2"}',
        '{"type":"subscribe","channel":"thread:1\\n"}',
        '{"type":"subscribe","channel":"_presence"}',
        '{"type":"subscribe","channel":"thread:' + "x" * 65 + '"}',
        '{"type":"subscribe","channel":"thread:1","after":-1}',
        '{"type":"subscribe","channel":"thread:1","after":"17"}',
        '{"type":"subscribe","channel":"thread:1","after":1.5}',
        '{"type":"subscribe","channel":"thread:1","after":true}',
        '{"type":"subscribe","channel":"thread:1","after":null}',
        '{"type":"subscribe","channel":"thread:1","extra":1}',
        '{"type":"ping","channel":"thread:1"}',
    ],
)
def test_anything_else_is_a_bad_request(raw: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_client_frame(raw)

    assert caught.value.code == "bad_request"


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            encode_subscribed("thread:42", 25),
            {"type": "subscribed", "channel": "thread:42", "seq": 25},
        ),
        (encode_resync("thread:42", 25), {"type": "resync", "channel": "thread:42", "seq": 25}),
        (
            encode_presence("thread:42", 123),
            {"type": "presence", "channel": "thread:42", "viewers": 123},
        ),
        (
            encode_error("forbidden", "だめ", "thread:42"),
            {"type": "error", "code": "forbidden", "channel": "thread:42", "message": "だめ"},
        ),
        (
            encode_error("bad_request", "no"),
            {"type": "error", "code": "bad_request", "message": "no"},
        ),
        (encode_pong(), {"type": "pong"}),
    ],
)
def test_server_frames_match_the_wire_protocol(frame: str, expected: dict[str, Any]) -> None:
    assert orjson.loads(frame) == expected


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_a_prebuilt_frame_is_what_a_websockets_server_would_send(size: int) -> None:
    payload = ("あ" * size).encode()[:size]
    frame = Frame(Opcode.TEXT, payload)
    expected = frame.serialize(mask=False)
    assert websocket_text_frame(payload) == expected


def test_an_events_wire_bytes_frame_its_json_once() -> None:
    event = Event("thread:1", 1, "post.created", {"body": "本文" * 100})
    assert event.wire == websocket_text_frame(event.frame)
    assert event.wire.endswith(event.frame)
