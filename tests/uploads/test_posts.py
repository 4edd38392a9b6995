"""Attachments follow their post: who may read the post may fetch its files, on both stores."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.conftest import Member, make_member
from tests.moderation.support import (
    board_staff,
    decide,
    events,
    new_board,
    new_thread,
    queue,
    reply,
)
from tests.uploads import samples
from tests.uploads.support import uploaded


async def status_for(client: httpx2.AsyncClient, url: str, member: Member | None) -> int:
    headers = member.headers if member else {}
    return (await client.get(url, headers=headers)).status_code


async def _posted(
    client: httpx2.AsyncClient, admin: Member, alice: Member, **board: Any
) -> tuple[dict[str, Any], dict[str, Any], Member]:
    """A board (with a moderator), a thread, and alice's reply carrying a photo and a PDF."""
    await new_board(client, admin, **board)
    moderator = await board_staff(client, admin, "kankei", username="mod-ito")
    thread = await new_thread(client, moderator)
    photo = await uploaded(client, alice, "現地.jpg", samples.image("JPEG"))
    report = await uploaded(client, alice, "報告.pdf", samples.PDF)
    post = await reply(
        client,
        alice,
        thread["thread"]["id"],
        "写真と報告書です",
        attachments=[photo["id"], report["id"]],
    )
    return post, thread, moderator


async def test_a_published_posts_files_are_everyones_and_ride_on_its_resource(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    post, thread, _moderator = await _posted(client, admin, alice)
    assert post["status"] == "published"
    names = [item["name"] for item in post["attachments"]]
    assert names == ["現地.jpg", "報告.pdf"]
    for item in post["attachments"]:
        assert await status_for(client, item["url"], None) == 200
        assert await status_for(client, item["url"], bob) == 200
    listed = await client.get(f"/api/v1/threads/{thread['thread']['id']}/posts")
    assert listed.json()["items"][-1]["attachments"] == post["attachments"]
    # Live viewers get them in the event, the same as a fresh fetch.
    created = [
        data
        for name, data in await events(f"thread:{thread['thread']['id']}")
        if name == "post.created"
    ]
    assert created[-1]["attachments"] == post["attachments"]


async def test_a_pending_posts_files_reach_its_author_and_moderators_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    post, _thread, moderator = await _posted(client, admin, alice, moderation="premoderated")
    assert post["status"] == "pending"
    url = post["attachments"][1]["url"]
    assert await status_for(client, url, None) == 404
    assert await status_for(client, url, bob) == 404
    assert await status_for(client, url, alice) == 200
    assert await status_for(client, url, moderator) == 200
    items = await queue(client, moderator)
    assert [a["name"] for a in items[-1]["post"]["attachments"]] == ["現地.jpg", "報告.pdf"]


async def test_a_rejected_posts_files_are_gone_from_everyone_but_author_and_moderators(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    post, _thread, moderator = await _posted(client, admin, alice, moderation="premoderated")
    item = (await queue(client, moderator))[-1]
    assert (await decide(client, moderator, item, "reject")).status_code == 200
    url = post["attachments"][0]["thumbnail_url"]
    assert await status_for(client, url, bob) == 404
    assert await status_for(client, url, moderator) == 200


async def test_a_deleted_posts_files_are_served_to_no_one(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    post, _thread, moderator = await _posted(client, admin, alice)
    deleted = await client.delete(f"/api/v1/posts/{post['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    for member in (None, alice, moderator, admin):
        assert await status_for(client, post["attachments"][0]["url"], member) == 404


async def test_a_private_boards_files_reach_its_members_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin, private=True)
    response = await client.put(
        "/api/v1/boards/kankei/moderators/alice", json={"role": "member"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    thread = await new_thread(client, alice)
    photo = await uploaded(client, alice, "a.png", samples.image("PNG"))
    post = await reply(client, alice, thread["thread"]["id"], "内部資料", attachments=[photo["id"]])
    url = post["attachments"][0]["url"]
    assert await status_for(client, url, None) == 404
    assert await status_for(client, url, bob) == 404
    assert await status_for(client, url, alice) == 200
    assert await status_for(client, url, admin) == 200


async def test_a_file_on_no_post_is_its_uploaders_alone(
    client: httpx2.AsyncClient, alice: Member, bob: Member
) -> None:
    body = await uploaded(client, alice, "draft.pdf", samples.PDF)
    assert await status_for(client, body["url"], alice) == 200
    assert await status_for(client, body["url"], bob) == 404
    assert await status_for(client, body["url"], None) == 404


async def test_only_ones_own_unused_files_can_be_attached(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    alices = await uploaded(client, alice, "a.pdf", samples.PDF)
    taken = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "他人のファイル", "attachments": [alices["id"]]},
        headers=bob.headers,
    )
    assert taken.status_code == 422
    assert taken.json()["error"]["code"] == "unknown_attachment"
    await reply(client, alice, thread_id, "一度目", attachments=[alices["id"]])
    again = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "二度目", "attachments": [alices["id"]]},
        headers=alice.headers,
    )
    assert again.status_code == 422
    missing = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "ない", "attachments": [99999]},
        headers=alice.headers,
    )
    assert missing.json()["error"]["code"] == "unknown_attachment"


async def test_a_post_takes_at_most_the_per_post_limit(
    client: httpx2.AsyncClient, admin: Member, app: Any
) -> None:
    await new_board(client, admin)
    carol = await make_member(username="carol")
    thread_id = (await new_thread(client, carol))["thread"]["id"]
    limit = app.state.upload_limits.per_post
    ids = [(await uploaded(client, carol, f"{n}.pdf", samples.PDF))["id"] for n in range(limit + 1)]
    response = await client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "多すぎる", "attachments": ids},
        headers=carol.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "too_many_attachments"


async def test_an_edit_replaces_the_attachments_and_tells_viewers(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    post, thread, _moderator = await _posted(client, admin, alice)
    extra = await uploaded(client, alice, "追加.pdf", samples.PDF)
    keep = post["attachments"][0]
    edited = await client.patch(
        f"/api/v1/posts/{post['id']}",
        json={"body": post["body"], "attachments": [extra["id"], keep["id"]]},
        headers=alice.headers,
    )
    assert edited.status_code == 200, edited.text
    assert [a["name"] for a in edited.json()["attachments"]] == ["追加.pdf", "現地.jpg"]
    # The file taken off is an orphan again: only its uploader may fetch it.
    dropped = post["attachments"][1]["url"]
    assert await status_for(client, dropped, bob) == 404
    assert await status_for(client, dropped, alice) == 200
    updated = [
        d for n, d in await events(f"thread:{thread['thread']['id']}") if n == "post.updated"
    ]
    assert [a["name"] for a in updated[-1]["attachments"]] == ["追加.pdf", "現地.jpg"]
    # Someone else's post cannot be given one's files.
    bobs = await uploaded(client, bob, "b.pdf", samples.PDF)
    refused = await client.patch(
        f"/api/v1/posts/{post['id']}",
        json={"body": post["body"], "attachments": [bobs["id"]]},
        headers=bob.headers,
    )
    assert refused.status_code == 403


async def test_a_new_thread_can_start_with_attachments(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    photo = await uploaded(client, alice, "cover.webp", samples.image("WEBP"))
    response = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "事例", "body": "写真つき", "attachments": [photo["id"]]},
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["post"]["attachments"][0]["kind"] == "image"
