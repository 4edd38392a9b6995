"""Editing and deleting one's own post from the thread page, and the edit history (page and
API) with each change as an escaped diff."""

from __future__ import annotations

import httpx2

from forum import revisions
from forum.models import Post, PostRevision, PostStatus
from tests.conftest import Member
from tests.forum.support import log_in, new_board, new_thread, token_in


async def first_post_id(thread_id: int) -> int:
    return (await Post.filter(thread_id=thread_id).order_by("id").first()).id  # type: ignore[union-attr]


async def test_ones_own_post_has_edit_and_delete_buttons_and_others_posts_do_not(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    post_id = await first_post_id(thread["id"])
    edit = f'href="/t/{thread["id"]}/posts/{post_id}/edit"'
    await log_in(client, "alice")
    assert edit in (await client.get(f"/t/{thread['id']}")).text
    await client.post("/logout", data={"csrf_token": token_in(await client.get("/"))})
    await log_in(client, "bob")
    page = (await client.get(f"/t/{thread['id']}")).text
    assert edit not in page
    assert (await client.get(f"/t/{thread['id']}/posts/{post_id}/edit")).status_code == 403


async def test_an_edit_from_the_page_keeps_the_old_body_as_a_revision_shown_as_a_diff(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice, body="一行目\n<b>古い</b>二行目")
    post_id = await first_post_id(thread["id"])
    await log_in(client, "alice")
    form = await client.get(f"/t/{thread['id']}/posts/{post_id}/edit")
    assert form.status_code == 200 and "&lt;b&gt;古い&lt;/b&gt;二行目" in form.text
    saved = await client.post(
        f"/t/{thread['id']}/posts/{post_id}/edit",
        data={"csrf_token": token_in(form), "body": "一行目\n新しい<i>二行目</i>"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/t/{thread['id']}#post-{post_id}"
    assert (await Post.get(id=post_id)).body == "一行目\n新しい<i>二行目</i>"
    assert [r.body for r in await PostRevision.filter(post_id=post_id)] == [
        "一行目\n<b>古い</b>二行目"
    ]
    page = (await client.get(f"/t/{thread['id']}")).text
    assert f'<a class="edited" href="/posts/{post_id}/revisions">編集済み' in page
    history = (await client.get(f"/posts/{post_id}/revisions")).text
    assert "1回目の編集" in history
    assert (
        '<span class="diff-same"><span class="diff-mark" aria-hidden="true"> </span>一行目'
        in history
    )
    assert "<del>&lt;b&gt;古い&lt;/b&gt;二行目</del>" in history
    assert "<ins>新しい&lt;i&gt;二行目&lt;/i&gt;</ins>" in history
    assert "<b>古い</b>" not in history
    # One line per span, nothing between them: a newline would be a blank line in <pre>.
    assert '</del></span><span class="diff-added">' in history


async def test_the_revisions_api_answers_as_reading_the_post_does(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice, body="最初の本文")
    post_id = await first_post_id(thread["id"])
    for body in ("二度目の本文", "三度目の本文"):
        edited = await client.patch(
            f"/api/v1/posts/{post_id}", json={"body": body}, headers=alice.headers
        )
        assert edited.status_code == 200, edited.text
    listed = await client.get(f"/api/v1/posts/{post_id}/revisions")
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(i["number"], i["before"], i["after"]) for i in items] == [
        (2, "二度目の本文", "三度目の本文"),
        (1, "最初の本文", "二度目の本文"),
    ]
    assert items[0]["editor"]["username"] == "alice"
    deleted = await client.delete(f"/api/v1/posts/{post_id}", headers=alice.headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/api/v1/posts/{post_id}/revisions", headers=bob.headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert (await client.get(f"/posts/{post_id}/revisions")).status_code == 404


async def test_deleting_from_the_edit_page_takes_the_post_out_of_the_thread(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, admin)
    reply = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": "消す返信"}, headers=alice.headers
    )
    post_id = reply.json()["id"]
    await log_in(client, "alice")
    form = await client.get(f"/t/{thread['id']}/posts/{post_id}/edit")
    assert 'id="delete"' in form.text
    done = await client.post(
        f"/t/{thread['id']}/posts/{post_id}/delete", data={"csrf_token": token_in(form)}
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/t/{thread['id']}")
    assert (await Post.get(id=post_id)).status is PostStatus.DELETED
    assert "消す返信" not in (await client.get(f"/t/{thread['id']}")).text


async def test_a_post_of_another_thread_cannot_be_edited_through_this_one(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    one = await new_thread(client, alice, body="一つ目の本文")
    two = await new_thread(client, alice, title="二つ目", body="二つ目の本文")
    await log_in(client, "alice")
    other = await first_post_id(two["id"])
    assert (await client.get(f"/t/{one['id']}/posts/{other}/edit")).status_code == 404


def test_a_diff_marks_removed_and_added_lines_and_keeps_the_rest() -> None:
    lines = revisions.diff_lines("a\nb\nc", "a\nB\nc")
    assert [(d.op, d.text) for d in lines] == [
        ("same", "a"),
        ("removed", "b"),
        ("added", "B"),
        ("same", "c"),
    ]
