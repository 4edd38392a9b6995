"""What one socket, or one client address, may cost the /ws endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from realtime import Hub, MemoryBroker
from realtime import endpoint as endpoint_module
from tests.realtime.support import ORIGIN, Store, User, authorise, make_app, visible

HEADERS = {"origin": ORIGIN}


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def hub(store: Store) -> Hub:
    return Hub(MemoryBroker(), replay=store.replay, visible=visible, presence_interval=60)


class CountingAuthorise:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, user: User, channel: str) -> bool:
        self.asked.append(channel)
        return await authorise(user, channel)


@pytest.fixture
def asked() -> CountingAuthorise:
    return CountingAuthorise()


@pytest.fixture
def client(hub: Hub, asked: CountingAuthorise) -> Iterator[TestClient]:
    app = make_app(hub, authorise=asked, max_subscriptions=2, max_bad_frames=3)
    with TestClient(app) as c:
        yield c


def receive(ws: WebSocketTestSession) -> dict[str, Any]:
    """The next frame that is not a presence count."""
    while True:
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] != "presence":
            return frame


def subscribe(ws: WebSocketTestSession, channel: str, after: int | None = None) -> None:
    frame: dict[str, Any] = {"type": "subscribe", "channel": channel}
    if after is not None:
        frame["after"] = after
    ws.send_json(frame)


def assert_closed_with(ws: WebSocketTestSession, code: int, reason: str) -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        receive(ws)
    assert (closed.value.code, closed.value.reason) == (code, reason)


def test_a_duplicate_subscribe_is_neither_answered_nor_replayed_again(
    client: TestClient, hub: Hub, store: Store, asked: CountingAuthorise
) -> None:
    store.append("thread:1")
    store.append("thread:1")
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        subscribe(ws, "thread:1", after=0)
        assert receive(ws) == {"type": "subscribed", "channel": "thread:1", "seq": 2}
        assert [receive(ws)["seq"], receive(ws)["seq"]] == [1, 2]

        subscribe(ws, "thread:1", after=0)
        subscribe(ws, "thread:1")
        ws.send_json({"type": "ping"})
        assert receive(ws) == {"type": "pong"}

        assert client.portal is not None
        client.portal.call(hub.publish, store.append("thread:1"))
        assert receive(ws)["seq"] == 3
        ws.send_json({"type": "ping"})
        assert receive(ws) == {"type": "pong"}
    assert asked.asked == ["thread:1"]
    assert store.calls == [("thread:1", 0, None)]


def test_after_an_unsubscribe_the_same_channel_replays_again(
    client: TestClient, store: Store
) -> None:
    store.append("thread:1")
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        subscribe(ws, "thread:1", after=0)
        assert receive(ws)["type"] == "subscribed" and receive(ws)["seq"] == 1
        ws.send_json({"type": "unsubscribe", "channel": "thread:1"})
        subscribe(ws, "thread:1", after=0)
        assert receive(ws)["type"] == "subscribed" and receive(ws)["seq"] == 1


def test_a_refused_channel_is_asked_about_once_per_socket(
    client: TestClient, asked: CountingAuthorise
) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        for channel in ("secret:1", "secret:1", "secret:2"):
            subscribe(ws, channel)
            assert receive(ws) == {
                "type": "error",
                "code": "forbidden",
                "channel": channel,
                "message": "you may not read this channel",
            }
    assert asked.asked == ["secret:1", "secret:2"]


def test_refused_subscribes_spend_the_bad_frame_allowance(client: TestClient) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        ws.send_text("{}")
        assert receive(ws)["code"] == "bad_request"
        for _ in range(2):
            subscribe(ws, "secret:1")
            assert receive(ws)["code"] == "forbidden"
        subscribe(ws, "secret:1")
        assert_closed_with(ws, 1008, "too many bad frames")


def test_subscribes_over_the_channel_limit_spend_the_bad_frame_allowance(
    client: TestClient,
) -> None:
    with client.websocket_connect("/ws", headers=HEADERS) as ws:
        for channel in ("thread:1", "thread:2"):
            subscribe(ws, channel)
            assert receive(ws)["type"] == "subscribed"
        for n in range(3, 6):
            subscribe(ws, f"thread:{n}")
            assert receive(ws)["code"] == "too_many_subscriptions"
        subscribe(ws, "thread:6")
        assert_closed_with(ws, 1008, "too many bad frames")


def test_a_flood_of_subscribes_closes_the_socket_with_1008(
    hub: Hub, asked: CountingAuthorise
) -> None:
    app = make_app(hub, authorise=asked, subscribe_burst=3, subscribes_per_second=0.001)
    with TestClient(app) as client, client.websocket_connect("/ws", headers=HEADERS) as ws:
        for n in range(3):
            subscribe(ws, f"thread:{n}")
            assert receive(ws)["type"] == "subscribed"
        subscribe(ws, "thread:1")
        assert_closed_with(ws, 1008, "too many subscribes")
    assert len(asked.asked) == 3


def test_connections_from_one_address_are_capped(hub: Hub) -> None:
    with (
        TestClient(make_app(hub, max_connections_per_ip=2)) as client,
        client.websocket_connect("/ws", headers=HEADERS),
    ):
        with client.websocket_connect("/ws", headers=HEADERS) as second:
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect("/ws", headers=HEADERS),
            ):
                pass
            assert refused.value.code == 1013
            second.send_json({"type": "ping"})
            assert receive(second) == {"type": "pong"}
        with client.websocket_connect("/ws", headers=HEADERS) as again:
            again.send_json({"type": "ping"})
            assert receive(again) == {"type": "pong"}


def test_a_handshake_refused_for_its_origin_takes_no_place_under_the_cap(hub: Hub) -> None:
    with TestClient(make_app(hub, max_connections_per_ip=1)) as client:
        for _ in range(3):
            with (
                pytest.raises(WebSocketDisconnect),
                client.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
            ):
                pass
        with client.websocket_connect("/ws", headers=HEADERS) as ws:
            ws.send_json({"type": "ping"})
            assert receive(ws) == {"type": "pong"}


def test_the_cap_must_allow_one_connection(hub: Hub) -> None:
    with pytest.raises(ValueError, match="max_connections_per_ip"):
        make_app(hub, max_connections_per_ip=0)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        ("", None),
    ],
)
def test_clients_are_counted_by_address_and_ipv6_clients_by_their_64(
    host: str, address: str | None
) -> None:
    websocket: Any = SimpleNamespace(client=SimpleNamespace(host=host, port=1))
    assert endpoint_module._client_address(websocket) == address


def test_an_allowance_refills_at_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(endpoint_module, "time", SimpleNamespace(monotonic=lambda: clock.now))
    allowance = endpoint_module._Allowance(2, 0.5)
    assert [allowance.spend(), allowance.spend(), allowance.spend()] == [True, True, False]
    clock.now += 1.9
    assert not allowance.spend()
    clock.now += 0.1
    assert allowance.spend() and not allowance.spend()
    clock.now += 60
    assert [allowance.spend(), allowance.spend(), allowance.spend()] == [True, True, False]
