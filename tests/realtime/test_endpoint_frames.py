"""Frame handling on the /ws endpoint, through Starlette's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from realtime import Event, Hub, MemoryBroker, Replay
from tests.realtime.support import ORIGIN, Store, make_app, visible

HEADERS = {"origin": ORIGIN}


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def hub(store: Store) -> Hub:
    return Hub(MemoryBroker(), replay=store.replay, visible=visible, presence_interval=60)


def client_for(hub: Hub, **options: Any) -> TestClient:
    return TestClient(make_app(hub, **options))


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with client_for(hub, max_frame_bytes=256, max_subscriptions=2, max_bad_frames=3) as c:
        yield c


def publish(client: TestClient, hub: Hub, event: Event) -> None:
    assert client.portal is not None
    client.portal.call(hub.publish, event)


def test_ping_is_answered_with_pong(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("nope", "frame is not valid JSON"),
        ('{"type":"publish"}', "type must be subscribe, unsubscribe or ping"),
        ('{"type":"subscribe","channel":"thread:1","after":-3}', "after must be"),
        (b'{"type":"ping"}', "frames must be JSON text"),
    ],
)
def test_malformed_frames_get_a_bad_request_error(
    client: TestClient, frame: str | bytes, message: str
) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        if isinstance(frame, bytes):
            ws.send_bytes(frame)
        else:
            ws.send_text(frame)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "bad_request"
        assert error["message"].startswith(message)
        ws.send_text('{"type":"ping"}')
        assert ws.receive_json() == {"type": "pong"}


def test_repeated_bad_frames_close_the_connection_with_1008(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        for _ in range(3):
            ws.send_text("{}")
            assert ws.receive_json()["code"] == "bad_request"
        ws.send_text("{}")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1008


@pytest.mark.parametrize("text", ["x" * 257, "あ" * 86], ids=["ascii", "utf-8 bytes"])
def test_a_frame_over_the_size_limit_closes_with_1009(client: TestClient, text: str) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        ws.send_text(text)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1009


def test_subscriptions_over_the_limit_are_refused(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        for channel in ("thread:1", "thread:2"):
            ws.send_json({"type": "subscribe", "channel": channel})
            assert ws.receive_json()["type"] == "subscribed"
        ws.send_json({"type": "subscribe", "channel": "thread:3"})
        assert ws.receive_json() == {
            "type": "error",
            "code": "too_many_subscriptions",
            "channel": "thread:3",
            "message": "at most 2 channels per connection",
        }


def test_after_unsubscribe_no_more_events_arrive(
    client: TestClient, hub: Hub, store: Store
) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        ws.send_json({"type": "subscribe", "channel": "thread:1", "after": 0})
        assert ws.receive_json()["type"] == "subscribed"
        publish(client, hub, store.append("thread:1"))
        assert ws.receive_json()["seq"] == 1

        ws.send_json({"type": "unsubscribe", "channel": "thread:1"})
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        publish(client, hub, store.append("thread:1"))
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        assert hub.channels() == []


def test_a_replay_that_fails_is_reported_and_the_connection_lives_on(store: Store) -> None:
    async def broken(channel: str, after: int | None, until: int | None) -> Replay:
        raise ConnectionError("database is down")

    hub = Hub(MemoryBroker(), replay=broken, presence_interval=60)
    with client_for(hub) as client, client.websocket_connect("/ws", headers=HEADERS) as ws:
        ws.send_json({"type": "subscribe", "channel": "thread:1", "after": 0})
        assert ws.receive_json()["code"] == "unavailable"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        assert hub.channels() == []


def test_a_cross_origin_handshake_is_closed_before_accept(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.code == 1008


@pytest.mark.parametrize(
    "origin", ["HTTP://KORYU.TEST", "http://koryu.test:80", "http://koryu.test/"]
)
def test_origins_are_compared_in_normal_form(client: TestClient, origin: str) -> None:
    with client.websocket_connect("/ws", headers={"origin": origin}) as ws:
        ws.send_text(orjson.dumps({"type": "ping"}).decode())
        assert ws.receive_json() == {"type": "pong"}


def test_allowed_origins_must_be_scheme_and_host(hub: Hub) -> None:
    with pytest.raises(ValueError, match="allowed_origins"):
        make_app(hub, origins=["koryu.test"])
