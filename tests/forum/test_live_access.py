"""Open sockets follow every change of who may read what, and nothing unpublished leaks.

A real server and real sockets (the ``live`` fixture of test_live.py): each change is made
over HTTP while a socket is subscribed, and the socket must receive nothing it may no
longer read from that moment on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from forum import accounts
from tests.conftest import Member
from tests.forum.test_live import ORIGIN, Live, live, next_event
from tests.realtime.support import Frame, open_ws, recv, send, subscribe

__all__ = ["live"]

pytestmark = pytest.mark.asyncio

CLOSE_LOGIN_ENDED = 4401


async def assert_nothing_more(ws: ClientConnection) -> None:
    """Whatever the server sends before the pong: nothing is allowed but presence."""
    await send(ws, {"type": "ping"})
    assert await recv(ws) == {"type": "pong"}


async def assert_dropped(ws: ClientConnection, channel: str) -> None:
    frame = await recv(ws)
    assert (frame["type"], frame.get("code"), frame.get("channel")) == (
        "error",
        "forbidden",
        channel,
    )


async def assert_closed_as_logged_out(ws: ClientConnection) -> None:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                frame = orjson.loads(await ws.recv())
                assert frame["type"] == "presence", frame
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CLOSE_LOGIN_ENDED


async def staff(live: Live, slug: str, member: Member, role: str) -> None:
    response = await live.api.put(
        f"/api/v1/boards/{slug}/moderators/{member.user.username}",
        json={"role": role},
        headers=live.admin.headers,
    )
    assert response.status_code in {200, 201}, response.text


async def unstaff(live: Live, slug: str, member: Member) -> None:
    response = await live.api.delete(
        f"/api/v1/boards/{slug}/moderators/{member.user.username}", headers=live.admin.headers
    )
    assert response.status_code == 204, response.text


async def pending_post(live: Live, thread_id: int, body: str) -> dict[str, Any]:
    post = await live.post(thread_id, body)
    assert post["status"] == "pending"
    return post


async def cookie_viewer(live: Live, member: Member) -> tuple[ClientConnection, str, str]:
    """A browser's socket: opened with a login session's cookie. Returns it, the cookie
    and the session's CSRF token."""
    raw, session = await accounts.start_session(member.user, days=1)
    ws = await open_ws(
        live.url, origin=ORIGIN, additional_headers={"Cookie": f"koryu_session={raw}"}
    )
    return ws, raw, str(session.csrf_token)


# --- revocation paths -----------------------------------------------------------------------


async def test_a_removed_board_moderator_stops_receiving_its_queue_at_once(live: Live) -> None:
    await live.board(moderation="premoderated")
    thread = await live.thread()
    await staff(live, "kankei", live.bob, "moderator")
    ws = await live.viewer(member=live.bob)
    assert (await subscribe(ws, "moderation:kankei"))["type"] == "subscribed"
    await pending_post(live, thread["id"], "承認待ち（まだ担当）")
    assert (await next_event(ws))["name"] == "item.created"

    await unstaff(live, "kankei", live.bob)
    await assert_dropped(ws, "moderation:kankei")
    await pending_post(live, thread["id"], "承認待ち（担当を外れた後）")
    await assert_nothing_more(ws)
    assert (await subscribe(ws, "moderation:kankei"))["code"] == "forbidden"
    await ws.close()


async def test_a_moderator_made_a_plain_member_loses_the_queue_but_keeps_the_board(
    live: Live,
) -> None:
    await live.board("secret", private=True, moderation="premoderated")
    await staff(live, "secret", live.bob, "moderator")
    thread = await live.thread("secret")
    ws = await live.viewer(member=live.bob)
    await subscribe(ws, "moderation:secret")
    await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])

    await staff(live, "secret", live.bob, "member")
    await assert_dropped(ws, "moderation:secret")
    await staff(live, "secret", live.alice, "member")
    await pending_post(live, thread["id"], "メンバーの投稿")
    published = await live.post(thread["id"], "管理者の投稿", member=live.admin)
    frame = await next_event(ws)
    assert (frame["channel"], frame["data"]["id"]) == (f"thread:{thread['id']}", published["id"])
    await assert_nothing_more(ws)
    await ws.close()


async def test_a_member_removed_from_a_private_board_stops_receiving_its_threads(
    live: Live,
) -> None:
    await live.board("secret", private=True)
    await staff(live, "secret", live.alice, "member")
    thread = await live.thread("secret")
    ws = await live.viewer(member=live.alice)
    await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    await subscribe(ws, "board:secret")

    await unstaff(live, "secret", live.alice)
    dropped = {(await recv(ws))["channel"], (await recv(ws))["channel"]}
    assert dropped == {f"thread:{thread['id']}", "board:secret"}
    await live.post(thread["id"], "メンバーだけの話", member=live.admin)
    await assert_nothing_more(ws)
    await ws.close()


async def test_logging_out_closes_the_sockets_of_that_session_and_no_other(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    browser, raw, csrf = await cookie_viewer(live, live.alice)
    other_browser, _raw, _csrf = await cookie_viewer(live, live.alice)
    script = await live.viewer(member=live.alice)
    for ws in (browser, other_browser, script):
        await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])

    response = await live.api.post(
        "/logout", data={"csrf_token": csrf}, headers={"Cookie": f"koryu_session={raw}"}
    )
    assert response.status_code == 303
    await assert_closed_as_logged_out(browser)
    post = await live.post(thread["id"], "ログアウト後の投稿", member=live.admin)
    for ws in (other_browser, script):
        assert (await next_event(ws))["data"]["id"] == post["id"]
        await ws.close()


async def test_suspending_a_user_closes_every_socket_they_hold(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    sockets = [await live.viewer(member=live.bob), (await cookie_viewer(live, live.bob))[0]]
    for ws in sockets:
        await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
        await subscribe(ws, f"user:{live.bob.user.id}")
    response = await live.api.post(
        "/api/v1/moderation/users/bob/sanctions",
        json={"kind": "suspend", "hours": 24, "reason": "荒らし"},
        headers=live.admin.headers,
    )
    assert response.status_code == 200, response.text
    for ws in sockets:
        await closed_after_notices(ws)


async def closed_after_notices(ws: ClientConnection) -> None:
    """The sanction's own notices may come first on the user's channel; then the close."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                frame: Frame = orjson.loads(await ws.recv())
                assert frame["type"] == "presence" or frame.get("name") in {
                    "user.sanctioned",
                    "access.changed",
                }, frame
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_LOGIN_ENDED


async def test_revoking_a_token_closes_the_sockets_opened_with_it(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    issued = await accounts.issue_token(live.bob.user, days=1, max_days=1, name="bot")
    revoked = await live.viewer(member=Member(user=live.bob.user, token=issued.secret))
    kept = await live.viewer(member=live.bob)
    for ws in (revoked, kept):
        await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    response = await live.api.delete(f"/api/v1/tokens/{issued.token.id}", headers=live.bob.headers)
    assert response.status_code == 204
    await assert_closed_as_logged_out(revoked)
    post = await live.post(thread["id"], "失効後の投稿", member=live.admin)
    assert (await next_event(kept))["data"]["id"] == post["id"]
    await kept.close()


async def test_a_password_change_closes_every_other_socket_of_the_user(live: Live) -> None:
    await live.board()
    thread = await live.thread()
    password = "ふるいパスワード1234"
    live.bob.user.password_hash = accounts.hash_password(password)
    await live.bob.user.save(update_fields=["password_hash"])
    token_socket = await live.viewer(member=live.bob)
    browser, _raw, _csrf = await cookie_viewer(live, live.bob)
    for ws in (token_socket, browser):
        await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])
    response = await live.api.post(
        "/api/v1/me/password",
        json={"current_password": password, "new_password": "あたらしいパスワード5678"},
        headers=live.bob.headers,
    )
    assert response.status_code == 200, response.text
    for ws in (token_socket, browser):
        await assert_closed_as_logged_out(ws)


async def test_a_role_change_reads_the_socket_afresh_and_drops_the_queue(live: Live) -> None:
    await live.board(moderation="premoderated")
    thread = await live.thread()
    response = await live.api.put(
        "/api/v1/users/bob/role", json={"role": "moderator"}, headers=live.admin.headers
    )
    assert response.status_code == 200, response.text
    ws = await live.viewer(member=live.bob)  # a token: it outlives the role change
    await subscribe(ws, "moderation:kankei")
    await subscribe(ws, f"thread:{thread['id']}", after=thread["seq"])

    response = await live.api.put(
        "/api/v1/users/bob/role", json={"role": "participant"}, headers=live.admin.headers
    )
    assert response.status_code == 200, response.text
    await assert_dropped(ws, "moderation:kankei")
    await pending_post(live, thread["id"], "降格後の承認待ち")
    published = await live.post(thread["id"], "公開の投稿", member=live.admin)
    assert (await next_event(ws))["data"]["id"] == published["id"]
    await assert_nothing_more(ws)
    await ws.close()


async def test_a_new_board_expert_may_follow_the_queue_without_reconnecting(live: Live) -> None:
    await live.board()
    ws = await live.viewer(member=live.bob)
    await subscribe(ws, f"user:{live.bob.user.id}")
    await staff(live, "kankei", live.bob, "expert")
    assert (await next_event(ws))["name"] == "access.changed"
    assert (await subscribe(ws, "moderation:kankei"))["type"] == "subscribed"
    await ws.close()


# --- leaks of what is not yet public --------------------------------------------------------


async def test_a_held_threads_title_edit_stays_off_the_public_board_channel(live: Live) -> None:
    await live.board(moderation="premoderated")
    board_viewer = await live.viewer()
    await subscribe(board_viewer, "board:kankei")
    thread = await live.thread(member=live.alice)
    assert thread["post_count"] == 0
    author = await live.viewer(member=live.alice)
    await subscribe(author, f"thread:{thread['id']}", after=thread["seq"])

    response = await live.api.patch(
        f"/api/v1/threads/{thread['id']}",
        json={"title": "まだ誰にも見えない題名"},
        headers=live.alice.headers,
    )
    assert response.status_code == 200, response.text
    frame = await next_event(author)
    assert (frame["name"], frame["data"]["title"]) == ("thread.updated", "まだ誰にも見えない題名")
    await assert_nothing_more(board_viewer)
    await board_viewer.close()
    await author.close()


async def move(live: Live, thread_id: int, slug: str) -> None:
    response = await live.api.post(
        f"/api/v1/moderation/threads/{thread_id}/move",
        json={"board": slug},
        headers=live.admin.headers,
    )
    assert response.status_code == 200, response.text


async def test_a_thread_moved_into_a_private_board_leaves_without_naming_it(live: Live) -> None:
    await live.board()
    await live.board("himitsu-no-heya", private=True)
    thread = await live.thread()
    anonymous = await live.viewer()
    await subscribe(anonymous, "board:kankei")
    await subscribe(anonymous, f"thread:{thread['id']}", after=thread["seq"])

    await move(live, thread["id"], "himitsu-no-heya")
    await live.post(thread["id"], "移動後の投稿", member=live.admin)
    frames: list[str] = []
    await send(anonymous, {"type": "ping"})
    async with asyncio.timeout(5):
        while (text := str(await anonymous.recv())) != '{"type":"pong"}':
            frames.append(text)
    assert not any("himitsu" in text for text in frames), frames
    parsed = [orjson.loads(text) for text in frames if '"presence"' not in text]
    moved = [f for f in parsed if f.get("name") == "thread.moved"]
    assert {f["channel"] for f in moved} == {"board:kankei", f"thread:{thread['id']}"}
    assert all((f["data"]["to"], f["data"]["thread"]) == (None, None) for f in moved)
    assert [f for f in parsed if f.get("name") == "post.created"] == []
    assert {"error", "forbidden", f"thread:{thread['id']}"} <= {
        v for f in parsed if f["type"] == "error" for v in (f["type"], f["code"], f["channel"])
    }
    await anonymous.close()


async def test_the_target_boards_viewers_learn_where_the_thread_went(live: Live) -> None:
    await live.board()
    await live.board("himitsu", private=True)
    thread = await live.thread()
    insider = await live.viewer(member=live.admin)
    await subscribe(insider, "board:himitsu")
    await move(live, thread["id"], "himitsu")
    frame = await next_event(insider)
    assert (frame["name"], frame["data"]["to"], frame["data"]["thread"]["id"]) == (
        "thread.moved",
        "himitsu",
        thread["id"],
    )
    await insider.close()


async def test_a_post_racing_a_move_into_a_private_board_never_reaches_an_outsider(
    live: Live,
) -> None:
    await live.board()
    await live.board("secret", private=True)
    admin_viewer = await live.viewer(member=live.admin)
    for trial in range(8):
        thread = await live.thread()
        channel = f"thread:{thread['id']}"
        outsider = await live.viewer(member=live.bob)
        await subscribe(outsider, channel, after=thread["seq"])
        await subscribe(admin_viewer, channel, after=thread["seq"])
        _moved, post = await asyncio.gather(
            move(live, thread["id"], "secret"),
            live.post(thread["id"], f"競合する投稿{trial}", member=live.admin),
        )
        seen = [await next_event(admin_viewer), await next_event(admin_viewer)]
        move_seq = next(f["seq"] for f in seen if f["name"] == "thread.moved")
        post_seq = next(f["seq"] for f in seen if f["name"] == "post.created")
        frames = await frames_until_dropped(outsider, channel)
        frames += await frames_until_pong(outsider)
        delivered = [f for f in frames if f.get("name") == "post.created"]
        if post_seq > move_seq:
            assert delivered == [], (trial, frames)
        else:
            assert [f["data"]["id"] for f in delivered] == [post["id"]]
        await send(admin_viewer, {"type": "unsubscribe", "channel": channel})
        await outsider.close()
    await admin_viewer.close()


async def frames_until_dropped(ws: ClientConnection, channel: str) -> list[Frame]:
    frames: list[Frame] = []
    async with asyncio.timeout(5):
        while (frame := await recv(ws))["type"] != "error":
            frames.append(frame)
    assert (frame["code"], frame["channel"]) == ("forbidden", channel)
    return frames


async def frames_until_pong(ws: ClientConnection) -> list[Frame]:
    await send(ws, {"type": "ping"})
    frames: list[Frame] = []
    async with asyncio.timeout(5):
        while (frame := await recv(ws)) != {"type": "pong"}:
            frames.append(frame)
    return frames
