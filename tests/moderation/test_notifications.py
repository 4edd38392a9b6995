"""Authors are told what became of their post: approved, rejected with the reason, sent back."""

from __future__ import annotations

import httpx2
import pytest

from forum.models import Notification
from tests.conftest import Member, make_member
from tests.moderation.support import decide, events, new_board, new_thread, queue, reply

pytestmark = pytest.mark.asyncio


async def held(client: httpx2.AsyncClient, admin: Member, author: Member, body: str) -> int:
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    return int((await reply(client, author, thread_id, body))["id"])


async def notices(client: httpx2.AsyncClient, member: Member, **params: str) -> dict[str, object]:
    response = await client.get("/api/v1/notifications", params=params, headers=member.headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_the_author_is_told_of_approval_rejection_with_reason_and_revision(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    first = await held(client, admin, alice, "一つ目")
    second = await held(client, admin, alice, "二つ目")
    third = await held(client, admin, alice, "三つ目")
    items = {i["post"]["id"]: i for i in await queue(client, admin)}
    await decide(client, admin, items[first], "approve")
    await decide(client, admin, items[second], "reject", reason="個人情報が含まれています")
    await decide(client, admin, items[third], "revise", reason="出典を書いてください")
    body = await notices(client, alice)
    got = [(n["kind"], n["post_id"], n["reason"]) for n in body["items"]]  # type: ignore[attr-defined]
    assert got == [
        ("revision_requested", third, "出典を書いてください"),
        ("post_rejected", second, "個人情報が含まれています"),
        ("post_approved", first, ""),
    ]
    assert body["unread"] == 3
    urls = [n["url"] for n in body["items"]]  # type: ignore[attr-defined]
    assert urls[0] == f"/moderation/posts/{third}/revise"
    assert urls[2].endswith(f"#post-{first}")
    messages = [n["message"] for n in body["items"]]  # type: ignore[attr-defined]
    assert "修正" in messages[0] and "公開されました" in messages[2]
    user_events = [name for name, _ in await events(f"user:{alice.user.id}")]
    assert user_events.count("notification.created") == 3


async def test_notices_are_private_marked_read_and_paged(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    for body in ("a", "b", "c"):
        await held(client, admin, alice, body)
    for item in await queue(client, admin):
        await decide(client, admin, item, "approve")
    assert (await notices(client, bob))["items"] == []
    page = await notices(client, alice, limit="2")
    assert len(page["items"]) == 2  # type: ignore[arg-type]
    rest = await notices(client, alice, limit="2", cursor=str(page["next_cursor"]))
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None  # type: ignore[arg-type]
    newest = page["items"][0]["id"]  # type: ignore[index]
    one = await client.post(
        "/api/v1/notifications/read", json={"ids": [newest]}, headers=alice.headers
    )
    assert one.json() == {"read": 1, "unread": 2}
    unread = await notices(client, alice, unread="1")
    assert newest not in [n["id"] for n in unread["items"]]  # type: ignore[attr-defined]
    others = await client.post(
        "/api/v1/notifications/read", json={"ids": [newest + 1]}, headers=bob.headers
    )
    assert others.json() == {"read": 0, "unread": 0}
    everything = await client.post("/api/v1/notifications/read", headers=alice.headers)
    assert everything.json() == {"read": 2, "unread": 0}
    bad = await client.post(
        "/api/v1/notifications/read", json={"ids": ["x"]}, headers=alice.headers
    )
    assert bad.status_code == 422
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert await Notification.filter(user_id=alice.user.id, read_at__isnull=True).count() == 0


async def test_a_flagged_post_that_is_kept_sends_no_notice_but_a_removal_does(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    post_id = (await new_thread(client, alice))["post"]["id"]
    await client.post(
        f"/api/v1/posts/{post_id}/flags", json={"reason": "spam"}, headers=bob.headers
    )
    [item] = await queue(client, admin)
    await decide(client, admin, item, "approve")
    assert (await notices(client, alice))["items"] == []
    carol = await make_member(username="carol")
    await client.post(
        f"/api/v1/posts/{post_id}/flags", json={"reason": "other"}, headers=carol.headers
    )
    [again] = await queue(client, admin)
    await decide(client, admin, again, "reject", reason="話題がスレッドと関係ありません")
    items: list[dict[str, str]] = (await notices(client, alice))["items"]  # type: ignore[assignment]
    [notice] = items
    assert (notice["kind"], notice["reason"]) == (
        "post_rejected",
        "話題がスレッドと関係ありません",
    )


async def test_a_flagged_post_taken_down_tells_its_author_it_was_unpublished_in_plain_text(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, moderation="open")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    post = await reply(client, alice, thread_id, "**太字**と`コード`の投稿")
    flagged = await client.post(
        f"/api/v1/posts/{post['id']}/flags", json={"reason": "spam"}, headers=bob.headers
    )
    assert flagged.status_code == 201
    [item] = await queue(client, admin)
    await decide(client, admin, item, "reject", reason="宣伝と判断しました")
    items: list[dict[str, str]] = (await notices(client, alice))["items"]  # type: ignore[assignment]
    [notice] = items
    assert notice["kind"] == "post_rejected"
    assert (
        "非公開になりました" in notice["message"]
        and "公開されませんでした" not in notice["message"]
    )
    assert notice["excerpt"] == "太字とコードの投稿"
