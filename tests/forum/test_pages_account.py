"""A person's own pages: settings and profile, language, notices, and the header's links."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
import pytest

from forum import accounts, outbox
from forum.errors import ValidationFailed
from forum.models import Notification, NotificationKind, Post, Role, User
from forum.web.templating import JST
from tests.conftest import Member, make_member
from tests.forum.support import h1_of, log_in, new_board, new_thread, token_for, token_in

# --- update_profile -------------------------------------------------------------------------


async def test_update_profile_cleans_names_keeps_bio_lines_and_leaves_unnamed_fields_alone(
    alice: Member,
) -> None:
    user = await accounts.update_profile(
        alice.user,
        display_name="  ＡＬＩＣＥ\u200b 佐藤 ",
        bio="一行目\r\n二行目\u0007",
        locale="en",
    )
    saved = await User.get(id=user.id)
    assert saved.display_name == "ALICE 佐藤"
    assert saved.bio == "一行目\n二行目"
    assert saved.locale == "en"
    assert saved.affiliation == "municipality" and saved.organisation == ""


async def test_update_profile_refuses_bad_values_and_changes_nothing(alice: Member) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await accounts.update_profile(
            alice.user,
            display_name="",
            affiliation="government",
            organisation="団" * 101,
            expert_field="分" * 101,
            bio="字" * 1001,
            locale="fr",
        )
    assert set(refused.value.fields) == {
        "display_name",
        "affiliation",
        "organisation",
        "expert_field",
        "bio",
        "locale",
    }
    saved = await User.get(id=alice.user.id)
    assert saved.display_name == "alice さん" and saved.locale == ""
    assert (await accounts.update_profile(alice.user, expert_field="分" * 100)).expert_field


# --- the settings page ------------------------------------------------------------------------


async def test_the_settings_page_asks_visitors_to_log_in(client: httpx2.AsyncClient) -> None:
    response = await client.get("/settings")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/settings"


async def test_a_participant_edits_their_profile_and_language_through_the_settings_form(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    page = await client.get("/settings")
    assert h1_of(page) == "プロフィールと設定"
    assert 'name="expert_field"' not in page.text
    response = await client.post(
        "/settings",
        data={
            "display_name": "佐藤 ありす",
            "affiliation": "intermediary",
            "organisation": "NPO法人 つなぐ",
            "bio": "移住相談をしています。\n週末は畑にいます。",
            "locale": "en",
            "expert_field": "勝手な専門分野",
            "csrf_token": token_in(page),
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings?done=saved"
    assert client.cookies["koryu_lang"] == "en"
    user = await User.get(id=alice.user.id)
    assert (user.display_name, user.affiliation, user.organisation) == (
        "佐藤 ありす",
        "intermediary",
        "NPO法人 つなぐ",
    )
    assert user.bio == "移住相談をしています。\n週末は畑にいます。"
    assert user.locale == "en"
    assert user.expert_field == ""  # only experts have a field
    saved = await client.get("/settings?done=saved", headers={"Accept-Language": "ja"})
    assert h1_of(saved) == "Profile and settings"
    assert "Your settings have been saved." in saved.text


async def test_an_expert_sets_their_field_and_it_shows_beside_their_posts(
    client: httpx2.AsyncClient, admin: Member
) -> None:
    expert = await make_member(username="prof-ito", role=Role.EXPERT, display_name="伊藤 教授")
    await new_board(client, admin)
    thread = await new_thread(client, expert)
    await log_in(client, "prof-ito")
    page = await client.get("/settings")
    assert 'name="expert_field"' in page.text
    response = await client.post(
        "/settings",
        data={
            "display_name": "伊藤 教授",
            "affiliation": "other",
            "expert_field": "観光まちづくり",
            "locale": "ja",
            "csrf_token": token_in(page),
        },
    )
    assert response.status_code == 303
    assert (await User.get(id=expert.user.id)).expert_field == "観光まちづくり"
    post_page = await client.get(f"/t/{thread['id']}")
    assert '<span class="expert-field">観光まちづくり</span>' in post_page.text


async def test_settings_errors_rerender_with_422_keep_the_input_and_save_nothing(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    token = await token_for(client, "/settings")
    response = await client.post(
        "/settings",
        data={
            "display_name": "",
            "affiliation": "business",
            "organisation": "<b>株式会社</b>",
            "locale": "ja",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "表示名は1〜50文字で入力してください。" in response.text
    assert 'value="&lt;b&gt;株式会社&lt;/b&gt;"' in response.text
    assert 'value="business" selected' in response.text
    user = await User.get(id=alice.user.id)
    assert user.display_name == "alice さん" and user.affiliation == "municipality"


async def test_the_settings_form_needs_the_csrf_token(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    for bad in ({}, {"csrf_token": "forged"}):
        response = await client.post(
            "/settings", data={"display_name": "乗っ取り", "affiliation": "other", **bad}
        )
        assert response.status_code == 403
    assert (await User.get(id=alice.user.id)).display_name == "alice さん"


async def test_the_language_switch_saves_the_language_of_a_signed_in_user(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    await log_in(client, "alice")
    token = await token_for(client, "/boards")
    response = await client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 303
    assert (await User.get(id=alice.user.id)).locale == "en"
    client.cookies.delete("koryu_lang")  # another browser: the saved setting still wins
    assert h1_of(await client.get("/boards", headers={"Accept-Language": "ja"})) == "Boards"
    await client.post("/lang", data={"lang": "xx", "next": "/", "csrf_token": token})
    assert (await User.get(id=alice.user.id)).locale == "en"


async def test_own_profile_links_to_the_settings_page_and_others_do_not(
    client: httpx2.AsyncClient, alice: Member, bob: Member
) -> None:
    await log_in(client, "alice")
    assert 'href="/settings">プロフィールを編集' in (await client.get("/u/alice")).text
    assert "プロフィールを編集" not in (await client.get("/u/bob")).text


# --- administration ---------------------------------------------------------------------------


async def test_an_admin_makes_a_user_an_expert_with_their_field_in_one_form(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    response = await client.post(
        "/admin/users/role",
        data={
            "username": "alice",
            "role": "expert",
            "expert_field": "地域経済",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    user = await User.get(id=alice.user.id)
    assert user.role is Role.EXPERT and user.expert_field == "地域経済"
    response = await client.post(
        "/admin/users/role",
        data={"username": "alice", "role": "moderator", "expert_field": "", "csrf_token": token},
    )
    assert response.status_code == 303
    user = await User.get(id=alice.user.id)
    assert user.role is Role.MODERATOR and user.expert_field == "地域経済"


async def test_an_over_long_expert_field_is_422_and_leaves_the_role_unchanged(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await log_in(client, "admin-sato")
    token = await token_for(client, "/admin")
    response = await client.post(
        "/admin/users/role",
        data={
            "username": "alice",
            "role": "expert",
            "expert_field": "分" * 101,
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "専門分野は100文字以内で入力してください。" in response.text
    user = await User.get(id=alice.user.id)
    assert user.role is Role.PARTICIPANT and user.expert_field == ""


# --- the header -------------------------------------------------------------------------------


async def test_the_moderation_link_shows_for_board_staff_and_site_moderators_only(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    await make_member(username="expert-ueda")
    await make_member(username="member-oda")
    await make_member(username="mod-kato", role=Role.MODERATOR)
    for name, role in (("expert-ueda", "expert"), ("member-oda", "member")):
        response = await client.put(
            f"/api/v1/boards/kankei/moderators/{name}", json={"role": role}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
    link = 'href="/moderation"'
    assert link not in (await client.get("/")).text
    for username, expected in (
        ("alice", False),
        ("member-oda", False),
        ("expert-ueda", True),
        ("mod-kato", True),
        ("admin-sato", True),
    ):
        client.cookies.clear()
        await log_in(client, username)
        page = await client.get("/boards")
        assert (link in page.text) is expected, username
        assert (">モデレーション</a>" in page.text) is expected, username


async def notify(user: User, post: Post, kind: NotificationKind, **data: str) -> Notification:
    return await Notification.create(
        user_id=user.id,
        kind=kind,
        post_id=post.id,
        data={"thread_id": post.thread_id, "thread_title": "ふるさと納税の活用", **data},  # type: ignore[attr-defined]
    )


async def test_notices_are_listed_with_the_unread_ones_marked_and_counted_in_the_header(
    client: httpx2.AsyncClient, admin: Member, alice: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    post = await Post.get(thread_id=thread["id"])
    old = await notify(alice.user, post, NotificationKind.POST_APPROVED, url=f"/t/{thread['id']}")
    await Notification.filter(id=old.id).update(read_at=post.created_at)
    await notify(alice.user, post, NotificationKind.POST_REJECTED, reason="個人名が含まれています")
    await notify(
        alice.user,
        post,
        NotificationKind.REVISION_REQUESTED,
        url=f"/moderation/posts/{post.id}/revise",
    )
    await log_in(client, "alice")
    home = await client.get("/")
    assert '<span class="nav-count" aria-hidden="true">2</span>' in home.text
    assert "（未読2件）" in home.text

    page = await client.get("/notifications")
    assert h1_of(page) == "お知らせ"
    assert page.text.count('class="notice-item notice-unread"') == 2
    assert page.text.count('class="notice-item"') == 1
    assert "「ふるさと納税の活用」への投稿は公開されませんでした。" in page.text
    assert "理由：個人名が含まれています" in page.text
    assert f'href="/moderation/posts/{post.id}/revise"' in page.text
    assert "未読のお知らせが2件あります。" in page.text

    response = await client.post("/notifications/read", data={"csrf_token": token_in(page)})
    assert response.status_code == 303
    assert response.headers["location"] == "/notifications?done=read"
    assert not await Notification.filter(user_id=alice.user.id, read_at__isnull=True).exists()
    page = await client.get("/notifications?done=read")
    assert "すべてのお知らせを既読にしました。" in page.text
    assert "notice-unread" not in page.text
    assert "nav-count" not in page.text
    assert "すべて既読にする" not in page.text


async def test_marking_notices_read_needs_the_csrf_token_and_touches_only_ones_own(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    post = await Post.get(thread_id=thread["id"])
    await notify(alice.user, post, NotificationKind.POST_APPROVED)
    await notify(bob.user, post, NotificationKind.POST_APPROVED)
    await log_in(client, "alice")
    assert (await client.post("/notifications/read", data={})).status_code == 403
    assert await Notification.filter(read_at__isnull=True).count() == 2
    token = await token_for(client, "/notifications")
    await client.post("/notifications/read", data={"csrf_token": token})
    assert await Notification.filter(user_id=bob.user.id, read_at__isnull=True).count() == 1
    assert not await Notification.filter(user_id=alice.user.id, read_at__isnull=True).exists()


async def test_an_empty_notices_page_says_so_and_visitors_are_asked_to_log_in(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    response = await client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/notifications"
    await log_in(client, "alice")
    page = await client.get("/notifications")
    assert "お知らせはまだありません。" in page.text
    assert "すべて既読にする" not in page.text
    assert "nav-count" not in page.text
    english = await client.get("/notifications", headers={"Accept-Language": "en"})
    assert "No notifications yet." in english.text


async def test_notices_are_grouped_by_day_and_one_can_be_marked_read_on_its_own(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    post = await Post.get(thread_id=thread["id"])
    first = await notify(alice.user, post, NotificationKind.POST_APPROVED)
    second = await notify(alice.user, post, NotificationKind.POST_REJECTED)
    await notify(bob.user, post, NotificationKind.POST_APPROVED)
    earlier = post.created_at - timedelta(days=3)
    await Notification.filter(id=first.id).update(created_at=earlier)
    await log_in(client, "alice")
    page = await client.get("/notifications")
    assert "<h2" in page.text and "今日" in page.text
    assert page.text.index("今日") < page.text.index(f"{earlier.astimezone(JST).day}日")
    token = token_in(page)
    # Another user's notice is not there to mark.
    others = await Notification.get(user_id=bob.user.id)
    missing = await client.post(f"/notifications/{others.id}/read", data={"csrf_token": token})
    assert missing.status_code == 404
    done = await client.post(f"/notifications/{second.id}/read", data={"csrf_token": token})
    assert (done.status_code, done.headers["location"]) == (303, "/notifications")
    unread = await Notification.filter(user_id=alice.user.id, read_at__isnull=True)
    assert [n.id for n in unread] == [first.id]


async def test_every_page_of_a_signed_in_user_follows_their_channel_for_the_count(
    client: httpx2.AsyncClient, alice: Member
) -> None:
    assert "notices.js" not in (await client.get("/")).text
    await log_in(client, "alice")
    home = await client.get("/")
    assert '<script type="module" src="/static/notices.js"></script>' in home.text
    assert f'data-channel="user:{alice.user.id}"' in home.text
    assert 'data-unread="0"' in home.text and "data-seq=" in home.text


async def test_a_followed_thread_shows_its_unread_posts_in_thread_lists_until_opened(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    for body in ("一件目の返信", "二件目の返信"):
        response = await client.post(
            f"/api/v1/threads/{thread['id']}/posts", json={"body": body}, headers=bob.headers
        )
        assert response.status_code == 201
    await outbox.settled()  # the writer's tracking starts after commit
    await log_in(client, "alice")
    board = await client.get("/b/kankei")
    thread_id = thread["id"]
    assert f'<a class="badge badge-unread" href="/t/{thread_id}#unread">未読2件</a>' in board.text
    assert "未読2件" in (await client.get("/")).text
    assert (await client.get(f"/t/{thread['id']}")).status_code == 200
    assert 'class="badge badge-unread"' not in (await client.get("/b/kankei")).text


async def test_the_notice_settings_page_turns_kinds_off_per_channel_and_sets_follow_levels(
    client: httpx2.AsyncClient, admin: Member, alice: Member, bob: Member
) -> None:
    await new_board(client, admin)
    thread = await new_thread(client, alice)
    await outbox.settled()  # starting the thread watches it
    await log_in(client, "alice")
    assert 'href="/settings/notifications"' in (await client.get("/settings")).text
    page = await client.get("/settings/notifications")
    assert page.status_code == 200 and "お知らせの設定" in page.text
    assert "ふるさと納税の活用" in page.text and "selected>ウォッチ" in page.text
    follow = re.search(r'name="follow-(\d+)"', page.text)
    assert follow
    kinds = [k.value for k in NotificationKind]
    form = {
        "csrf_token": token_in(page),
        "frequency": "daily",
        "page": [k for k in kinds if k != "mentioned"],
        "email": [k for k in kinds if k != "watched_post"],
        f"follow-{follow.group(1)}": "muted",
    }
    saved = await client.post("/settings/notifications", data=form)
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/settings/notifications?saved=1",
    )
    mine = (await client.get("/api/v1/me/mail", headers=alice.headers)).json()
    assert mine["frequency"] == "daily" and mine["email_kinds_off"] == ["watched_post"]
    level = await client.get(f"/api/v1/threads/{thread['id']}/follow", headers=alice.headers)
    assert level.json()["level"] == "muted"
    # A mention in another thread: turned off on the page, so no notice at all.
    other = await client.post(
        "/api/v1/boards/kankei/threads",
        json={"title": "別の話題", "body": "@alice さん、こちらも"},
        headers=bob.headers,
    )
    assert other.status_code == 201
    await outbox.settled()
    assert not await Notification.filter(user_id=alice.user.id).exists()
    bad = await client.post("/settings/notifications", data={**form, "frequency": "hourly"})
    assert bad.status_code == 422
