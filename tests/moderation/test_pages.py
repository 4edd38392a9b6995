"""The moderation pages work without JavaScript: forms with CSRF tokens, Japanese first."""

from __future__ import annotations

import html
import re

import httpx2
import pytest

from forum import accounts
from forum.models import Post, PostStatus, Thread, User
from moderation.models import Flag, RejectTemplate, WatchedWord
from tests.conftest import Member
from tests.moderation.support import (
    board_staff,
    decide,
    new_board,
    new_thread,
    queue,
    reply,
    site_moderator,
)

pytestmark = pytest.mark.asyncio


async def sign_in(client: httpx2.AsyncClient, member: Member) -> str:
    """A browser session for the member; returns its CSRF token."""
    raw, session = await accounts.start_session(member.user, days=1)
    client.cookies.set("koryu_session", raw)
    return str(session.csrf_token)


def text_of(page: httpx2.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.text))


async def held(client: httpx2.AsyncClient, admin: Member, author: Member) -> tuple[int, int]:
    await new_board(client, admin, moderation="premoderated")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    post = await reply(client, author, thread_id, "**承認待ち**の返信です")
    return thread_id, post["id"]


async def test_the_queue_page_shows_items_size_age_chart_and_keyboard_forms(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await held(client, admin, alice)
    await sign_in(client, admin)
    page = await client.get("/moderation")
    assert page.status_code == 200
    text = text_of(page)
    assert "確認待ちの投稿" in text
    assert "1件" in text and "最も長い待ち時間" in text
    assert "<svg" in page.text and 'class="chart-bar chart-bar-created"' in page.text
    assert "<strong>承認待ち</strong>" in page.text
    assert "事前承認の掲示板・スレッド" in text
    for key in ("c", "a"):
        assert f'data-key="{key}"' in page.text
    assert 'details class="mod-panel" data-key="e"' in page.text
    assert 'details class="mod-panel" data-key="r"' in page.text
    assert "スパムと判断しました" in text
    assert 'data-channels="moderation:kankei"' in page.text
    assert 'src="/static/moderation.js"' in page.text
    nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"])
    assert nonce and f'nonce="{nonce.group(1)}"' in page.text
    assert 'style="' not in page.text


async def test_the_queue_page_is_for_moderators_only(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    anonymous = await client.get("/moderation")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    await sign_in(client, alice)
    assert (await client.get("/moderation")).status_code == 403


async def test_approving_through_the_form_publishes_and_redirects_with_a_notice(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post_id = await held(client, admin, alice)
    [item] = await queue(client, admin)
    token = await sign_in(client, admin)
    response = await client.post(
        f"/moderation/items/{item['id']}/approve",
        data={"csrf_token": token, "version": str(item["version"]), "next": "/moderation"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/moderation?notice=approved"
    assert (await Post.get(id=post_id)).status is PostStatus.PUBLISHED
    page = await client.get(response.headers["location"])
    assert "投稿は公開中です" in text_of(page)


async def test_a_form_without_the_csrf_token_is_refused(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post_id = await held(client, admin, alice)
    [item] = await queue(client, admin)
    await sign_in(client, admin)
    response = await client.post(
        f"/moderation/items/{item['id']}/approve", data={"version": str(item["version"])}
    )
    assert response.status_code == 403
    assert (await Post.get(id=post_id)).status is PostStatus.PENDING


async def test_a_stale_form_comes_back_with_a_409_notice_and_nothing_changes(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    _thread_id, post_id = await held(client, admin, alice)
    [item] = await queue(client, admin)
    other = await site_moderator()
    assert (await decide(client, other, item, "claim")).status_code == 200
    token = await sign_in(client, admin)
    response = await client.post(
        f"/moderation/items/{item['id']}/reject",
        data={"csrf_token": token, "version": "1", "template": "スパムと判断しました"},
    )
    assert response.status_code == 303
    assert "notice=stale_version" in response.headers["location"]
    page = await client.get(response.headers["location"].split("#")[0])
    assert "ほかのモデレーターが先に判断しました" in text_of(page)
    assert (await Post.get(id=post_id)).status is PostStatus.PENDING


async def test_reject_and_revise_forms_send_the_template_and_free_text(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, moderation="premoderated")
    thread_id = (await new_thread(client, admin))["thread"]["id"]
    first = await reply(client, alice, thread_id, "一つ目")
    second = await reply(client, alice, thread_id, "二つ目")
    items = {i["post"]["id"]: i for i in await queue(client, admin)}
    token = await sign_in(client, admin)
    for post, action in ((first, "reject"), (second, "revise")):
        item = items[post["id"]]
        response = await client.post(
            f"/moderation/items/{item['id']}/{action}",
            data={
                "csrf_token": token,
                "version": "1",
                "template": "個人情報が含まれています",
                "reason": "電話番号を消してください",
            },
        )
        assert response.status_code == 303
    notices = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    reasons = {n["kind"]: n["reason"] for n in notices["items"]}
    expected = "個人情報が含まれています\n電話番号を消してください"
    assert reasons == {"post_rejected": expected, "revision_requested": expected}


async def test_the_author_revises_and_resubmits_through_the_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    thread_id, post_id = await held(client, admin, alice)
    [item] = await queue(client, admin)
    await decide(client, admin, item, "revise", reason="出典を書いてください")
    await sign_in(client, bob)
    assert (await client.get(f"/moderation/posts/{post_id}/revise")).status_code == 404
    token = await sign_in(client, alice)
    page = await client.get(f"/moderation/posts/{post_id}/revise")
    assert page.status_code == 200
    assert "出典を書いてください" in text_of(page)
    empty = await client.post(
        f"/moderation/posts/{post_id}/revise", data={"csrf_token": token, "body": ""}
    )
    assert empty.status_code == 422
    response = await client.post(
        f"/moderation/posts/{post_id}/revise",
        data={"csrf_token": token, "body": "出典: 総務省の資料"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/t/{thread_id}?posted=pending#post-{post_id}"
    [again] = await queue(client, admin)
    assert again["post"]["body"] == "出典: 総務省の資料"


async def test_anyone_signed_in_flags_a_post_through_the_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    post_id = (await new_thread(client, alice))["post"]["id"]
    token = await sign_in(client, bob)
    page = await client.get(f"/moderation/posts/{post_id}/flag")
    assert page.status_code == 200 and "投稿を通報" in text_of(page)
    response = await client.post(
        f"/moderation/posts/{post_id}/flag",
        data={"csrf_token": token, "reason": "spam", "note": "宣伝です"},
    )
    assert response.status_code == 303
    done = await client.get(response.headers["location"])
    assert "通報を受け付けました" in text_of(done)
    again = await client.post(
        f"/moderation/posts/{post_id}/flag", data={"csrf_token": token, "reason": "spam"}
    )
    assert again.status_code == 409
    assert await Flag.filter(post_id=post_id).count() == 1


async def test_admins_edit_rules_words_and_templates_on_the_rules_page(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    moderator = await site_moderator()
    await sign_in(client, moderator)
    assert (await client.get("/moderation/rules")).status_code == 403
    token = await sign_in(client, admin)
    page = await client.get("/moderation/rules")
    assert page.status_code == 200 and "自動保留ルール" in text_of(page)
    fields = {
        "csrf_token": token,
        "first_posts": "2",
        "link_account_days": "7",
        "duplicate_minutes": "30",
        "burst_posts": "4",
        "burst_seconds": "60",
        "flag_threshold": "2",
    }
    assert (await client.post("/moderation/rules", data=fields)).status_code == 303
    bad = await client.post("/moderation/rules", data={**fields, "flag_threshold": "x"})
    assert bad.status_code == 422
    rules = (await client.get("/api/v1/moderation/rules", headers=admin.headers)).json()
    assert rules["settings"]["link_account_days"] == 7
    added = await client.post(
        "/moderation/rules/words", data={"csrf_token": token, "word": "激安", "action": "block"}
    )
    assert added.status_code == 303
    word = await WatchedWord.get(word="激安")
    removed = await client.post(
        f"/moderation/rules/words/{word.id}/delete", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert await WatchedWord.all().count() == 0
    first = await RejectTemplate.all().order_by("position").first()
    assert first is not None
    await client.post(
        f"/moderation/rules/templates/{first.id}",
        data={"csrf_token": token, "text": "宣伝目的と判断しました"},
    )
    assert (await RejectTemplate.get(id=first.id)).text == "宣伝目的と判断しました"
    await client.post(
        f"/moderation/rules/templates/{first.id}",
        data={"csrf_token": token, "text": "", "delete": "1"},
    )
    assert not await RejectTemplate.filter(id=first.id).exists()


async def test_the_log_user_and_thread_tool_pages_render_and_act(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await new_board(client, admin, "board-b")
    thread_id = (await new_thread(client, alice))["thread"]["id"]
    token = await sign_in(client, admin)
    tools = await client.get(f"/moderation/threads/{thread_id}")
    assert tools.status_code == 200 and "スレッドの管理" in text_of(tools)
    locked = await client.post(
        f"/moderation/threads/{thread_id}",
        data={"csrf_token": token, "action": "lock", "reason": "終了"},
    )
    assert locked.status_code == 303
    assert (await Thread.get(id=thread_id)).locked
    moved = await client.post(
        f"/moderation/threads/{thread_id}",
        data={"csrf_token": token, "action": "move", "board": "board-b"},
    )
    assert moved.status_code == 303
    person = await client.get("/moderation/users/alice")
    assert person.status_code == 200
    silenced = await client.post(
        "/moderation/users/alice",
        data={"csrf_token": token, "kind": "silence", "hours": "24", "reason": "荒らし"},
    )
    assert silenced.status_code == 303
    assert (await User.get(id=alice.user.id)).silenced_until is not None
    log = await client.get("/moderation/log")
    text = text_of(log)
    assert "をロックしました。" in text and "へ移動しました。" in text
    assert "@aliceさんを" in text and "まで発言停止にしました。" in text
    for raw in ("silenced_until", "locked", "None", "True", "False", "+00:00"):
        assert raw not in text, raw


async def test_a_board_moderator_sees_only_their_boards_on_the_queue_page(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin, "board-a", moderation="premoderated")
    await new_board(client, admin, "board-b", moderation="premoderated")
    await new_thread(client, alice, "board-a", title="Aの話題")
    await new_thread(client, alice, "board-b", title="Bの話題")
    moderator = await board_staff(client, admin, "board-a", username="mod-a")
    await sign_in(client, moderator)
    text = text_of(await client.get("/moderation"))
    assert "Aの話題" in text and "Bの話題" not in text


async def test_the_keyboard_script_is_served_as_a_module(client: httpx2.AsyncClient) -> None:
    response = await client.get("/static/moderation.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert 'case "j"' in response.text or "j: () => move(1)" in response.text


async def test_the_queue_page_speaks_english_when_asked(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await held(client, admin, alice)
    await sign_in(client, admin)
    client.cookies.set("koryu_lang", "en")
    text = text_of(await client.get("/moderation"))
    assert (
        "Moderation queue" in text
        and "1 item" in text
        and "Don't publish, or ask for a revision" in text
    )
